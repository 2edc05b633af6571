"""Host labels from the agent's configuration (`--label KEY=VALUE`, `--labels-file FILE`), sent as agent.labels.

The server takes a host's labels from three places: an admin, the agent (these) and rules on host facts. The rules
here are the server's own (inventory.snapshot_format), so a label the agent accepts is never a rejected snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}$")
MAX_VALUE_LENGTH = 63
# Control characters (NUL included) and lone surrogates cannot be stored or shown; a value is printable text.
BAD_VALUE_RE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def value_problem(value: str) -> str | None:
    """Why `value` cannot be a label value, or None."""
    if len(value) > MAX_VALUE_LENGTH:
        return f"{len(value)} characters long (at most {MAX_VALUE_LENGTH})"
    if BAD_VALUE_RE.search(value):
        return "contains a control character or an invalid character"
    return None


class LabelError(ValueError):
    """A label that is not `key=value` with a valid key and a short enough value; the message says which and why."""


def parse_label(text: str, where: str = "--label") -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep:
        raise LabelError(f"{where}: {text!r} is not KEY=VALUE")
    if not KEY_RE.fullmatch(key):
        raise LabelError(f"{where}: bad label key {key!r}: 1 to 63 letters, digits or _.-/, starting with a letter or digit")
    if (problem := value_problem(value)) is not None:
        raise LabelError(f"{where}: the value of label {key!r} is {problem}")
    return key, value


def read_labels_file(path: Path) -> list[tuple[str, str]]:
    """`key=value` lines; blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"cannot read labels file {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    labels = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            labels.append(parse_label(line, f"{path}:{number}"))
    return labels


def agent_labels(options: Iterable[str], labels_file: Path | None = None) -> dict[str, str]:
    """The labels file first, then each --label in order: a later value for the same key wins."""
    labels: dict[str, str] = {}
    if labels_file is not None:
        labels.update(read_labels_file(labels_file))
    labels.update(parse_label(option) for option in options)
    return labels
