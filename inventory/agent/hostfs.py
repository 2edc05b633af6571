"""Read the host's files below a root directory (`--host-root`), resolving symlinks inside that root.

An agent in a container sees the host at e.g. /host; an absolute symlink such as /var/run -> /run must then resolve
to /host/run, not to the container's own /run.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

MAX_SYMLINKS = 40


class HostFS:
    """The host's file system seen through `root`; every path argument is absolute as seen on the host."""

    def __init__(self, root: str | os.PathLike[str] = "/") -> None:
        self.root = os.path.abspath(os.fspath(root))

    @property
    def is_live(self) -> bool:
        """True when the root is this machine's own /, so commands and uname describe the same host."""
        return self.root == "/"

    def real(self, path: str, follow_last: bool = True) -> str:
        """The path on this machine for host `path`, with symlinks resolved inside the root."""
        parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
        resolved = "/"
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                resolved = posixpath.dirname(resolved)
                continue
            candidate = posixpath.join(resolved, part)
            on_disk = self._join(candidate)
            if (parts or follow_last) and os.path.islink(on_disk):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise OSError(f"too many levels of symbolic links: {path}")
                target = os.readlink(on_disk)
                base = "/" if target.startswith("/") else resolved
                parts = [p for p in target.split("/") if p and p != "."] + parts
                resolved = base
                continue
            resolved = candidate
        return self._join(resolved)

    def host_path(self, path: str) -> str:
        """The host path (as seen on the host) that `path` resolves to."""
        real = self.real(path)
        if self.is_live:
            return real
        return "/" + os.path.relpath(real, self.root) if real != self.root else "/"

    def _join(self, host_path: str) -> str:
        return os.path.join(self.root, host_path.lstrip("/")) if not self.is_live else host_path

    def read_text(self, path: str) -> str:
        return Path(self.real(path)).read_text(encoding="utf-8", errors="replace")

    def read_bytes(self, path: str) -> bytes:
        return Path(self.real(path)).read_bytes()

    def lstat(self, path: str) -> os.stat_result:
        return os.lstat(self.real(path, follow_last=False))

    def readlink(self, path: str) -> str:
        return os.readlink(self.real(path, follow_last=False))

    def exists(self, path: str) -> bool:
        try:
            return os.path.lexists(self.real(path, follow_last=False))
        except OSError:
            return False

    def is_file(self, path: str) -> bool:
        try:
            return os.path.isfile(self.real(path))
        except OSError:
            return False

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(self.real(path)))
