"""Administration services: enrol and revoke agents, manage users, roles and account limits, save the site policy
and re-judge stored snapshots. Each change runs in one transaction with its audit record, which names what it
changed (usernames, roles, token names), never bare ids.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.choices import AuditAction
from audit.services import created, record
from common.roles import ADMIN, AUDITOR, ROLES
from compliance.administration.models import AccountLimit, Rejudge
from compliance.engine import Policy
from compliance.models import SitePolicy
from compliance.services import TRANSIENT_ERRORS
from inventory.models import AgentToken, Host, Snapshot

# A queued or running re-judging that has not moved for this long is taken as dead (its worker was lost).
REJUDGE_STALL = datetime.timedelta(minutes=30)
logger = logging.getLogger(__name__)
NO_ROLE = "none"


class AdministrationError(Exception):
    """A refused administration change; the message says why, for the page."""


# Agents


def enrol_agent(name: str, *, by: User, request: HttpRequest | None = None) -> tuple[AgentToken, str]:
    """A new agent token; the raw secret is returned once, to be shown once, and only its hash is stored."""
    with transaction.atomic():
        if AgentToken.objects.filter(name=name).exists():
            raise AdministrationError(f"An agent token named {name!r} exists already.")
        token, raw = AgentToken.issue(name, created_by=by)
        record(AuditAction.CREATE, token, actor=by, request=request,
               changes=created({"name": token.name, "prefix": token.prefix, "created_by": by.get_username()}))
    return token, raw


def revoke_agent(token_id: int, *, by: User, request: HttpRequest | None = None) -> AgentToken:
    with transaction.atomic():
        token = AgentToken.objects.select_for_update().get(pk=token_id)
        if not token.is_active:
            raise AdministrationError(f"The token {token.name!r} was revoked already.")
        token.revoke()
        record(AuditAction.REVOKE, token, actor=by, request=request,
               changes={"revoked_at": [None, token.revoked_at.isoformat()]})
    return token


# Users, roles and account limits


def role_of(user: User) -> str:
    """The user's role (the first of ROLES they hold, highest last wins: admin over manager over auditor)."""
    names = {g.name for g in user.groups.all()}
    held = [role for role in ROLES if role in names]
    return held[-1] if held else NO_ROLE


def _limit_values(limit: AccountLimit | None) -> dict[str, Any]:
    if limit is None:
        return {"expires_at": None, "frameworks": [], "scope": ""}
    return {
        "expires_at": limit.expires_at.isoformat() if limit.expires_at else None,
        "frameworks": sorted(limit.frameworks), "scope": limit.scope,
    }


def _limit_of(user: User) -> AccountLimit | None:
    return AccountLimit.objects.filter(user=user).first()


def set_password_path(user: User) -> str:
    """The path of a one-time link where the user sets their password (valid PASSWORD_RESET_TIMEOUT seconds)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("administration:set-password", args=[uid, default_token_generator.make_token(user)])


def create_user(
    *, username: str, email: str, role: str, password: str | None, by: User, request: HttpRequest | None = None,
    first_name: str = "", last_name: str = "", expires_at: datetime.datetime | None = None,
    frameworks: Iterable[str] = (), scope: str = "",
) -> User:
    """A user with one role; without a password the account has none usable until its set-password link is used."""
    if role not in ROLES:
        raise AdministrationError(f"Unknown role {role!r}.")
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise AdministrationError(f"A user named {username!r} exists already.")
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
        values: dict[str, Any] = {
            "username": username, "email": email, "first_name": first_name, "last_name": last_name, "role": role,
            "password": "(set)" if password else "(set-password link)",
        }
        frameworks = sorted(set(frameworks))
        if expires_at is not None or frameworks or scope:
            limit = AccountLimit.objects.create(user=user, expires_at=expires_at, frameworks=frameworks, scope=scope)
            values.update({k: v for k, v in _limit_values(limit).items() if v})
        record(AuditAction.CREATE, user, actor=by, request=request, changes=created(values))
    return user


def set_role(user: User, role: str, *, by: User, request: HttpRequest | None = None) -> bool:
    """Give the user exactly this role among the three (other groups stay). Returns whether anything changed."""
    if role not in ROLES:
        raise AdministrationError(f"Unknown role {role!r}.")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = role_of(user)
        held = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if held == {role}:
            return False
        if user.pk == by.pk and role != ADMIN and not by.is_superuser:
            raise AdministrationError("You cannot take the admin role from yourself: ask another admin.")
        if role != AUDITOR and _has_read_limits(user):
            raise AdministrationError("Framework and scope limits are for auditors: clear them before changing the role.")
        user.groups.remove(*Group.objects.filter(name__in=held - {role}))
        user.groups.add(Group.objects.get(name=role))
        record(AuditAction.CHANGE, user, actor=by, request=request, changes={"role": [before, role]})
    return True


def _has_read_limits(user: User) -> bool:
    limit = _limit_of(user)
    return limit is not None and (bool(limit.frameworks) or bool(limit.scope))


def set_active(user: User, active: bool, *, by: User, request: HttpRequest | None = None) -> bool:
    """Deactivate (no login, no token, no session) or reactivate an account. Returns whether anything changed."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return False
        if user.pk == by.pk and not active:
            raise AdministrationError("You cannot deactivate your own account.")
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(AuditAction.CHANGE, user, actor=by, request=request, changes={"is_active": [not active, active]})
    return True


