"""plimsoll-agent: collect a snapshot of this Docker host, push it to a Plimsoll server, or do both forever.

Exit codes: 0 done; 1 Docker or the server could not be reached, or answered unexpectedly (the snapshot stays
spooled); 2 bad usage: an unreadable token file, a bad label, no machine id; 3 the server refused the token
(401/403); 4 the server rejected a snapshot (kept in <spool>/rejected/ with its answer).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inventory.agent import __version__
from inventory.agent.collect.host import read_machine_id
from inventory.agent.hostfs import HostFS
from inventory.agent.labels import MAX_VALUE_LENGTH, LabelError, agent_labels
from inventory.agent.push import AuthRejected, Pusher, PushError, PushResult
from inventory.agent.snapshot import DockerUnreachable, collect_snapshot, connect
from inventory.agent.spool import Spool, SpoolError, write_atomic

PROG = "plimsoll-agent"
DEFAULT_SPOOL_DIR = "/var/lib/plimsoll-agent/spool"
EXIT_OK = 0
EXIT_UNREACHABLE = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_REJECTED = 4
MAX_MACHINE_ID_LENGTH = 128  # the server's Host.machine_id


class UsageError(Exception):
    pass


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--docker-host",
        default=None,
        help="engine API URL, e.g. unix:///run/podman/podman.sock (default: DOCKER_HOST, else the local socket)",
    )
    common.add_argument("--host-root", default="/", help="where the host's / is mounted (default: /)")
    common.add_argument(
        "--machine-id",
        default=None,
        metavar="ID",
        help="this host's id, for hosts without /etc/machine-id (default: read /etc/machine-id below --host-root)",
    )
    common.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a host label sent as agent.labels (repeatable; value at most {MAX_VALUE_LENGTH} characters)",
    )
    common.add_argument(
        "--labels-file",
        type=Path,
        metavar="FILE",
        help="host labels, one key=value a line, # comments; a --label for the same key wins",
    )
    sending = argparse.ArgumentParser(add_help=False)
    sending.add_argument("--server", required=True, help="Plimsoll server URL, e.g. https://plimsoll.example.com")
    sending.add_argument("--token-file", required=True, type=Path, help="file holding the agent token")
    sending.add_argument("--spool-dir", type=Path, default=Path(DEFAULT_SPOOL_DIR), help="default: %(default)s")
    sending.add_argument("--retries", type=int, default=4, help="retries per snapshot (default: %(default)s)")
    sending.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds (default: 1)")
    sending.add_argument("--max-backoff", type=float, default=60.0, help="longest retry delay (default: 60)")
    commands = parser.add_subparsers(dest="command", required=True)

    collect = commands.add_parser("collect", parents=[common], help="collect one snapshot")
    collect.add_argument("-o", "--output", type=Path, help="write the snapshot here (default: stdout)")
    collect.add_argument("--spool-dir", type=Path, help="add the snapshot to this spool instead")

    push = commands.add_parser("push", parents=[common, sending], help="collect a snapshot, then send the spool")
    push.add_argument("--no-collect", action="store_true", help="only send what is already spooled")
    push.add_argument("files", nargs="*", type=Path, help="snapshot files to spool and send as well")

    run = commands.add_parser("run", parents=[common, sending], help="collect and send every --interval seconds")
    run.add_argument("--interval", type=float, required=True, help="seconds between collections")
    run.add_argument("--iterations", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read token file {path}: {exc.strerror or exc}") from exc
    if not token:
        raise UsageError(f"token file {path} is empty")
    return token


@dataclass(frozen=True)
class Identity:
    """What the agent's configuration says about the host: its machine id and its labels."""

    machine_id: str
    labels: dict[str, str] = field(default_factory=dict)


def machine_id_of(args: argparse.Namespace) -> str:
    if args.machine_id is not None:
        machine_id = args.machine_id.strip()
        if not machine_id or len(machine_id) > MAX_MACHINE_ID_LENGTH or any(ch.isspace() for ch in machine_id):
            raise UsageError(f"--machine-id must be 1 to {MAX_MACHINE_ID_LENGTH} characters without spaces")
        return machine_id
    try:
        return read_machine_id(HostFS(args.host_root))
    except OSError as exc:
        where = "" if os.path.abspath(args.host_root) == "/" else f" below --host-root {args.host_root}"
        raise UsageError(f"cannot tell this host's machine id{where}: {exc}; pass --machine-id ID") from exc


def labels_of(args: argparse.Namespace) -> dict[str, str]:
    try:
        return agent_labels(args.label, args.labels_file)
    except LabelError as exc:
        raise UsageError(str(exc)) from exc


