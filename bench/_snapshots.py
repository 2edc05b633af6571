"""Build large snapshots for benchmarks from the real Podman samples: containers replicated with distinct ids."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "samples"


def base_snapshot() -> dict[str, Any]:
    return json.loads(sorted(SAMPLES.glob("snapshot_*.json"))[0].read_text())


def big_snapshot(containers: int = 200, seq: int = 0, machine_id: str | None = None) -> dict[str, Any]:
    """A snapshot with `containers` containers cloned round-robin from the sample; `seq` makes it unique."""
    doc = base_snapshot()
    templates = doc["docker"]["containers"]
    clones = []
    for i in range(containers):
        item = copy.deepcopy(templates[i % len(templates)])
        cid = hashlib.sha256(f"{seq}-{i}".encode()).hexdigest()
        item["inspect"]["Id"] = cid
        item["inspect"]["Name"] = f"/bench-{i:04d}"
        clones.append(item)
    doc["docker"]["containers"] = clones
    day, hour, minute, second = 1 + seq // 86400 % 28, seq // 3600 % 24, seq // 60 % 60, seq % 60
    doc["agent"]["collected_at"] = f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    doc["host"]["machine_id"] = machine_id or f"bench-{seq:08d}"
    doc["host"]["hostname"] = f"bench-{seq:05d}"
    return doc