def set_limits(
    user: User, *, expires_at: datetime.datetime | None, frameworks: Iterable[str], scope: str, by: User,
    request: HttpRequest | None = None,
) -> bool:
    """Set (or clear) the account's end of access, frameworks and label scope. Returns whether anything changed."""
    frameworks = sorted(set(frameworks))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if (frameworks or scope) and role_of(user) != AUDITOR and not user.is_superuser:
            raise AdministrationError("Framework and scope limits are for auditors; managers and admins read everything.")
        if user.pk == by.pk and expires_at is not None:
            raise AdministrationError("You cannot set an end of access on your own account.")
        limit = _limit_of(user)
        before = _limit_values(limit)
        if limit is None:
            limit = AccountLimit(user=user)
        limit.expires_at, limit.frameworks, limit.scope = expires_at, frameworks, scope
        after = _limit_values(limit)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if not changes:
            return False
        limit.save()
        record(AuditAction.CHANGE, user, actor=by, request=request, changes=changes)
    return True


def record_password_link(user: User, *, by: User, request: HttpRequest | None = None) -> str:
    """A new set-password link for the user (shown to the admin to pass on), audited."""
    record(AuditAction.CHANGE, user, actor=by, request=request, changes={"password": [None, "(set-password link issued)"]})
    return set_password_path(user)


# The site policy and re-judging


def active_policy() -> SitePolicy | None:
    return SitePolicy.active()


def save_site_policy(data: dict[str, Any], *, by: User, request: HttpRequest | None = None) -> tuple[SitePolicy, bool]:
    """Store `data` (validated by the engine: raises PolicyError) in the active policy, creating it if none is.

    Returns the policy and whether it changed. The data is kept in the engine's own canonical form.
    """
    canonical = Policy.from_dict(data).to_dict()
    with transaction.atomic():
        policy = SitePolicy.objects.select_for_update().filter(is_active=True).first()
        if policy is None:
            taken = SitePolicy.objects.filter(name="default").exists()
            name = f"site-policy-{timezone.now():%Y%m%d%H%M%S}" if taken else "default"
            policy = SitePolicy.objects.create(name=name, is_active=True, data=canonical)
            record(AuditAction.CREATE, policy, actor=by, request=request,
                   changes=created({"name": policy.name, "is_active": True, **canonical}))
            return policy, True
        before = dict(policy.data)
        changes = {k: [before.get(k), canonical.get(k)] for k in sorted(set(before) | set(canonical))
                   if before.get(k) != canonical.get(k)}
        if not changes:
            return policy, False
        policy.data = canonical
        policy.save(update_fields=["data", "updated_at"])
        record(AuditAction.CHANGE, policy, actor=by, request=request, changes=changes)
    return policy, True


