"""Agent test helpers: a fake host tree, a fake engine API and a tiny HTTP server standing in for Plimsoll."""

from __future__ import annotations

import gzip
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class FakeHost:
    """Builds a host tree below `root` for --host-root."""

    root: Path

    def write(self, path: str, text: str = "", mode: int = 0o644, uid: int | None = None, gid: int | None = None) -> Path:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
        if uid is not None or gid is not None:
            os.chown(target, uid if uid is not None else -1, gid if gid is not None else -1)
        return target

    def mkdir(self, path: str, mode: int = 0o755) -> Path:
        target = self.root / path.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(mode)
        return target

    def symlink(self, path: str, target: str) -> Path:
        link = self.root / path.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
        return link


@pytest.fixture
def fake_host(tmp_path: Path) -> FakeHost:
    host = FakeHost(tmp_path / "host")
    host.mkdir("/")
    host.write("/etc/hostname", "fake01\n")
    host.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
    host.write("/etc/os-release", 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    host.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    host.write("/etc/group", "root:x:0:\nalice:x:1000:\ndocker:x:998:alice,bob\n")
    host.write("/proc/self/mountinfo", "")
    host.mkdir("/proc")
    return host


class FakeNotFound(Exception):
    """Shaped like docker.errors.NotFound: a response with status_code 404."""

    def __init__(self, what: str) -> None:
        super().__init__(f"404 Client Error: Not Found ({what})")
        self.response = type("Response", (), {"status_code": 404})()


class FakeAPIError(Exception):
    """Shaped like docker.errors.APIError: a message and a response with a status_code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} Server Error: {message}")
        self.response = type("Response", (), {"status_code": status})()


@dataclass
class FakeEngine:
    """Answers the low-level calls the agent makes, from plain dicts.

    `fail` maps a method name ("top") or a method and its target ("top:c1") to the exception that call raises;
    `history_` maps an image id to the history GET /images/{id}/history answers.
    """

    containers_: list[dict[str, Any]] = field(default_factory=list)
    images_: list[dict[str, Any]] = field(default_factory=list)
    info_: dict[str, Any] = field(default_factory=lambda: {"Swarm": {"LocalNodeState": "inactive"}})
    swarm_: dict[str, Any] | None = None
    history_: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail: dict[str, Exception] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def _call(self, name: str, target: str | None = None) -> None:
        self.calls.append(name)
        for key in (name, f"{name}:{target}"):
            if key in self.fail:
                raise self.fail[key]

    def info(self) -> dict[str, Any]:
        self._call("info")
        return self.info_

    def version(self) -> dict[str, Any]:
        self._call("version")
        return {"Version": "27.0.0", "ApiVersion": "1.46"}

    def containers(self, all: bool = False, quiet: bool = False) -> list[dict[str, Any]]:  # noqa: A002
        self._call("containers")
        return [{"Id": c["Id"]} for c in self.containers_] + [{"Id": "gone"}]

    def inspect_container(self, container: str) -> dict[str, Any]:
        self._call("inspect_container", container)
        for c in self.containers_:
            if c["Id"] == container:
                return c
        raise FakeNotFound(container)

    def top(self, container: str) -> dict[str, Any]:
        self._call("top", container)
        return {"Titles": ["PID", "CMD"], "Processes": [["1", "sleep"]]}

    def images(self) -> list[dict[str, Any]]:
        self._call("images")
        return [{"Id": i["Id"]} for i in self.images_]

    def inspect_image(self, image: str) -> dict[str, Any]:
        self._call("inspect_image", image)
        return next(i for i in self.images_ if i["Id"] == image)

    def history(self, image: str) -> list[dict[str, Any]]:
        self._call("history", image)
        return self.history_.get(image, [{"Id": image, "CreatedBy": "/bin/sh -c #(nop) ADD file in /"}])

    def networks(self) -> list[dict[str, Any]]:
        self._call("networks")
        return [{"Id": "n1", "Name": "bridge"}]

    def inspect_network(self, net_id: str) -> dict[str, Any]:
        self._call("inspect_network")
        return {"Id": net_id, "Name": "bridge", "Driver": "bridge", "Options": {}}

    def plugins(self) -> list[dict[str, Any]]:
        self._call("plugins")
        return []

    def inspect_swarm(self) -> dict[str, Any]:
        self._call("inspect_swarm")
        assert self.swarm_ is not None
        return self.swarm_

    def nodes(self) -> list[dict[str, Any]]:
        self._call("nodes")
        return [{"ID": "node1", "ManagerStatus": {"Leader": True}}]

    def services(self) -> list[dict[str, Any]]:
        self._call("services")
        return [{"ID": "s1", "Spec": {"TaskTemplate": {"ContainerSpec": {"Env": ["PW=swarm-secret"]}}}}]

    def secrets(self) -> list[dict[str, Any]]:
        self._call("secrets")
        return [{"ID": "sec1"}, {"ID": "sec2"}]

    def close(self) -> None:
        self.calls.append("close")


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def document(self) -> Any:
        raw = gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body
        return json.loads(raw)


@dataclass
class StubServer:
    """An HTTP server answering POSTs with the next (status, body) from `answers` (repeating the last).

    A dict body is sent as JSON; a str body as text/html (what a captive portal or a proxy answers).
    """

    url: str
    answers: list[tuple[int, dict[str, Any] | str]]
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def stub_server() -> Iterator[Callable[..., StubServer]]:
    servers: list[ThreadingHTTPServer] = []

    def start(*answers: tuple[int, dict[str, Any] | str]) -> StubServer:
        stub = StubServer("", list(answers))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status, payload = stub.answers.pop(0) if len(stub.answers) > 1 else stub.answers[0]
                is_html = isinstance(payload, str)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8" if is_html else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        stub.url = f"http://127.0.0.1:{server.server_address[1]}"
        return stub

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
