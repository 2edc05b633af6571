"""The administration index: one card per section, with what needs attention there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone
from django.views.generic import TemplateView

from common.roles import AdminRequiredMixin
from compliance.administration import services
from compliance.administration.models import AccountLimit, Rejudge
from inventory.models import AgentToken


class IndexView(AdminRequiredMixin, TemplateView):
    template_name = "administration/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        limited = AccountLimit.objects.filter(user__is_active=True)
        context.update(
            active_tokens=AgentToken.objects.filter(revoked_at__isnull=True).count(),
            revoked_tokens=AgentToken.objects.filter(revoked_at__isnull=False).count(),
            active_users=User.objects.filter(is_active=True).count(),
            inactive_users=User.objects.filter(is_active=False).count(),
            limited_users=limited.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).count(),
            expired_users=limited.filter(expires_at__lte=now).count(),
            policy=services.active_policy(),
            latest_rejudge=Rejudge.objects.first(),
        )
        return context
