"""The list of all checks and `evaluate`, which runs each over its targets in one pass."""

from __future__ import annotations

from typing import Any

from compliance.engine import daemon, daemon_files, host, images, operations, runtime, runtime_limits, swarm
from compliance.engine.context import Context
from compliance.engine.core import ERROR, NOT_APPLICABLE, Check, CheckResult, DataUnavailable, Scope, Status
from compliance.engine.policy import Policy


def _order(check: Check) -> tuple[int, ...]:
    return tuple(int(part) for part in check.control.split("."))


CHECKS: tuple[Check, ...] = tuple(
    sorted(
        [*host.CHECKS, *daemon.CHECKS, *daemon_files.CHECKS, *images.CHECKS, *runtime.CHECKS,
         *runtime_limits.CHECKS, *operations.CHECKS, *swarm.CHECKS],
        key=_order,
    )
)  # fmt: skip
CHECKS_BY_CONTROL: dict[str, Check] = {check.control: check for check in CHECKS}

# Malformed raw objects (a string where an object belongs) make a check's result `error`, not the whole run fail.
SHAPE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def _run(check: Check, ctx: Context, *target: Any) -> tuple[Status, str, dict[str, Any], Any]:
    try:
        verdict = check.func(ctx, *target)
    except DataUnavailable as exc:
        return ERROR, str(exc), exc.evidence, check.expected
    except SHAPE_ERRORS as exc:
        return ERROR, f"unexpected data shape ({type(exc).__name__}: {exc})", {}, check.expected
    if len(verdict) == 4:
        return verdict  # type: ignore[return-value]
    return verdict[0], verdict[1], verdict[2], check.expected


def evaluate(snapshot: dict[str, Any], policy: Policy | None = None) -> list[CheckResult]:
    """Judge one snapshot against every CIS Docker v1.6.0 recommendation: one result per check and target."""
    if not isinstance(snapshot, dict):
        raise TypeError("a snapshot is a JSON object")
    ctx = Context(snapshot, policy or Policy())
    host_doc = ctx.host if isinstance(ctx.host, dict) else {}
    host_name, host_id = str(host_doc.get("hostname") or ""), str(host_doc.get("machine_id") or "")
    results: list[CheckResult] = []
    append = results.append

    def on_host(check: Check, status: Status, message: str, evidence: dict[str, Any], expected: Any) -> None:
        append(CheckResult(check.control, "host", host_name, host_id, status, evidence, expected, message))

    for check in CHECKS:
        gate = ctx.gate(check.reads)
        if gate is not None:
            on_host(check, ERROR, gate, {"agent.errors": gate}, check.expected)
            continue
        if check.swarm_only:
            try:
                active = ctx.swarm_active()
            except DataUnavailable as exc:
                on_host(check, ERROR, str(exc), exc.evidence, check.expected)
                continue
            if not active:
                on_host(check, NOT_APPLICABLE, "swarm mode is not active on this host",
                        {"docker.info.Swarm.LocalNodeState": (ctx.info or {}).get("Swarm", {}).get("LocalNodeState")},
                        check.expected)  # fmt: skip
                continue
        scope = check.scope
        if scope is Scope.HOST:
            on_host(check, *_run(check, ctx))
            continue
        targets = ctx.containers if scope is Scope.CONTAINER else ctx.images
        if targets is None:
            path = "docker.containers" if scope is Scope.CONTAINER else "docker.images"
            on_host(check, ERROR, f"the snapshot lacks {path}", {path: None}, check.expected)
            continue
        if not targets:
            on_host(check, NOT_APPLICABLE, f"there are no {scope}s on this host", {}, check.expected)
            continue
        kind, control = str(scope), check.control
        if scope is Scope.CONTAINER:
            for c in targets:
                why = ctx.target_gate(check.reads, c.id)
                if why is not None:
                    status, message, evidence, expected = ERROR, why, {"agent.errors": why}, check.expected
                else:
                    status, message, evidence, expected = _run(check, ctx, c)
                append(CheckResult(control, kind, c.name, c.id, status, evidence, expected, message, c.state))
        else:
            for image in targets:
                # A listed image whose history the agent could not read (history null) is judged from its inspect;
                # the checks that read history are `error` on their own. Any other targeted error gates the image.
                why = None if image.history is None else ctx.target_gate(check.reads, image.id)
                if why is not None:
                    status, message, evidence, expected = ERROR, why, {"agent.errors": why}, check.expected
                else:
                    status, message, evidence, expected = _run(check, ctx, image)
                append(CheckResult(control, kind, image.name, image.id, status, evidence, expected, message))
    return results
