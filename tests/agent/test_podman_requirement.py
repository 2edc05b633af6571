"""PLIMSOLL_REQUIRE_PODMAN: where Podman is required (CI), a missing or broken Podman fails the podman tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import podman
from tests.podman import REQUIRE_PODMAN_ENV, start_session_service


@pytest.fixture
def no_podman(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman.shutil, "which", lambda name: None)


@pytest.fixture
def broken_podman(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A `podman` on PATH whose service exits at once, as one does on a machine without a usable runtime."""
    fake = tmp_path / "bin" / "podman"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: no usable OCI runtime found' >&2\nexit 125\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    workdir = tmp_path / "service"
    monkeypatch.setattr(podman.tempfile, "mkdtemp", lambda prefix: str(workdir))
    return workdir


def test_it_skips_without_podman_when_not_required(no_podman: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_PODMAN_ENV, raising=False)

    with pytest.raises(pytest.skip.Exception, match="podman is not installed"):
        start_session_service()


@pytest.mark.parametrize("value", ["", "0"])
def test_it_skips_when_the_requirement_is_switched_off(no_podman: None, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(REQUIRE_PODMAN_ENV, value)

    with pytest.raises(pytest.skip.Exception):
        start_session_service()


def test_it_fails_without_podman_when_required(no_podman: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_PODMAN_ENV, "1")

    with pytest.raises(pytest.fail.Exception, match=f"podman is not installed.*{REQUIRE_PODMAN_ENV} is set"):
        start_session_service()


def test_it_fails_with_the_reason_when_the_service_does_not_come_up(broken_podman: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_PODMAN_ENV, "1")

    with pytest.raises(pytest.fail.Exception, match="did not come up.*no usable OCI runtime found") as failed:
        start_session_service()

    assert REQUIRE_PODMAN_ENV in str(failed.value)
    assert not broken_podman.exists()  # the half-started service's store is cleaned up


def test_it_skips_with_the_reason_when_the_service_does_not_come_up_and_is_not_required(
    broken_podman: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REQUIRE_PODMAN_ENV, raising=False)

    with pytest.raises(pytest.skip.Exception, match="did not come up.*no usable OCI runtime found"):
        start_session_service()

    assert not broken_podman.exists()
