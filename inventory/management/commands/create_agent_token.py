"""manage.py create_agent_token NAME: enrol an agent; the token is printed once, on the last line."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from audit.choices import AuditAction
from audit.services import created, record
from inventory.models import AgentToken


class Command(BaseCommand):
    help = "Create an agent token. The token is shown once, on the last line of output, and stored only hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A unique name for the agent, e.g. the host it runs on.")
        parser.add_argument(
            "--fleet", action="store_true",
            help="A fleet token: it enrols new hosts (each then bound to it). Without it the token is bound to the one "
                 "host it first pushes for.",
        )

    def handle(self, *args: object, name: str, fleet: bool, **options: object) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters")
        if AgentToken.objects.filter(name=name).exists():
            raise CommandError(f"an agent token named {name!r} already exists; revoke it or choose another name")
        with transaction.atomic():
            token, raw = AgentToken.issue(name, fleet=fleet)
            record(AuditAction.CREATE, token, username="manage.py",
                   changes=created({"name": name, "prefix": token.prefix, "fleet": fleet}))
        kind = "fleet token (enrols new hosts)" if fleet else "host token (bound to the first host it pushes for)"
        self.stderr.write(f"Created agent token {name!r}, a {kind}. Store it now: it cannot be shown again.")
        self.stdout.write(raw)
