"""Section 7: Docker Swarm configuration; every check is not_applicable where swarm mode is inactive."""

from __future__ import annotations

from typing import Any

from compliance.engine.context import Context
from compliance.engine.core import FAIL, MANUAL, NOT_APPLICABLE, PASS, Check, Kind, MissingData, Scope, Verdict, dig
from compliance.engine.runtime import WILDCARDS

HOST, AUTO, POLICY, MAN = Scope.HOST, Kind.AUTOMATED, Kind.POLICY, Kind.MANUAL
SWARM = ("docker.info", "docker.swarm")
NS_PER_DAY = 86_400 * 10**9


def is_manager(ctx: Context) -> bool:
    swarm = ctx.docker.get("swarm")
    if isinstance(swarm, dict) and swarm.get("is_manager") is not None:
        return bool(swarm["is_manager"])
    return bool(dig(ctx.info, "Swarm.ControlAvailable"))


def swarm_spec(ctx: Context, path: str) -> tuple[Any, str]:
    """A field of the swarm's Spec, from GET /swarm or from docker info's Swarm.Cluster."""
    for source, root in (("docker.swarm.inspect", dig(ctx.docker.get("swarm"), "inspect")),
                         ("docker.info.Swarm.Cluster", dig(ctx.info, "Swarm.Cluster"))):  # fmt: skip
        value = dig(root, f"Spec.{path}")
        if value is not None:
            return value, f"{source}.Spec.{path}"
    raise MissingData(f"docker.swarm.inspect.Spec.{path}")


WORKER = "this node is a worker: judged on the managers"


def check_managers(ctx: Context) -> Verdict:
    if not is_manager(ctx):
        return NOT_APPLICABLE, WORKER, {"docker.info.Swarm.ControlAvailable": False}
    managers = dig(ctx.info, "Swarm.Managers")
    if managers is None:
        nodes = dig(ctx.docker.get("swarm"), "nodes")
        if nodes is None:
            raise MissingData("docker.info.Swarm.Managers")
        managers = sum(1 for n in nodes if isinstance(n, dict) and n.get("ManagerStatus"))
    evidence = {"docker.info.Swarm.Managers": managers}
    if managers % 2 == 1:
        return PASS, f"{managers} manager node(s): an odd number keeps a quorum", evidence
    return FAIL, f"{managers} manager nodes: use an odd number for a fault-tolerant quorum", evidence


def check_listen_interface(ctx: Context) -> Verdict:
    sockets = ctx.need_host("listening_sockets") or []
    swarm = [s for s in sockets if isinstance(s, dict) and s.get("port") == 2377]
    texts = [f"{s.get('addr')}:2377" for s in swarm]
    evidence = {"host.listening_sockets[port=2377]": texts}
    wild = [t for s, t in zip(swarm, texts, strict=True) if str(s.get("addr") or "") in WILDCARDS]
    if wild:
        return FAIL, f"the swarm management port listens on all interfaces: {', '.join(wild)}", evidence
    if not swarm:
        return PASS, "nothing listens on the swarm management port 2377 on this node", evidence
    return PASS, f"the swarm management port is bound to {', '.join(texts)}", evidence


def check_overlay_encryption(ctx: Context) -> Verdict:
    networks = ctx.docker.get("networks")
    if networks is None:
        raise MissingData("docker.networks")
    overlay = [n for n in networks if isinstance(n, dict) and n.get("Driver") == "overlay"]
    plain = sorted(str(n.get("Name")) for n in overlay if "encrypted" not in (n.get("Options") or {}))
    evidence = {"docker.networks[Driver=overlay]": sorted(str(n.get("Name")) for n in overlay), "unencrypted": plain}
    if plain:
        return FAIL, f"overlay networks without encryption: {', '.join(plain)}", evidence
    return PASS, f"all {len(overlay)} overlay network(s) are encrypted", evidence


