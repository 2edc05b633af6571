"""manage.py revoke_agent_token NAME: stop a token from pushing snapshots (the snapshots it sent stay)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.choices import AuditAction
from audit.services import record
from inventory.models import AgentToken


class Command(BaseCommand):
    help = "Revoke an agent token; its snapshots are kept as evidence."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **options: object) -> None:
        token = AgentToken.objects.filter(name=name).first()
        if token is None:
            raise CommandError(f"no agent token named {name!r}")
        if not token.is_active:
            raise CommandError(f"agent token {name!r} was already revoked at {token.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
        with transaction.atomic():
            token.revoke()
            record(AuditAction.REVOKE, token, username="manage.py", changes={"revoked_at": [None, token.revoked_at.isoformat()]})
        self.stdout.write(f"Revoked agent token {name!r}.")
