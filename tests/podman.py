"""A real Docker-compatible engine for tests: Podman's API service on a private socket and store.

Registered as a pytest plugin (`pytest_plugins = ["tests.podman"]`). The service gets its own storage root, run root,
tmp dir and file locks, so tests never see (or disturb) containers anyone else has on the machine. Images cannot be
pulled here: `local/busybox:1` is imported from /bin/busybox.

Fixtures: `podman_service` (session) and `podman_containers` (session: the contrasting set in CONTAINER_SPECS).
Without a `podman` binary, or when the service does not come up, the tests that use them are skipped; with
PLIMSOLL_REQUIRE_PODMAN=1 (CI, `.ci/run`) they fail instead, with the reason, so a broken CI machine is never green.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

IMAGE = "localhost/local/busybox:1"
START_TIMEOUT = 30.0
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
lock_type = "file"
events_logger = "file"
tmp_dir = "{tmp_dir}"
"""
REQUIRE_PODMAN_ENV = "PLIMSOLL_REQUIRE_PODMAN"
SECRET_ENV = {"DB_PASSWORD": "not-a-real-secret-5f0c1e", "API_TOKEN": "tok_live_9a8b7c6d5e4f"}


@dataclass(frozen=True)
class ContainerSpec:
    """One container of the contrasting set: `podman create` flags, and whether it is started."""

    name: str
    flags: tuple[str, ...]
    command: tuple[str, ...] = ("sleep", "3600")
    start: bool = True
    exit_after_start: bool = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def contrasting_specs(prefix: str = "pl", web_port: int | None = None) -> list[ContainerSpec]:
    """The settings CIS section 5 tells apart; one exited and several never-started containers among them."""
    port = web_port or free_port()
    env = tuple(f for k, v in SECRET_ENV.items() for f in ("-e", f"{k}={v}"))
    return [
        ContainerSpec(f"{prefix}-privileged", ("--privileged",)),
        ContainerSpec(
            f"{prefix}-hardened",
            (
                "--read-only",
                "--memory",
                "64m",
                "--pids-limit",
                "50",
                "--security-opt",
                "no-new-privileges",
                "--cap-drop",
                "ALL",
                "--user",
                "1000",
                *env,
            ),
        ),
        ContainerSpec(f"{prefix}-web", ("-p", f"127.0.0.1:{port}:8080", "--cap-add", "NET_ADMIN", *env)),
        ContainerSpec(f"{prefix}-hostnet", ("--network", "host", "-v", "/etc:/host-etc:ro")),
        ContainerSpec(f"{prefix}-hostpid", ("--pid", "host", "--security-opt", "seccomp=unconfined")),
        ContainerSpec(
            f"{prefix}-health",
            ("--health-cmd", "true", "--health-interval", "30s", "--health-retries", "3", "--memory", "32m"),
        ),
        ContainerSpec(f"{prefix}-restart", ("--restart", "on-failure:3", "-v", "/etc:/host-etc"), start=False),
        ContainerSpec(
            f"{prefix}-published",
            ("-p", "127.0.0.1:8080:8080", "--cap-add", "SYS_ADMIN", *env),
            start=False,
        ),
        ContainerSpec(f"{prefix}-exited", ("--user", "1000"), command=("true",), exit_after_start=True),
    ]


