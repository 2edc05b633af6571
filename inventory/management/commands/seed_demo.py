"""manage.py seed_demo: demo users and a few hosts from the real Podman snapshots in tests/samples/ (idempotent)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.roles import ADMIN, AUDITOR, SECURITY_MANAGER
from inventory.models import AgentToken
from inventory.services import ingest_snapshot
from inventory.snapshot_format import SnapshotRejected

DEMO_USERS = [("admin", ADMIN), ("manager", SECURITY_MANAGER), ("auditor", AUDITOR)]


class Command(BaseCommand):
    help = "Create demo users (admin, manager, auditor) and ingest the sample snapshots as demo hosts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--samples", type=Path, default=settings.BASE_DIR / "tests" / "samples")

    def handle(self, *args: object, samples: Path, **options: object) -> None:
        files = sorted(samples.glob("snapshot_*.json"))
        if not files:
            raise CommandError(f"no snapshot_*.json files in {samples}")
        credentials = self._credentials()
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.test"})
            if created:
                user.set_password(credentials[username])
                user.is_staff = role == ADMIN
                user.is_superuser = role == ADMIN
                user.save()
            user.groups.add(Group.objects.get(name=role))
        agent = AgentToken.objects.filter(name="demo-agent").first() or AgentToken.issue("demo-agent")[0]
        new = 0
        for path in files:
            try:
                result = ingest_snapshot(json.loads(path.read_text()), agent=agent)
            except SnapshotRejected as exc:
                raise CommandError(f"{path.name}: {exc.path}: {exc.reason}") from None
            new += result.created
        self.stdout.write(f"Demo data: {len(files)} sample snapshots ({new} new) from {samples}.")
        self.stdout.write("Demo logins (username, password, role):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} password {credentials[username]}   ({role})")

    def _credentials(self) -> dict[str, str]:
        # Random per installation, kept beside the database so every `make run` prints the same logins.
        path = Path(settings.VAR_DIR) / "demo-credentials.json"
        if path.exists():
            return json.loads(path.read_text())
        credentials = {username: secrets.token_urlsafe(9) for username, _ in DEMO_USERS}
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        return credentials
