"""Imports fixtures: the hand-made samples of each tool's documented output."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
TRIVY = SAMPLES / "trivy"
COSIGN = SAMPLES / "cosign"
BUSYBOX_ID = "sha256:dfee4338413dd000e4727f072ec68db740b63b5488a489c46800d9b2acf78fb3"
NGINX_DIGEST = "sha256:bc5eac5eafc581aeda3008b4b1f07ebba230de2f27d47767129a6a905c84f470"
DOCKER_BENCH = SAMPLES / "docker-bench"
BUSYBOX_DIGEST = "sha256:43557c4bbe12e305454646533919b1de01a05ee331d93dacfd6bf92181bc7a97"
