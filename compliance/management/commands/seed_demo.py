"""manage.py seed_demo: demo users, three hosts from the real Podman snapshots in tests/samples/ with three weeks of
history, judged, and the daily posture records rebuilt from that history so the trend has something to show.

Idempotent: the history is dated from the demo agent's creation, so a second run builds the same documents, finds
them stored (same sha256) and adds nothing; the records are rebuilt only when something new was stored.
"""

from __future__ import annotations

import copy
import datetime
import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.roles import ADMIN, AUDITOR, SECURITY_MANAGER
from compliance.dashboard import trend
from compliance.exceptions.models import RiskAcceptance
from compliance.exceptions.services import approve_exception, request_exception
from compliance.posture.models import PostureRecord
from compliance.services import evaluate_snapshot
from inventory.models import AgentToken
from inventory.services import ingest_snapshot
from inventory.snapshot_format import SnapshotRejected

DEMO_USERS = [("admin", ADMIN), ("manager", SECURITY_MANAGER), ("auditor", AUDITOR)]
HISTORY_DAYS = 21
# The three samples are one engine at three moments (tests/samples/README.md): web01 has the most findings, db01 the
# fewest. Each demo host ran, N days before the demo began, the containers of the sample named (None: its own), so
# build01 and db01 improve over the three weeks and web01 regresses; and the daemons were hardened on the way: three
# weeks ago experimental features were on and no seccomp profile was set (CIS 2.18, 2.17), two weeks ago seccomp was
# set. On day 0 each host runs its own sample, exactly as collected.
HISTORY: dict[str, list[tuple[int, str | None]]] = {
    "snapshot_build01.json": [(21, "snapshot_web01.json"), (10, None)],
    "snapshot_db01.json": [(21, "snapshot_web01.json"), (14, "snapshot_build01.json"), (5, None)],
    "snapshot_web01.json": [(21, "snapshot_db01.json"), (14, "snapshot_build01.json"), (7, None)],
}
SECCOMP_SET_DAYS_AGO = 14
EXPERIMENTAL_OFF_DAYS_AGO = 7
DEMO_EXCEPTION_MARK = "Demo exception (seed_demo)"


class Command(BaseCommand):
    help = "Create demo users (admin, manager, auditor) and three demo hosts with three weeks of judged history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--samples", type=Path, default=settings.BASE_DIR / "tests" / "samples")

    def handle(self, *args: object, samples: Path, **options: object) -> None:
        files = sorted(samples.glob("snapshot_*.json"))
        if not files:
            raise CommandError(f"no snapshot_*.json files in {samples}")
        documents = {path.name: json.loads(path.read_text()) for path in files}
        credentials, credentials_path = self._credentials()
        users = {}
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.test"})
            if created:
                user.set_password(credentials[username])
                user.is_staff = role == ADMIN
                user.is_superuser = role == ADMIN
                user.save()
            user.groups.add(Group.objects.get(name=role))
            users[role] = user
        agent = AgentToken.objects.filter(name="demo-agent").first() or AgentToken.issue("demo-agent", fleet=True)[0]
        if not agent.fleet:
            # A demo agent from an older seed: it speaks for the three demo hosts.
            agent.fleet = True
            agent.save(update_fields=["fleet"])
        stored = new = 0
        for name, doc in sorted(documents.items()):
            for document in history(name, doc, documents, agent.created_at):
                try:
                    result = ingest_snapshot(document, agent=agent)
                except SnapshotRejected as exc:
                    raise CommandError(f"{name}: {exc.path}: {exc.reason}") from None
                # Judged here, whether or not a broker would have queued it: the demo shows results at once.
                evaluate_snapshot(result.snapshot.pk)
                stored += 1
                new += result.created
        if new or not PostureRecord.objects.exists():
            days, records = trend.backfill(HISTORY_DAYS + 1)
            self.stdout.write(f"Posture trend: {records} daily records over {days} days, rebuilt from the snapshots.")
        else:
            trend.record_today_if_missing()
        self._demo_exception(users, agent.created_at)
        self.stdout.write(f"Demo data: {stored} snapshots of {len(files)} hosts ({new} new) from {samples}.")
        self.stdout.write(f"Demo logins (username, password, role), kept in {credentials_path}:")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} password {credentials[username]}   ({role})")

    def _demo_exception(self, users: dict[str, User], anchor: datetime.datetime) -> None:
        """One approved exception, expiring three weeks after the demo began, so the overview lists one that lapses."""
        if RiskAcceptance.objects.filter(justification__startswith=DEMO_EXCEPTION_MARK).exists():
            return
        expires = max(anchor, datetime.datetime.now(datetime.UTC)) + datetime.timedelta(days=21)
        exception = request_exception(
            by=users[SECURITY_MANAGER], control="5.29", scope_kind="all", risk_rating="low", expires_at=expires,
            justification=f"{DEMO_EXCEPTION_MARK}: containers on the default bridge until the network redesign.",
            compensating_controls="Host firewall drops inter-container traffic.",
        )
        approve_exception(exception.pk, by=users[ADMIN], note="Approved for the demo.")

    def _credentials(self) -> tuple[dict[str, str], Path]:
        # Random per installation, kept beside the database so every `make run` prints the same logins.
        path = Path(settings.VAR_DIR) / "demo-credentials.json"
        if path.exists():
            return json.loads(path.read_text()), path
        credentials = {username: secrets.token_urlsafe(9) for username, _ in DEMO_USERS}
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        return credentials, path


def history(name: str, own: dict[str, Any], documents: dict[str, dict[str, Any]],
            anchor: datetime.datetime) -> list[dict[str, Any]]:
    """The documents of one demo host, oldest first: its HISTORY, then its own sample collected at `anchor`."""
    steps = [*HISTORY.get(name, []), (0, None)]
    out = []
    for days, source in steps:
        document = copy.deepcopy(own)
        if source is not None and source in documents:
            document["docker"] = copy.deepcopy(documents[source]["docker"])
        if days > SECCOMP_SET_DAYS_AGO:
            document["docker"]["info"]["SecurityOptions"] = [
                o for o in document["docker"]["info"].get("SecurityOptions") or [] if "seccomp" not in o
            ]
        if days > EXPERIMENTAL_OFF_DAYS_AGO:
            document["docker"]["version"]["Experimental"] = True
        moment = anchor.astimezone(datetime.UTC) - datetime.timedelta(days=days)
        document["agent"]["collected_at"] = moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
        out.append(document)
    return out
