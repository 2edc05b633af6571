"""Server-rendered SVG charts, one module for the pages and the PDF reports.

Each chart is plain SVG (no script, no external reference), with a <title> and a text alternative that says in
words what the picture shows, for screen readers and for the PDF's text layer. Colours match the status badges.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Worst first, as the requirement statuses roll up; each with its badge colour and a label people read.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "failing": ("#b42318", "Failing"),
    "needs_evidence": ("#a15c07", "Needs evidence"),
    "passing": ("#1a7f37", "Passing"),
    "not_covered": ("#5b6b7c", "Not covered"),
    "fail": ("#b42318", "Fail"),
    "excepted": ("#2b5a8a", "Excepted"),
    "manual": ("#a15c07", "Manual"),
    "attested": ("#4c8c5c", "Attested"),
    "error": ("#8a1c7c", "Error"),
    "pass": ("#1a7f37", "Pass"),
    "info": ("#5b6b7c", "Info"),
    "not_applicable": ("#8a98a8", "Not applicable"),
}
TREND_SERIES = ("passing", "failing", "needs_evidence")
FONT = "font-family=\"DejaVu Sans, Arial, sans-serif\""


@dataclass(frozen=True)
class Chart:
    """An SVG picture and the same facts in words."""

    svg: SafeString
    text: str

    def __str__(self) -> str:
        return self.svg


def _label(key: str) -> str:
    return STATUS_STYLE.get(key, ("", key.replace("_", " ").capitalize()))[1]


def _colour(key: str) -> str:
    return STATUS_STYLE.get(key, ("#8a98a8", ""))[0]


def status_bar(counts: Mapping[str, int], title: str, width: int = 480) -> Chart:
    """A stacked bar of counts by status (in the order given), with a legend; zero counts are named, not drawn."""
    total = sum(max(0, int(n)) for n in counts.values())
    words = ", ".join(f"{n} {_label(k).lower()}" for k, n in counts.items())
    text = f"{title}: {words} (total {total})." if total else f"{title}: nothing to count."
    bar_h, legend_h = 22, 18 * ((len(counts) + 1) // 2)
    height = bar_h + 10 + legend_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(text)}"><title>{escape(text)}</title>'
    ]
    x = 0.0
    if total:
        for key, n in counts.items():
            if n <= 0:
                continue
            w = width * n / total
            parts.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{bar_h}" fill="{_colour(key)}"/>')
            x += w
    else:
        parts.append(f'<rect x="0" y="0" width="{width}" height="{bar_h}" fill="#e8edf2"/>')
    for i, (key, n) in enumerate(counts.items()):
        lx, ly = (i % 2) * (width / 2), bar_h + 10 + (i // 2) * 18
        parts.append(f'<rect x="{lx:.0f}" y="{ly}" width="12" height="12" fill="{_colour(key)}"/>')
        parts.append(f'<text x="{lx + 18:.0f}" y="{ly + 11}" font-size="12" {FONT} fill="#1f2933">'
                     f'{escape(_label(key))}: {int(n)}</text>')
    parts.append("</svg>")
    return Chart(mark_safe("".join(parts)), text)  # noqa: S308  (every interpolated text is escaped above)


def _day(record: Any) -> datetime.date:
    day = getattr(record, "day", None)
    return day if day is not None else record["day"]


def _summary(record: Any) -> Mapping[str, Any]:
    summary = getattr(record, "summary", None)
    return summary if summary is not None else record["summary"]


def trend(records: Sequence[Any], title: str, series: Sequence[str] = TREND_SERIES,
          width: int = 640, height: int = 220) -> Chart:
    """Lines of requirement counts per status, one point per daily record (oldest first), with axes and a legend."""
    points = sorted(((_day(r), _summary(r)) for r in records), key=lambda p: p[0])
    if not points:
        text = f"{title}: no daily records yet."
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="40" '
               f'viewBox="0 0 {width} 40" aria-label="{escape(text)}"><title>{escape(text)}</title>'
               f'<text x="0" y="24" font-size="13" {FONT} fill="#5b6b7c">{escape(text)}</text></svg>')
        return Chart(mark_safe(svg), text)  # noqa: S308
    first, last = points[0], points[-1]
    changes = ", ".join(f"{_label(s).lower()} {int(first[1].get(s) or 0)} to {int(last[1].get(s) or 0)}" for s in series)
    text = f"{title}, {first[0]:%Y-%m-%d} to {last[0]:%Y-%m-%d} ({len(points)} days): {changes}."
    left, right, top, legend_h, bottom = 44, 10, 10, 20, 26
    plot_w, plot_h = width - left - right, height - top - bottom - legend_h
    peak = max([int(p[1].get(s) or 0) for p in points for s in series] + [1])
    span = max((last[0] - first[0]).days, 1)

    def x(day: datetime.date) -> float:
        return left + plot_w * ((day - first[0]).days / span if len(points) > 1 else 0.5)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / peak)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(text)}"><title>{escape(text)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#9aa5b1"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#9aa5b1"/>',
    ]
    for value in sorted({0, peak // 2, peak}):
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" {FONT} '
                     f'fill="#52606d">{value}</text>')
        parts.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" stroke="#e4e7eb"/>')
    for day, anchor in ((first[0], "start"), (last[0], "end")):
        parts.append(f'<text x="{x(day):.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="{anchor}" {FONT} '
                     f'fill="#52606d">{day:%Y-%m-%d}</text>')
    for s in series:
        coords = " ".join(f"{x(day):.1f},{y(int(summary.get(s) or 0)):.1f}" for day, summary in points)
        if len(points) == 1:
            cx, cy = coords.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{_colour(s)}"/>')
        else:
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{_colour(s)}" stroke-width="2"/>')
    for i, s in enumerate(series):
        lx, ly = left + i * 160, height - 14
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{_colour(s)}"/>')
        parts.append(f'<text x="{lx + 18}" y="{ly + 11}" font-size="12" {FONT} fill="#1f2933">'
                     f'{escape(_label(s))}: {int(last[1].get(s) or 0)}</text>')
    parts.append("</svg>")
    return Chart(mark_safe("".join(parts)), text)  # noqa: S308