def check_secrets(ctx: Context) -> Verdict:
    if not is_manager(ctx):
        return NOT_APPLICABLE, WORKER, {"docker.swarm.is_manager": False}
    count = dig(ctx.docker.get("swarm"), "secrets_count")
    if count is None:
        raise MissingData("docker.swarm.secrets_count")
    evidence = {"docker.swarm.secrets_count": count}
    if count:
        return PASS, f"{count} swarm secret(s) are managed by Docker", evidence
    return MANUAL, "no swarm secrets exist: confirm services need none", evidence


def check_autolock(ctx: Context) -> Verdict:
    if not is_manager(ctx):
        return NOT_APPLICABLE, WORKER, {"docker.swarm.is_manager": False}
    value, path = swarm_spec(ctx, "EncryptionConfig.AutoLockManagers")
    if value:
        return PASS, "swarm managers auto-lock", {path: value}
    return FAIL, "swarm managers do not auto-lock", {path: value}


def check_node_certs(ctx: Context) -> Verdict:
    if not is_manager(ctx):
        return NOT_APPLICABLE, WORKER, {"docker.swarm.is_manager": False}
    expiry, path = swarm_spec(ctx, "CAConfig.NodeCertExpiry")
    days = int(expiry) / NS_PER_DAY
    evidence: dict[str, Any] = {path: expiry, "days": round(days, 2)}
    limit = ctx.policy.max_node_cert_expiry_days
    if limit is None:
        return MANUAL, f"node certificates live {days:g} days: confirm this suits the site", evidence
    evidence["policy.max_node_cert_expiry_days"] = limit
    if days > limit:
        return FAIL, f"node certificates live {days:g} days (the policy allows {limit})", evidence
    return PASS, f"node certificates live {days:g} days, within the policy's {limit}", evidence


def manual(message: str) -> Any:
    def check(ctx: Context) -> Verdict:
        return MANUAL, message, {"docker.info.Swarm.LocalNodeState": dig(ctx.info, "Swarm.LocalNodeState")}

    return check


CHECKS: list[Check] = [
    Check("7.1", "Odd number of swarm managers", HOST, AUTO, SWARM, check_managers, "an odd manager count",
          "on a manager: fail when docker.info.Swarm.Managers is even", swarm_only=True),
    Check("7.2", "Swarm port bound to one interface", HOST, AUTO, SWARM + ("sockets",), check_listen_interface,
          "2377 on a specific address", "fail when port 2377 listens on 0.0.0.0, :: or *", swarm_only=True),
    Check("7.3", "Overlay networks encrypted", HOST, AUTO, ("docker.networks",) + SWARM, check_overlay_encryption,
          "Options.encrypted on every overlay", "fail when an overlay network lacks the encrypted option",
          swarm_only=True),
    Check("7.4", "Swarm secrets used", HOST, AUTO, SWARM, check_secrets, "at least one swarm secret",
          "pass when docker.swarm.secrets_count > 0; manual at 0", swarm_only=True),
    Check("7.5", "Managers auto-lock", HOST, AUTO, SWARM, check_autolock, "AutoLockManagers true",
          "fail when Spec.EncryptionConfig.AutoLockManagers is false", swarm_only=True),
    Check("7.6", "Auto-lock key rotated", HOST, MAN, (), manual("confirm the swarm unlock key is rotated periodically"),
          "reviewed", "manual: rotation history is not observable", swarm_only=True),
    Check("7.7", "Node certificates rotated", HOST, POLICY, SWARM, check_node_certs,
          "policy.max_node_cert_expiry_days", "fail when Spec.CAConfig.NodeCertExpiry exceeds the policy",
          swarm_only=True),
    Check("7.8", "CA certificates rotated", HOST, MAN, (), manual("confirm the swarm root CA is rotated as appropriate"),
          "reviewed", "manual: rotation history is not observable", swarm_only=True),
    Check("7.9", "Management and data traffic separated", HOST, MAN, (), manual(
        "confirm swarm management traffic uses a different interface from the data path (--data-path-addr)"),
          "reviewed", "manual: network design", swarm_only=True),
]  # fmt: skip
