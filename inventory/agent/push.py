"""Sending spooled snapshots to the server: gzip over HTTP(S), retries with exponential backoff and jitter."""

from __future__ import annotations

import gzip
import http.client
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inventory.agent import __version__
from inventory.agent.spool import Spool

SNAPSHOTS_PATH = "/api/v1/snapshots/"
HTTP_TIMEOUT = 60
DELIVERED = (200, 201)
REJECTED = (400, 413, 422)
AUTH_FAILED = (401, 403)
RETRYABLE = (408, 425, 429, 500, 502, 503, 504)


class PushError(Exception):
    """The spool could not be emptied; what is left stays spooled for the next try."""


class ServerUnreachable(PushError):
    pass


class AuthRejected(PushError):
    """401/403: the token is missing, wrong or revoked; retrying will not help."""


class ServerRefused(PushError):
    """An answer that is neither success nor a verdict on the snapshot (e.g. 404: wrong --server URL)."""


@dataclass
class Answer:
    status: int
    body: bytes
    location: str | None = None
    content_type: str | None = None


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without a body (or downgrade it): say so instead of following."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirects)


@dataclass
class PushResult:
    delivered: list[Path] = field(default_factory=list)
    rejected: list[Path] = field(default_factory=list)


def backoff_delay(attempt: int, base: float = 1.0, cap: float = 60.0, rand: Callable[[], float] = random.random) -> float:
    """Delay before retry `attempt` (0-based): exponential, capped, with "equal jitter" in [d/2, d]."""
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + rand() * ceiling / 2


def snapshots_url(server: str) -> str:
    return server.rstrip("/") + SNAPSHOTS_PATH


def post_snapshot(url: str, token: str, body: bytes, timeout: float = HTTP_TIMEOUT) -> Answer:
    """One POST; an HTTP error status is an Answer, a connection failure raises OSError."""
    request = urllib.request.Request(
        url,
        data=gzip.compress(body),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept": "application/json",
            "User-Agent": f"plimsoll-agent/{__version__}",
        },
    )
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return Answer(response.status, response.read(), content_type=response.headers.get("Content-Type"))
    except urllib.error.HTTPError as exc:
        headers = exc.headers
        return Answer(
            exc.code,
            exc.read() or b"",
            headers.get("Location") if headers else None,
            headers.get("Content-Type") if headers else None,
        )


def describe_answer(answer: Answer) -> str:
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return answer.body.decode("utf-8", errors="replace")[:500]
    return json.dumps(doc, sort_keys=True)[:500]


def stored_id(answer: Answer) -> int | None:
    """The snapshot id a real Plimsoll server answers 200/201 with; None for anything else (a portal's HTML page)."""
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return None
    snapshot_id = doc.get("id") if isinstance(doc, dict) else None
    return snapshot_id if isinstance(snapshot_id, int) and not isinstance(snapshot_id, bool) else None


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc)


class Pusher:
    """Sends a spool's snapshots in order, retrying each until the server gives a verdict or retries run out."""

    def __init__(
        self,
        server: str,
        token: str,
        spool: Spool,
        retries: int = 4,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        post: Callable[[str, str, bytes], Answer] = post_snapshot,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.server = server
        self.url = snapshots_url(server)
        self.token = token
        self.spool = spool
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.post = post
        self.log = log

    def send_one(self, path: Path) -> Answer:
        body = path.read_bytes()
        attempt = 0
        while True:
            try:
                answer = self.post(self.url, self.token, body)
            except (OSError, http.client.HTTPException) as exc:
                problem: PushError = ServerUnreachable(f"cannot reach the server at {self.server}: {_reason(exc)}")
            else:
                if answer.status not in RETRYABLE:
                    return answer
                problem = ServerUnreachable(f"the server at {self.server} answered {answer.status}: {describe_answer(answer)}")
            if attempt >= self.retries:
                raise problem
            delay = backoff_delay(attempt, self.base_delay, self.max_delay)
            self.log(f"{problem}; retry {attempt + 1}/{self.retries} in {delay:.1f}s")
            self.sleep(delay)
            attempt += 1

    def push_all(self) -> PushResult:
        """Oldest first; stops at the first snapshot that cannot be delivered so the order is kept."""
        result = PushResult()
        for path in self.spool.pending():
            answer = self.send_one(path)
            if answer.status in DELIVERED and stored_id(answer) is None:
                # Not Plimsoll's answer (a captive portal, a proxy's page): the snapshot may not be stored, keep it.
                what = f"{answer.content_type or 'no Content-Type'}: {describe_answer(answer)[:200]!r}"
                raise ServerRefused(
                    f"the server at {self.server} answered {answer.status} for {self.url} without the snapshot id "
                    f"Plimsoll answers with ({what}); is --server a Plimsoll server, or is a proxy or captive portal "
                    f"in the way? {path.name} stays spooled"
                )
            if answer.status in DELIVERED:
                self.spool.delivered(path)
                result.delivered.append(path)
                self.log(f"delivered {path.name} ({answer.status})")
            elif answer.status in AUTH_FAILED:
                raise AuthRejected(
                    f"the server at {self.server} refused the agent token ({answer.status}): "
                    f"{describe_answer(answer)}; issue a new token and update the token file"
                )
            elif answer.status in REJECTED:
                target = self.spool.reject(path, answer.status, answer.body)
                result.rejected.append(target)
                self.log(f"rejected {path.name} ({answer.status}): {describe_answer(answer)}; kept in {target}")
            elif answer.location:
                raise ServerRefused(
                    f"the server at {self.server} answered {answer.status} for {self.url}, redirecting to "
                    f"{answer.location}: give the URL it redirects to as --server"
                )
            else:
                raise ServerRefused(
                    f"the server at {self.server} answered {answer.status} for {self.url}: "
                    f"{describe_answer(answer)} (is --server right?)"
                )
        return result
