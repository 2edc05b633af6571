"""Create the auditor, security_manager and admin groups with their permissions."""

from django.db import migrations

from compliance.migrations import _roles
from common.roles import ROLE_PERMISSIONS


def create_roles(apps, schema_editor):
    _roles.grant(apps, schema_editor)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("inventory", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, drop_roles)]
