"""The three roles of Plimsoll, as Django groups, and the model permissions each holds."""

AUDITOR = "auditor"
SECURITY_MANAGER = "security_manager"
ADMIN = "admin"
ROLES = (AUDITOR, SECURITY_MANAGER, ADMIN)

# (app_label, model) pairs; auditors view everything, managers also change compliance objects, admins also inventory.
_VIEW_ALL = [
    ("inventory", "host"), ("inventory", "snapshot"), ("inventory", "container"), ("inventory", "image"),
    ("inventory", "network"), ("inventory", "agenttoken"),
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    AUDITOR: [f"{app}.view_{model}" for app, model in _VIEW_ALL],
    SECURITY_MANAGER: [f"{app}.view_{model}" for app, model in _VIEW_ALL],
    ADMIN: [f"{app}.{verb}_{model}" for app, model in _VIEW_ALL for verb in ("view", "add", "change")]
    + ["inventory.delete_agenttoken", "auth.view_user", "auth.add_user", "auth.change_user"],
}


def user_has_role(user, *roles: str) -> bool:  # type: ignore[no-untyped-def]
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=roles).exists()