def activate_policy(policy_id: int, *, by: User | None, request: HttpRequest | None = None) -> SitePolicy:
    """Make this policy the one that applies; the one active before is deactivated (both audited)."""
    with transaction.atomic():
        policies = list(SitePolicy.objects.select_for_update().filter(is_active=True).exclude(pk=policy_id))
        for other in policies:
            other.is_active = False
            other.save(update_fields=["is_active", "updated_at"])
            record(AuditAction.CHANGE, other, actor=by, request=request, changes={"is_active": [True, False]})
        policy = SitePolicy.objects.select_for_update().get(pk=policy_id)
        if not policy.is_active:
            policy.is_active = True
            policy.save(update_fields=["is_active", "updated_at"])
            record(AuditAction.CHANGE, policy, actor=by, request=request, changes={"is_active": [False, True]})
    return policy


def snapshots_to_rejudge() -> list[int]:
    """The snapshots whose results pages show: those standing for a host now, and each host's newest snapshot."""
    standing = set(Snapshot.objects.standing().values_list("pk", flat=True))
    newest = set(Host.objects.exclude(last_snapshot=None).values_list("last_snapshot_id", flat=True))
    return sorted(standing | newest)


def running_rejudge() -> Rejudge | None:
    """The re-judging in progress, if one has moved within REJUDGE_STALL."""
    since = timezone.now() - REJUDGE_STALL
    return Rejudge.objects.filter(status__in=Rejudge.ACTIVE, updated_at__gte=since).order_by("-id").first()


def start_rejudge(*, by: User, request: HttpRequest | None = None) -> Rejudge:
    """Queue the re-judging of the stored snapshots with the active policy; one at a time."""
    with transaction.atomic():
        if (current := running_rejudge()) is not None:
            raise AdministrationError(f"Re-judging #{current.pk} is still in progress.")
        ids = snapshots_to_rejudge()
        run = Rejudge.objects.create(
            snapshot_ids=ids, total=len(ids), policy=SitePolicy.current_data(), requested_by=by
        )
        record(AuditAction.CREATE, run, actor=by, request=request,
               changes=created({"snapshots": len(ids), "policy": run.policy}))
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(rejudge_id: int) -> None:
    """Queue the run; a broker that is away leaves it failed with the reason on its page, not a server error."""
    from compliance.administration.tasks import rejudge_snapshots

    try:
        rejudge_snapshots.delay(rejudge_id)
    except Exception as exc:
        logger.exception("could not enqueue re-judging %s", rejudge_id)
        Rejudge.objects.filter(pk=rejudge_id).update(
            status=Rejudge.Status.FAILED, error=f"could not queue the task: {type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )


def run_rejudge(rejudge_id: int) -> str:
    """Judge each snapshot of the run again (compliance.services.evaluate_snapshot, forced), counting progress.

    Resumes after the last snapshot counted, so a retried task does not judge a snapshot twice.
    """
    from compliance.services import evaluate_snapshot

    run = Rejudge.objects.filter(pk=rejudge_id).first()
    if run is None:
        return "missing"
    if not run.is_active:
        return "finished"
    Rejudge.objects.filter(pk=run.pk).update(status=Rejudge.Status.RUNNING, started_at=run.started_at or timezone.now())
    try:
        for snapshot_id in run.snapshot_ids[run.done:]:
            outcome = evaluate_snapshot(snapshot_id, force=True)
            Rejudge.objects.filter(pk=run.pk).update(
                done=F("done") + 1, failed=F("failed") + (1 if outcome == "failed" else 0), updated_at=timezone.now()
            )
    except TRANSIENT_ERRORS:
        raise  # transient: the task retries and resumes after the last snapshot counted
    except Exception as exc:
        Rejudge.objects.filter(pk=run.pk).update(
            status=Rejudge.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return "failed"
    run.refresh_from_db()
    Rejudge.objects.filter(pk=run.pk).update(status=Rejudge.Status.DONE, finished_at=timezone.now())
    record(AuditAction.CHANGE, run, username="system",
           changes={"status": [Rejudge.Status.RUNNING, Rejudge.Status.DONE], "done": [None, run.done],
                    "failed": [None, run.failed]})
    return "done"