@dataclass
class PodmanService:
    """A running `podman system service` on its own socket and store."""

    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    created: list[str] = field(default_factory=list)

    @property
    def socket_path(self) -> Path:
        return self.workdir / "podman.sock"

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.workdir / "containers.conf")}

    def command(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.workdir / "root"), "--runroot", str(self.workdir / "run"), *args]

    def podman(self, *args: str, input: bytes | None = None) -> str:  # noqa: A002
        done = subprocess.run(self.command(*args), input=input, capture_output=True, env=self.env, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
        return done.stdout.decode().strip()

    def start(self) -> None:
        (self.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        (self.workdir / "containers.conf").write_text(CONTAINERS_CONF.format(tmp_dir=self.workdir / "tmp"))
        log = open(self.workdir / "service.log", "wb")  # noqa: SIM115 - kept open for the service's lifetime
        self.process = subprocess.Popen(
            self.command("system", "service", "--time=0", self.base_url),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"podman system service did not start: {(self.workdir / 'service.log').read_text()}")
            time.sleep(0.1)

    def answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(2)
                sock.connect(str(self.socket_path))
                sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
                return b" 200 " in sock.recv(64)
        except OSError:
            return False

    def import_busybox(self, tag: str = IMAGE) -> str:
        rootfs = self.workdir / "rootfs"
        (rootfs / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
        applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout
        for applet in applets.split():
            link = rootfs / "bin" / applet
            if not link.exists():
                link.symlink_to("busybox")
        tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
        name = tag.removeprefix("localhost/")
        return self.podman("import", "--change", 'CMD ["/bin/sh"]', "-", name, input=tar).splitlines()[-1]

    def create(self, spec: ContainerSpec, image: str = IMAGE) -> str:
        container_id = self.podman("create", "--name", spec.name, *spec.flags, image, *spec.command)
        self.created.append(container_id)
        if spec.start or spec.exit_after_start:
            self.podman("start", container_id)
        if spec.exit_after_start:
            self.podman("wait", container_id)
        if "--health-cmd" in spec.flags:
            self.podman("healthcheck", "run", container_id)
        return container_id

    def remove(self, *names_or_ids: str) -> None:
        if names_or_ids:
            self.podman("rm", "-f", "-t", "0", *names_or_ids)

    def listener_pid(self) -> int | None:
        """The PID of the process listening on our socket (podman may re-exec, so not necessarily Popen's)."""
        inode = None
        for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 8 and fields[-1] == str(self.socket_path) and fields[5] == "01":
                inode = fields[6]
        if inode is None:
            return None
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fds = list((proc / "fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return int(proc.name)
                except OSError:
                    continue
        return None

    def stop(self) -> None:
        try:
            self.podman("rm", "-a", "-f", "-t", "0")
            self.podman("rmi", "-a", "-f")
        except (OSError, RuntimeError, subprocess.SubprocessError):
            pass
        pids = {pid for pid in (self.listener_pid(), self.process.pid if self.process else None) if pid}
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        if self.process:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue


def start_podman(workdir: Path | None = None) -> PodmanService:
    if shutil.which("podman") is None:
        raise FileNotFoundError("podman is not installed")
    # AF_UNIX paths are limited to 108 bytes, so the socket lives in a short tmp dir.
    service = PodmanService(Path(workdir or tempfile.mkdtemp(prefix="plimsoll-podman-")))
    try:
        service.start()
        service.import_busybox()
    except BaseException:
        service.stop()
        if workdir is None:
            shutil.rmtree(service.workdir, ignore_errors=True)
        raise
    return service


def podman_required() -> bool:
    return os.environ.get(REQUIRE_PODMAN_ENV, "").strip().lower() not in ("", "0", "false", "no")


def podman_unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the run requires Podman: a CI machine without it must not pass by skipping."""
    if podman_required():
        pytest.fail(f"{reason} ({REQUIRE_PODMAN_ENV} is set, so the podman tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


def start_session_service() -> PodmanService:
    if shutil.which("podman") is None:
        podman_unavailable("podman is not installed (apt-get install podman runc busybox-static); CI installs it")
    try:
        return start_podman()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        podman_unavailable(f"the Podman service did not come up: {exc}")


@pytest.fixture(scope="session")
def podman_service() -> Iterator[PodmanService]:
    service = start_session_service()
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(service.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def podman_containers(podman_service: PodmanService) -> dict[str, str]:
    """name -> container id for the contrasting set, created once per session."""
    return {spec.name: podman_service.create(spec) for spec in contrasting_specs(prefix="pl")}

