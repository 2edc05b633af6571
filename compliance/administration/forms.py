"""Administration forms: enrol an agent, create a user, set a role, limit an account, edit the site policy."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from common.roles import ADMIN, AUDITOR, SECURITY_MANAGER
from common.scope import SelectorError, parse_selector
from compliance.engine import Policy, PolicyError
from frameworks.models import Framework

ROLE_CHOICES = [(AUDITOR, "Auditor (reads everything)"), (SECURITY_MANAGER, "Security manager (evidence, exceptions)"),
                (ADMIN, "Admin (everything, agents and users too)")]
ROLE_LABELS = {AUDITOR: "Auditor", SECURITY_MANAGER: "Security manager", ADMIN: "Admin", "none": "No role"}
NAME_MAX = 100


class EnrolAgentForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX, help_text="A name for this agent, usually the host it runs on, e.g. web-01.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


def framework_choices() -> list[tuple[str, str]]:
    return [(f.slug, f"{f.name} {f.version}") for f in Framework.objects.filter(is_current=True).order_by("name")]


class AccountLimitForm(forms.Form):
    """The limits of an account; frameworks and scope only make sense for auditors (checked by the services)."""

    valid_until = forms.DateField(
        required=False, label="Valid until", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Last day of access (UTC): from the next midnight the account cannot log in or use its API token. "
                  "Empty: no end.",
    )
    frameworks = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="Only these frameworks; none ticked: all of them.",
    )
    scope = forms.CharField(
        required=False, max_length=500, label="Label scope",
        help_text="Only hosts with these labels, e.g. pci=cde,env=prod; ANDed with every scope asked for. Empty: all hosts.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["frameworks"].choices = framework_choices()

    def clean_scope(self) -> str:
        text = self.cleaned_data["scope"].strip()
        try:
            return str(parse_selector(text))
        except SelectorError as exc:
            raise ValidationError(str(exc)) from None

    def clean_valid_until(self) -> datetime.date | None:
        day = self.cleaned_data["valid_until"]
        if day is not None and day < datetime.datetime.now(datetime.UTC).date():
            raise ValidationError("This day has passed: to end access now, deactivate the account.")
        return day

    @property
    def expires_at(self) -> datetime.datetime | None:
        """The moment access ends: the midnight (UTC) after the last valid day."""
        day = self.cleaned_data.get("valid_until")
        if day is None:
            return None
        return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC)

    @staticmethod
    def initial_for(limit: Any) -> dict[str, Any]:
        if limit is None:
            return {}
        last_day = (limit.expires_at - datetime.timedelta(days=1)).date() if limit.expires_at else None
        return {"valid_until": last_day, "frameworks": list(limit.frameworks), "scope": limit.scope}


class UserCreateForm(AccountLimitForm):
    username = forms.CharField(max_length=150, help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField(required=False)
    first_name = forms.CharField(required=False, max_length=150)
    last_name = forms.CharField(required=False, max_length=150)
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.RadioSelect, initial=AUDITOR)
    password_mode = forms.ChoiceField(
        label="Password", widget=forms.RadioSelect, initial="link",
        choices=[("link", "Give the user a one-time link to set their own password"), ("set", "Set an initial password now")],
    )
    password1 = forms.CharField(label="Initial password", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label="Initial password again", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    field_order = ["username", "email", "first_name", "last_name", "role", "password_mode", "password1", "password2",
                   "valid_until", "frameworks", "scope"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with this username exists already.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password_mode") == "set":
            first, second = data.get("password1") or "", data.get("password2") or ""
            if not first:
                self.add_error("password1", "Type the initial password, or choose the set-password link.")
            elif first != second:
                self.add_error("password2", "The two passwords differ.")
            else:
                candidate = User(username=data.get("username", ""), email=data.get("email", ""),
                                 first_name=data.get("first_name", ""), last_name=data.get("last_name", ""))
                try:
                    password_validation.validate_password(first, candidate)
                except ValidationError as exc:
                    self.add_error("password1", exc)
        if data.get("role") not in (None, AUDITOR) and (data.get("frameworks") or data.get("scope")):
            self.add_error("frameworks", "Framework and scope limits are for auditors; managers and admins read everything.")
        return data

    @property
    def password(self) -> str | None:
        return self.cleaned_data["password1"] if self.cleaned_data.get("password_mode") == "set" else None


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.RadioSelect)


# The site policy, one field per setting of compliance.engine.Policy.


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class SitePolicyForm(forms.Form):
    """The engine's Policy, one field per setting; an empty field leaves that setting unset (its checks stay manual).

    Every value is checked by the engine's own reader (Policy.from_dict): its message becomes the field's error.
    """

    LINES = {"rows": 4, "spellcheck": "false"}

    trusted_docker_users = forms.CharField(
        required=False, widget=forms.Textarea(attrs=LINES), label="Trusted docker group members (1.1.2)",
        help_text="One user name per line.",
    )
    trusted_registries = forms.CharField(
        required=False, widget=forms.Textarea(attrs=LINES), label="Trusted registries (4.2)",
        help_text="One registry or repository prefix per line, e.g. registry.example.com or docker.io/library.",
    )
    allowed_host_ports = forms.CharField(
        required=False, widget=forms.Textarea(attrs=LINES), label="Host ports containers may publish (5.9)",
        help_text="One port or low-high range per line, e.g. 443 or 8000-8099.",
    )
    expected_cgroup_parent = forms.CharField(
        required=False, max_length=255, label="Expected cgroup parent (2.10, 5.25)",
    )
    expected_ulimits = forms.CharField(
        required=False, widget=forms.Textarea(attrs=LINES), label="Expected ulimits (2.8, 5.19)",
        help_text="One per line: name=soft:hard, e.g. nofile=1024:2048.",
    )
    max_unused_images = forms.IntegerField(required=False, min_value=0, label="Most unused images (6.1)")
    max_stopped_containers = forms.IntegerField(required=False, min_value=0, label="Most stopped containers (6.2)")
    swarm_mode_needed = forms.TypedChoiceField(
        required=False, label="Swarm mode needed (5.1)", empty_value=None,
        choices=[("", "Not set (5.1 stays manual)"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
    )
    max_node_cert_expiry_days = forms.IntegerField(
        required=False, min_value=0, label="Longest node certificate lifetime, days (7.7)",
    )

    def policy_data(self) -> dict[str, Any]:
        """The cleaned fields as the document Policy.from_dict reads (unset fields left out)."""
        return dict(self.cleaned_data.get("_policy", {}))

    def _value(self, name: str, raw: Any) -> Any:
        if name in ("trusted_docker_users", "trusted_registries", "allowed_host_ports"):
            return _lines(raw) or None
        if name == "expected_ulimits":
            out: dict[str, str] = {}
            for line in _lines(raw):
                key, sep, limits = line.partition("=")
                if not sep or not key.strip():
                    raise PolicyError(f"policy.{name}: {line!r}: expected name=soft:hard")
                if key.strip() in out:
                    raise PolicyError(f"policy.{name}: {key.strip()!r} is given twice")
                out[key.strip()] = limits.strip()
            return out or None
        if isinstance(raw, str):
            return raw.strip() or None
        return raw

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        policy: dict[str, Any] = {}
        for name in self.fields:
            if name not in data:
                continue  # already has its own error
            try:
                value = self._value(name, data[name])
                if value is not None:
                    Policy.from_dict({name: value})
                    policy[name] = value
            except PolicyError as exc:
                self.add_error(name, str(exc).split(": ", 1)[-1])
        data["_policy"] = policy
        return data

    @classmethod
    def initial_from(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Form values from stored policy data (read through the engine, so any stored form reads the same)."""
        try:
            canonical = Policy.from_dict(data).to_dict()
        except PolicyError:
            canonical = {}
        initial: dict[str, Any] = {}
        for name, value in canonical.items():
            if isinstance(value, list):
                initial[name] = "\n".join(str(v) for v in value)
            elif isinstance(value, dict):
                initial[name] = "\n".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, bool):
                initial[name] = "yes" if value else "no"
            else:
                initial[name] = value
        return initial
