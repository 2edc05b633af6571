"""The overview at /: every role lands here after logging in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from common.roles import ReaderRequiredMixin
from compliance.administration.limits import limits_for
from compliance.dashboard.overview import build_overview
from compliance.dashboard.trend import TREND_DAYS, record_today_if_missing


class OverviewView(ReaderRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            days = int(request.GET.get("days") or TREND_DAYS[0])
        except ValueError:
            days = 0
        if days not in TREND_DAYS:
            error = f"days must be one of {', '.join(map(str, TREND_DAYS))}"
            return render(request, "dashboard/overview.html", {"error": error, "trend_days": TREND_DAYS}, status=400)
        # The embedded mode has no beat: the first look of the day writes the day's records, so the trend fills in.
        record_today_if_missing()
        overview = build_overview(days, limits=limits_for(request.user))
        return render(request, "dashboard/overview.html", {"overview": overview, "trend_days": TREND_DAYS})