def identity_of(args: argparse.Namespace) -> Identity:
    """Checked before anything is collected or sent, so a bad label or a missing machine id costs nothing."""
    return Identity(machine_id_of(args), labels_of(args))


def collect_once(args: argparse.Namespace, identity: Identity) -> dict[str, Any]:
    api = connect(args.docker_host)
    try:
        return collect_snapshot(api, host_root=args.host_root, machine_id=identity.machine_id, labels=identity.labels)
    finally:
        api.close()


def cmd_collect(args: argparse.Namespace) -> int:
    document = collect_once(args, identity_of(args))
    for error in document["agent"]["errors"]:
        log(f"could not read {error['collector']}: {error['error']}")
    if args.spool_dir:
        log(f"spooled {Spool(args.spool_dir).add(document)}")
    elif args.output:
        write_atomic(args.output, json.dumps(document, indent=2, sort_keys=True).encode() + b"\n")
    else:
        json.dump(document, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    return EXIT_OK


def spool_files(spool: Spool, files: Sequence[Path]) -> None:
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read snapshot {path}: {exc}") from exc
        try:
            spool.add(document)
        except SpoolError as exc:
            raise UsageError(f"cannot spool snapshot {path}: {exc}") from exc


def warn_strays(spool: Spool) -> None:
    """Anything in the spool folder not named like a snapshot is never sent: say so rather than ignore it."""
    for path in spool.strays():
        log(
            f"{path} is not named like a spooled snapshot (<collected_at>-<sha256>.json) and will not be sent; "
            "give it to `push FILE` to spool it under the right name, or remove it"
        )


def make_pusher(args: argparse.Namespace, spool: Spool) -> Pusher:
    return Pusher(
        args.server,
        read_token(args.token_file),
        spool,
        retries=args.retries,
        base_delay=args.backoff,
        max_delay=args.max_backoff,
        log=log,
    )


def report(result: PushResult, spool: Spool) -> int:
    left = len(spool.pending())
    log(f"{len(result.delivered)} delivered, {len(result.rejected)} rejected, {left} left in {spool.directory}")
    return EXIT_REJECTED if result.rejected else EXIT_OK


def cmd_push(args: argparse.Namespace) -> int:
    spool = Spool(args.spool_dir)
    pusher = make_pusher(args, spool)  # an unreadable token fails before anything is collected
    if args.no_collect:
        labels_of(args)  # labels go only into new snapshots, but a bad one is bad usage all the same
    identity = None if args.no_collect else identity_of(args)
    spool.ensure()
    spool.clean_stale_tmp()
    spool_files(spool, args.files)
    docker_down: DockerUnreachable | None = None
    if identity is not None:
        try:
            spool.add(collect_once(args, identity))
        except DockerUnreachable as exc:
            # What was collected before Docker went away is still worth delivering.
            docker_down = exc
            log(f"{exc}; sending what is already spooled")
    warn_strays(spool)
    status = report(pusher.push_all(), spool)
    if docker_down is not None:
        log(str(docker_down))
        return EXIT_UNREACHABLE
    return status


def cmd_run(args: argparse.Namespace) -> int:
    spool = Spool(args.spool_dir)
    pusher = make_pusher(args, spool)
    identity = identity_of(args)
    spool.ensure()
    done = 0
    status = EXIT_OK
    while args.iterations is None or done < args.iterations:
        started = time.monotonic()
        spool.clean_stale_tmp()
        try:
            spool.add(collect_once(args, identity))
        except DockerUnreachable as exc:
            log(f"{exc}; will try again in {args.interval:g}s")
        warn_strays(spool)
        try:
            status = report(pusher.push_all(), spool)
        except AuthRejected:
            raise
        except PushError as exc:
            log(f"{exc}; {len(spool.pending())} snapshot(s) kept in {spool.directory}")
            status = EXIT_UNREACHABLE
        done += 1
        if args.iterations is None or done < args.iterations:
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    return status


COMMANDS = {"collect": cmd_collect, "push": cmd_push, "run": cmd_run}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "interval", 1) <= 0:
        log("--interval must be positive")
        return EXIT_USAGE
    if not os.path.isdir(args.host_root):
        log(f"--host-root {args.host_root} is not a directory")
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except (UsageError, SpoolError) as exc:
        log(str(exc))
        return EXIT_USAGE
    except DockerUnreachable as exc:
        log(str(exc))
        return EXIT_UNREACHABLE
    except AuthRejected as exc:
        log(str(exc))
        return EXIT_AUTH
    except PushError as exc:
        log(f"{exc}; the snapshots stay spooled in {args.spool_dir}")
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130
