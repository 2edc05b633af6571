"""Host labels from the agent's configuration: --label, --labels-file, validation, and agent.labels in the snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory.agent import cli
from inventory.agent.labels import LabelError, agent_labels, parse_label, read_labels_file
from inventory.snapshot_format import validate_snapshot
from tests.agent.conftest import FakeEngine, FakeHost


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, fake_engine: FakeEngine) -> FakeEngine:
    monkeypatch.setattr(cli, "connect", lambda docker_host: fake_engine)
    return fake_engine


def collect(fake_host: FakeHost, tmp_path: Path, *options: str) -> tuple[int, dict | None]:
    out = tmp_path / "snap.json"
    code = cli.main(["collect", "--host-root", str(fake_host.root), "-o", str(out), *options])
    return code, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("env=prod", ("env", "prod")),
        ("team.example.com/owner=payments", ("team.example.com/owner", "payments")),
        ("pci-scope=", ("pci-scope", "")),
        (" zone = eu-west-1 ", ("zone", "eu-west-1")),
        ("note=a=b", ("note", "a=b")),
        ("k" * 63 + "=" + "v" * 63, ("k" * 63, "v" * 63)),
    ],
)
def test_it_parses_a_valid_label(text: str, label: tuple[str, str]) -> None:
    assert parse_label(text) == label


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("env", "is not KEY=VALUE"),
        ("=prod", "bad label key ''"),
        ("-env=prod", "bad label key '-env'"),
        ("en v=prod", "bad label key 'en v'"),
        ("env!=prod", "bad label key 'env!'"),
        ("k" * 64 + "=x", "bad label key"),
        ("env=" + "v" * 64, "64 characters long \\(at most 63\\)"),
    ],
)
def test_it_rejects_a_bad_label_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(LabelError, match=reason):
        parse_label(text)


def test_it_reads_a_labels_file_with_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_text("# set by the provisioning job\nenv=prod\n\n   # indented comment\nrole = web\n")

    assert read_labels_file(path) == [("env", "prod"), ("role", "web")]


def test_it_names_the_file_and_line_of_a_bad_label(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_text("env=prod\nnot a label\n")

    with pytest.raises(LabelError, match=f"^{path}:2: 'not a label' is not KEY=VALUE$"):
        read_labels_file(path)


def test_it_lets_a_command_line_label_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_text("env=staging\nrole=web\n")

    assert agent_labels(["env=prod", "pci=cde"], path) == {"env": "prod", "role": "web", "pci": "cde"}


def test_it_sends_the_labels_in_the_snapshot(engine: FakeEngine, fake_host: FakeHost, tmp_path: Path) -> None:
    labels_file = tmp_path / "labels"
    labels_file.write_text("# from /etc/plimsoll/labels\nenv=staging\ndatacenter=fra1\n")

    code, document = collect(
        fake_host, tmp_path, "--labels-file", str(labels_file), "--label", "env=prod", "--label", "pci.scope/cde=yes"
    )

    assert code == 0
    assert document is not None
    assert document["agent"]["labels"] == {"env": "prod", "datacenter": "fra1", "pci.scope/cde": "yes"}
    validate_snapshot(document)  # the server's own rules accept what the agent accepts


def test_it_sends_no_labels_when_none_are_configured(engine: FakeEngine, fake_host: FakeHost, tmp_path: Path) -> None:
    code, document = collect(fake_host, tmp_path)

    assert code == 0
    assert document is not None and document["agent"]["labels"] == {}


@pytest.mark.parametrize("command", ["collect", "push", "run"])
def test_it_exits_2_with_the_reason_for_a_bad_label_before_collecting(
    command: str, engine: FakeEngine, fake_host: FakeHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "token"
    token.write_text("t\n")
    sending = ["--server", "http://127.0.0.1:9", "--token-file", str(token), "--spool-dir", str(tmp_path / "spool")]
    extra = {"collect": [], "push": sending, "run": [*sending, "--interval", "1", "--iterations", "1"]}[command]

    code = cli.main([command, "--host-root", str(fake_host.root), "--label", "env=" + "x" * 70, *extra])

    assert code == 2
    assert capsys.readouterr().err == ("plimsoll-agent: --label: the value of label 'env' is 70 characters long (at most 63)\n")
    assert engine.calls == []
    assert not (tmp_path / "spool").exists()


def test_it_exits_2_for_an_unreadable_labels_file(
    engine: FakeEngine, fake_host: FakeHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["collect", "--host-root", str(fake_host.root), "--labels-file", str(tmp_path / "nope")])

    assert code == 2
    assert f"cannot read labels file {tmp_path / 'nope'}: No such file or directory" in capsys.readouterr().err
    assert engine.calls == []


def test_it_checks_labels_even_when_push_collects_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = tmp_path / "token"
    token.write_text("t\n")

    code = cli.main(
        ["push", "--no-collect", "--server", "http://127.0.0.1:9", "--token-file", str(token),
         "--spool-dir", str(tmp_path / "spool"), "--label", "bad key=x"]
    )  # fmt: skip

    assert code == 2
    assert "bad label key 'bad key'" in capsys.readouterr().err
