import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from inventory.agent import cli
from inventory.agent.spool import Spool
from tests.agent.conftest import FakeEngine, FakeHost, StubServer, unused_port

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "samples" / "snapshot_web01.json"


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine) -> FakeEngine:
    fake_engine.containers_ = [{"Id": "c1", "Name": "/web", "State": {"Running": True}, "Config": {"Env": ["PW=cli-secret"]}}]
    monkeypatch.setattr(cli, "connect", lambda docker_host: fake_engine)
    return fake_engine


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("plim_test_token\n")
    return path


def run_agent(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inventory.agent", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_it_exits_1_with_a_clear_message_when_docker_is_not_there(tmp_path: Path) -> None:
    done = run_agent("collect", "--docker-host", f"unix://{tmp_path}/x.sock")

    assert done.returncode == 1
    assert done.stderr == f"plimsoll-agent: cannot reach Docker at unix://{tmp_path}/x.sock: No such file or directory\n"
    assert done.stdout == ""


def test_it_reads_docker_host_from_the_environment() -> None:
    port = unused_port()

    done = run_agent("collect", env={"DOCKER_HOST": f"tcp://127.0.0.1:{port}"})

    assert done.returncode == 1
    assert done.stderr == f"plimsoll-agent: cannot reach Docker at tcp://127.0.0.1:{port}: Connection refused\n"


def test_it_spools_nothing_when_docker_cannot_be_reached(tmp_path: Path, token_file: Path) -> None:
    spool_dir = tmp_path / "spool"

    done = run_agent(
        "push",
        "--docker-host",
        f"unix://{tmp_path}/x.sock",
        "--server",
        "http://127.0.0.1:9",
        "--token-file",
        str(token_file),
        "--spool-dir",
        str(spool_dir),
    )

    assert done.returncode == 1
    assert "cannot reach Docker" in done.stderr
    assert Spool(spool_dir).pending() == []


def test_it_exits_1_and_keeps_the_snapshot_when_the_server_is_away(tmp_path: Path, token_file: Path) -> None:
    port = unused_port()
    spool_dir = tmp_path / "spool"

    done = run_agent(
        "push",
        "--no-collect",
        str(SAMPLE),
        "--server",
        f"http://127.0.0.1:{port}",
        "--token-file",
        str(token_file),
        "--spool-dir",
        str(spool_dir),
        "--retries",
        "0",
    )

    assert done.returncode == 1
    assert done.stderr == (
        f"plimsoll-agent: cannot reach the server at http://127.0.0.1:{port}: [Errno 111] Connection refused; "
        f"the snapshots stay spooled in {spool_dir}\n"
    )
    assert len(Spool(spool_dir).pending()) == 1


def test_it_exits_2_when_the_token_file_cannot_be_read(tmp_path: Path) -> None:
    code = cli.main(["push", "--server", "http://x", "--token-file", str(tmp_path / "nope"), "--spool-dir", "d"])

    assert code == 2


def test_it_collects_to_stdout_and_to_a_file(
    engine: FakeEngine, fake_host: FakeHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["collect", "--host-root", str(fake_host.root)]) == 0
    printed = json.loads(capsys.readouterr().out)
    out = tmp_path / "snap.json"
    assert cli.main(["collect", "--host-root", str(fake_host.root), "-o", str(out)]) == 0

    assert printed["host"]["hostname"] == "fake01"
    assert json.loads(out.read_text())["docker"]["containers"][0]["inspect"]["Id"] == "c1"
    assert "cli-secret" not in out.read_text()
    assert "close" in engine.calls


def test_it_pushes_a_fresh_snapshot_with_the_token(
    engine: FakeEngine,
    fake_host: FakeHost,
    tmp_path: Path,
    token_file: Path,
    stub_server: Callable[..., StubServer],
) -> None:
    stub = stub_server((201, {"id": 7, "host": 1, "received_at": "now", "evaluation": "queued"}))
    args = ["--server", stub.url, "--token-file", str(token_file), "--spool-dir", str(tmp_path / "spool")]

    code = cli.main(["push", "--host-root", str(fake_host.root), *args])

    assert code == 0
    assert len(stub.received) == 1
    assert stub.received[0].headers["authorization"] == "Bearer plim_test_token"
    assert stub.received[0].document()["host"]["machine_id"] == "0123456789abcdef0123456789abcdef"
    assert Spool(tmp_path / "spool").pending() == []


def test_it_exits_3_and_keeps_the_spool_when_the_token_is_refused(
    engine: FakeEngine,
    fake_host: FakeHost,
    tmp_path: Path,
    token_file: Path,
    stub_server: Callable[..., StubServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    stub = stub_server((401, {"error": "unauthorized", "detail": "unknown or revoked token"}))
    args = ["--server", stub.url, "--token-file", str(token_file), "--spool-dir", str(tmp_path / "spool")]

    code = cli.main(["push", "--host-root", str(fake_host.root), *args])

    assert code == 3
    assert "refused the agent token (401)" in capsys.readouterr().err
    assert len(Spool(tmp_path / "spool").pending()) == 1


def test_it_exits_4_when_the_server_rejects_a_snapshot(
    engine: FakeEngine,
    fake_host: FakeHost,
    tmp_path: Path,
    token_file: Path,
    stub_server: Callable[..., StubServer],
) -> None:
    answer = {"error": "invalid", "detail": {"path": "docker.containers[0].inspect.HostConfig", "reason": "bad"}}
    stub = stub_server((400, answer))
    spool_dir = tmp_path / "spool"
    args = ["--server", stub.url, "--token-file", str(token_file), "--spool-dir", str(spool_dir)]

    code = cli.main(["push", "--host-root", str(fake_host.root), *args])

    assert code == 4
    assert Spool(spool_dir).pending() == []
    rejected = sorted(p.name for p in (spool_dir / "rejected").iterdir())
    assert len(rejected) == 2 and rejected[0].endswith(".answer.json")
    assert json.loads(json.loads((spool_dir / "rejected" / rejected[0]).read_text())["answer"]) == answer


def test_it_runs_on_an_interval_spooling_while_the_server_is_away(
    engine: FakeEngine,
    fake_host: FakeHost,
    tmp_path: Path,
    token_file: Path,
    stub_server: Callable[..., StubServer],
) -> None:
    spool_dir = tmp_path / "spool"
    away = ["--server", f"http://127.0.0.1:{unused_port()}", "--retries", "0"]
    common = ["--host-root", str(fake_host.root), "--token-file", str(token_file), "--spool-dir", str(spool_dir)]

    code = cli.main(["run", "--interval", "0.01", "--iterations", "2", *common, *away])
    waiting = len(Spool(spool_dir).pending())
    stub = stub_server((201, {"id": 1}))
    code_back = cli.main(["run", "--interval", "0.01", "--iterations", "1", *common, "--server", stub.url])

    assert (code, waiting) == (1, 2)
    assert code_back == 0
    assert len(stub.received) == 3
    assert Spool(spool_dir).pending() == []


def test_it_imports_without_django() -> None:
    script = (
        "import sys, pkgutil, importlib\n"
        "class NoDjango:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'django' or name.startswith('django.'):\n"
        "            raise ImportError('django is not importable here')\n"
        "sys.meta_path.insert(0, NoDjango())\n"
        "import inventory.agent.cli\n"
        "for m in pkgutil.walk_packages(inventory.agent.__path__, 'inventory.agent.'):\n"
        "    if m.name != 'inventory.agent.__main__': importlib.import_module(m.name)\n"
        "assert 'django' not in sys.modules, 'django was imported'\n"
        "assert not [m for m in sys.modules if m.startswith('inventory.') and not m.startswith('inventory.agent')]\n"
        "print('ok')\n"
    )

    blocked = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    help_run = run_agent("--help")

    assert blocked.returncode == 0, blocked.stderr
    assert blocked.stdout == "ok\n"
    assert help_run.returncode == 0 and "collect" in help_run.stdout


def test_it_exits_2_and_asks_for_a_machine_id_when_the_host_has_none(
    engine: FakeEngine, fake_host: FakeHost, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_host.root / "etc/machine-id").unlink()

    code = cli.main(["collect", "--host-root", str(fake_host.root)])

    assert code == 2
    assert capsys.readouterr().err == (
        f"plimsoll-agent: cannot tell this host's machine id below --host-root {fake_host.root}: "
        "no machine id in /etc/machine-id or /var/lib/dbus/machine-id; pass --machine-id ID\n"
    )
    assert engine.calls == []


@pytest.mark.parametrize("has_own", [False, True])
def test_it_uses_the_machine_id_given_on_the_command_line(
    engine: FakeEngine, fake_host: FakeHost, tmp_path: Path, has_own: bool
) -> None:
    if not has_own:
        (fake_host.root / "etc/machine-id").unlink()
    out = tmp_path / "snap.json"

    code = cli.main(["collect", "--host-root", str(fake_host.root), "--machine-id", "vm-7f3a9c", "-o", str(out)])

    assert code == 0
    document = json.loads(out.read_text())
    assert document["host"]["machine_id"] == "vm-7f3a9c"
    assert [e for e in document["agent"]["errors"] if e["collector"] == "host"] == []


@pytest.mark.parametrize("value", ["", "   ", "two words", "x" * 129])
def test_it_exits_2_for_a_machine_id_the_server_would_refuse(
    engine: FakeEngine, fake_host: FakeHost, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["collect", "--host-root", str(fake_host.root), "--machine-id", value])

    assert code == 2
    assert "--machine-id must be 1 to 128 characters without spaces" in capsys.readouterr().err
    assert engine.calls == []


@pytest.mark.parametrize("command", ["push", "run"])
def test_it_spools_nothing_without_a_machine_id(
    command: str, engine: FakeEngine, fake_host: FakeHost, tmp_path: Path, token_file: Path
) -> None:
    (fake_host.root / "etc/machine-id").unlink()
    spool_dir = tmp_path / "spool"
    args = ["--host-root", str(fake_host.root), "--server", "http://127.0.0.1:9", "--token-file", str(token_file)]
    extra = ["--interval", "1", "--iterations", "1"] if command == "run" else []

    code = cli.main([command, *args, "--spool-dir", str(spool_dir), *extra])

    assert code == 2
    assert engine.calls == []
    assert Spool(spool_dir).pending() == []


def test_it_sends_what_is_spooled_then_exits_1_when_docker_is_down(
    tmp_path: Path, token_file: Path, stub_server: Callable[..., StubServer], capsys: pytest.CaptureFixture[str]
) -> None:
    spool_dir = tmp_path / "spool"
    Spool(spool_dir).add(json.loads(SAMPLE.read_text()))
    stub = stub_server((201, {"id": 1, "host": 1, "received_at": "now", "evaluation": "queued"}))
    docker_host = f"unix://{tmp_path}/docker.sock"

    code = cli.main(
        ["push", "--docker-host", docker_host, "--machine-id", "m-1", "--server", stub.url,
         "--token-file", str(token_file), "--spool-dir", str(spool_dir)]
    )  # fmt: skip

    assert code == 1
    assert [r.document() for r in stub.received] == [json.loads(SAMPLE.read_text())]
    assert Spool(spool_dir).pending() == []
    err = capsys.readouterr().err.splitlines()
    docker_error = f"plimsoll-agent: cannot reach Docker at {docker_host}: No such file or directory"
    assert err[0] == f"{docker_error}; sending what is already spooled"
    assert f"plimsoll-agent: 1 delivered, 0 rejected, 0 left in {spool_dir}" in err
    assert err[-1] == docker_error


def test_it_keeps_the_spool_when_both_docker_and_the_server_are_down(
    tmp_path: Path, token_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_dir = tmp_path / "spool"
    waiting = Spool(spool_dir).add(json.loads(SAMPLE.read_text()))

    code = cli.main(
        ["push", "--docker-host", f"unix://{tmp_path}/docker.sock", "--machine-id", "m-1", "--retries", "0",
         "--server", f"http://127.0.0.1:{unused_port()}", "--token-file", str(token_file), "--spool-dir", str(spool_dir)]
    )  # fmt: skip

    assert code == 1
    assert Spool(spool_dir).pending() == [waiting]
    err = capsys.readouterr().err
    assert "cannot reach Docker" in err and "cannot reach the server" in err


def test_it_exits_1_and_keeps_the_snapshot_when_a_portal_answers_200_html(
    tmp_path: Path, token_file: Path, stub_server: Callable[..., StubServer], capsys: pytest.CaptureFixture[str]
) -> None:
    stub = stub_server((200, "<html><body>Sign in to continue</body></html>"))
    spool_dir = tmp_path / "spool"
    args = ["--server", stub.url, "--token-file", str(token_file), "--spool-dir", str(spool_dir), "--retries", "0"]

    code = cli.main(["push", "--no-collect", str(SAMPLE), *args])

    assert code == 1
    err = capsys.readouterr().err
    assert f"answered 200 for {stub.url}/api/v1/snapshots/" in err
    assert "text/html" in err and "Sign in to continue" in err
    assert len(Spool(spool_dir).pending()) == 1


@pytest.mark.parametrize(("agent", "reason"), [({"collected_at": "2026-12-01"}, "not an RFC 3339"), ({}, "missing")])
def test_it_exits_2_for_a_file_without_an_rfc3339_collected_at(
    tmp_path: Path, token_file: Path, capsys: pytest.CaptureFixture[str], agent: dict[str, str], reason: str
) -> None:
    snapshot = tmp_path / "snap.json"
    document = json.loads(SAMPLE.read_text())
    document["agent"] = {**{k: v for k, v in document["agent"].items() if k != "collected_at"}, **agent}
    snapshot.write_text(json.dumps(document))
    spool_dir = tmp_path / "spool"
    args = ["--server", "http://127.0.0.1:9", "--token-file", str(token_file), "--spool-dir", str(spool_dir)]

    code = cli.main(["push", "--no-collect", str(snapshot), *args])

    assert code == 2
    err = capsys.readouterr().err
    assert f"cannot spool snapshot {snapshot}: agent.collected_at" in err and reason in err
    assert not any(p.is_file() for p in spool_dir.iterdir())


def test_it_reports_files_in_the_spool_it_will_never_send(
    tmp_path: Path, token_file: Path, stub_server: Callable[..., StubServer], capsys: pytest.CaptureFixture[str]
) -> None:
    stub = stub_server((201, {"id": 1, "host": 1, "received_at": "now", "evaluation": "queued"}))
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    stray = spool_dir / "20261201-0123.json"
    stray.write_text("{}")
    args = ["--server", stub.url, "--token-file", str(token_file), "--spool-dir", str(spool_dir)]

    code = cli.main(["push", "--no-collect", str(SAMPLE), *args])

    assert code == 0
    assert f"{stray} is not named like a spooled snapshot" in capsys.readouterr().err
    assert len(stub.received) == 1
    assert stray.exists()
