"""Settings from the environment; the deployment check with DEBUG off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (tests/browser/conftest.py); a deployment must not have it.
    dropped = {"PLIMSOLL_HTTPS", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_it_passes_the_deployment_check_with_debug_off(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="0", PLIMSOLL_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_generates_a_secret_key_once_into_the_var_dir(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = _manage("shell", "-c", code, PLIMSOLL_VAR_DIR=str(tmp_path))
    second = _manage("shell", "-c", code, PLIMSOLL_VAR_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50 and key == second.stdout.strip().splitlines()[-1]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_it_reads_the_database_and_broker_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], settings.CELERY_TASK_ALWAYS_EAGER, settings.PLIMSOLL_MAX_SNAPSHOT_BYTES)"
    )
    result = _manage(
        "shell", "-c", code, PLIMSOLL_VAR_DIR=str(tmp_path), DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/9", PLIMSOLL_MAX_SNAPSHOT_BYTES="1000",
    )
    assert result.stdout.split()[-4:] == ["django.db.backends.postgresql", "x", "False", "1000"]
    embedded = _manage("shell", "-c", code, PLIMSOLL_VAR_DIR=str(tmp_path), DATABASE_URL="", CELERY_BROKER_URL="")
    assert embedded.stdout.split()[-4:-2] == ["django.db.backends.sqlite3", str(tmp_path / "plimsoll.sqlite3")]
    assert embedded.stdout.split()[-2] == "True"
