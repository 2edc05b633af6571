"""Admin: catalogs are loaded from YAML with `manage.py load_frameworks`, so the admin only browses them."""


from django.contrib import admin

from common.admin import ReadOnlyAdmin
from frameworks.models import Crosswalk, Framework, Mapping, Requirement


@admin.register(Framework)
class FrameworkAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name", "version", "revision", "is_current", "loaded_at"]
    list_filter = ["is_current"]
    search_fields = ["slug", "urn", "name"]


@admin.register(Requirement)
class RequirementAdmin(ReadOnlyAdmin):
    list_display = ["ref_id", "title", "framework", "kind", "assessable", "level", "assessment"]
    list_filter = ["framework", "kind", "assessable", "level", "assessment", "implementation", "safeguard"]
    search_fields = ["ref_id", "title", "summary"]
    list_select_related = ["framework"]


@admin.register(Crosswalk)
class CrosswalkAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name", "revision", "is_current", "loaded_at"]
    list_filter = ["is_current"]


@admin.register(Mapping)
class MappingAdmin(ReadOnlyAdmin):
    list_display = ["source", "relationship", "target", "crosswalk", "provenance"]
    list_filter = ["crosswalk", "relationship"]
    search_fields = ["source__ref_id", "target__ref_id", "rationale", "provenance"]
    list_select_related = ["source", "target", "crosswalk"]
