"""Section 6: security operations (image and container sprawl), judged against the site's thresholds."""

from __future__ import annotations

from typing import Any

from compliance.engine.context import Context
from compliance.engine.core import FAIL, MANUAL, PASS, Check, DataUnavailable, Kind, MissingData, Scope, Verdict

HOST, POLICY = Scope.HOST, Kind.POLICY


def unreadable(ctx: Context, first: str, second: str | None, evidence: dict[str, Any]) -> str:
    """A note on the objects the agent could not read (targeted errors), added to the evidence; "" when none."""
    notes = []
    for collector in (first, second) if second else (first,):
        ids = ctx.unreadable(collector)
        if ids:
            evidence[f"agent.errors[{collector}].targets"] = ids
            notes.append(f"{len(ids)} {collector.removeprefix('docker.')} unreadable")
    return f" ({', '.join(notes)})" if notes else ""


def check_image_sprawl(ctx: Context) -> Verdict:
    if ctx.images is None:
        raise MissingData("docker.images")
    if ctx.containers is None:
        raise MissingData("docker.containers")
    used = {c.inspect.get("Image") for c in ctx.containers}
    unused = [i.name for i in ctx.images if i.id not in used]
    evidence = {"docker.images.count": len(ctx.images), "docker.images.unused": len(unused),
                "docker.images.unused_names": sorted(unused)[:20]}  # fmt: skip
    limit = ctx.policy.max_unused_images
    summary = f"{len(ctx.images)} images, {len(unused)} not used by any container"
    unread = unreadable(ctx, "docker.images", "docker.containers", evidence)
    if limit is None:
        return MANUAL, f"{summary}{unread}: confirm this is not sprawl", evidence
    evidence["policy.max_unused_images"] = limit
    if unread and (ctx.unreadable("docker.containers") or len(unused) <= limit):
        # A container not seen may use an "unused" image; an image not seen may be unused: the count is not known.
        raise DataUnavailable(f"{summary}{unread}: the count of unused images is not known", evidence)
    if len(unused) > limit:
        return FAIL, f"{summary}{unread} (the policy allows {limit})", evidence
    return PASS, f"{summary}, within the policy's {limit}", evidence


def check_container_sprawl(ctx: Context) -> Verdict:
    if ctx.containers is None:
        raise MissingData("docker.containers")
    running = sum(1 for c in ctx.containers if c.running)
    stopped = len(ctx.containers) - running
    evidence = {"docker.containers.count": len(ctx.containers), "docker.containers.running": running,
                "docker.containers.stopped": stopped}  # fmt: skip
    limit = ctx.policy.max_stopped_containers
    summary = f"{len(ctx.containers)} containers, {stopped} stopped"
    unread = unreadable(ctx, "docker.containers", None, evidence)
    if limit is None:
        return MANUAL, f"{summary}{unread}: confirm this is not sprawl", evidence
    evidence["policy.max_stopped_containers"] = limit
    if stopped > limit:
        return FAIL, f"{summary}{unread} (the policy allows {limit} stopped)", evidence
    if unread:
        # The containers not seen may be stopped: within the limit is not known.
        raise DataUnavailable(f"{summary}{unread}: the count of stopped containers is not known", evidence)
    return PASS, f"{summary}, within the policy's {limit}", evidence


CHECKS: list[Check] = [
    Check("6.1", "No image sprawl", HOST, POLICY, ("docker.images", "docker.containers"), check_image_sprawl,
          "policy.max_unused_images", "fail when more images than policy.max_unused_images are unused"),
    Check("6.2", "No container sprawl", HOST, POLICY, ("docker.containers",), check_container_sprawl,
          "policy.max_stopped_containers", "fail when more containers than policy.max_stopped_containers are stopped"),
]  # fmt: skip
