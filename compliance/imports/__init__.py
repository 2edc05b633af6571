"""Imported scanner and signature evidence: Trivy scans, Cosign verifications, docker-bench-security logs."""
