"""The role groups, made sure of: a transactional test's flush with post_migrate inhibited (serialized_rollback)
empties the tables, groups and content types included, for the tests that follow it."""

from __future__ import annotations

from django.contrib.auth.models import Group

from common.roles import ADMIN


def ensure_role_groups() -> None:
    if Group.objects.filter(name=ADMIN).exists():
        return
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from compliance.migrations._roles import grant

    ContentType.objects.clear_cache()  # the flush took the content types too; the cache still holds their old ids
    grant(apps, None)
