"""The shell every page shares: navigation that marks the current page, a skip link, a favicon, styled 403 and 404
pages that say why, readable status labels, badge colours that pass WCAG AA, and ids that never wrap."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import NoReverseMatch, reverse

from compliance.dashboard.templatetags.dashboard import status_label
from frameworks.templatetags.frameworks import title_of

pytestmark = pytest.mark.django_db
CSS = Path(settings.BASE_DIR) / "compliance" / "static" / "plimsoll" / "plimsoll.css"


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def current(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', html)


def test_the_nav_marks_the_current_page(catalogs, bob):
    c = client(bob)
    assert current(c.get("/").content.decode()) == ["Overview"]
    assert current(c.get("/posture/").content.decode()) == ["Posture"]
    assert current(c.get("/posture/pci-dss-4.0/").content.decode()) == ["Posture"]
    assert current(c.get("/exceptions/").content.decode()) == ["Exceptions"]
    assert current(c.get("/evidence/").content.decode()) == ["Evidence"]
    assert current(c.get("/audit/").content.decode()) == ["Audit log"]


def test_the_nav_has_its_entries_and_a_skip_link(catalogs, bob, alice):
    html = client(bob).get("/").content.decode()
    nav = html[html.index('<nav aria-label="Main">'):html.index("</nav>")]
    for entry in ("Overview", "Hosts", "Posture", "Exceptions", "Evidence", "Audit log", "API"):
        assert f">{entry}</a>" in nav
    assert ">Admin</a>" not in nav and ">Administration</a>" not in nav
    assert '<a class="skip" href="#main">' in html and '<main id="main"' in html
    assert '<a class="brand" href="/">' in html
    admin_nav = client(alice).get("/").content.decode()
    try:
        reverse("administration:index")
    except NoReverseMatch:
        return  # the administration pages are not mounted in this build
    assert ">Administration</a>" in admin_nav


def test_it_serves_a_favicon(bob):
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    icon = Client().get(response.url)
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert 'rel="icon"' in client(bob).get("/evidence/").content.decode()


def test_a_refusal_is_a_styled_page_that_says_why(catalogs, charlie):
    response = client(charlie).get("/posture/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your role does not allow this." in html
    assert "plimsoll.css" in html and '<nav aria-label="Main">' in html
    assert "charlie" in html


def test_a_missing_page_is_a_styled_page_with_navigation(catalogs, bob):
    response = client(bob).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and '<nav aria-label="Main">' in html and "/no-such-page/" in html
    missing = client(bob).get("/posture/pci-dss-4.0/99.99.99/").content.decode()
    assert "pci-dss-4.0 has no requirement 99.99.99" in missing


def test_a_refusal_is_logged_in_one_line_without_a_traceback(catalogs, charlie, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client(charlie).get("/posture/").status_code == 403
    denials = [r for r in caplog.records if r.name == "django.request" and "Forbidden" in r.getMessage()]
    assert len(denials) == 1
    assert denials[0].exc_info is None and denials[0].exc_text is None


def test_status_labels_are_words_not_stored_values():
    assert status_label("needs_evidence") == "needs evidence"
    assert status_label("not_covered") == "not covered"
    assert status_label("not_applicable") == "not applicable"
    assert status_label("security_manager") == "security manager"
    assert status_label("host") == "host" and status_label("container") == "container"
    assert status_label(None) == ""
    rendered = Template("{% load dashboard %}{{ s|status_label|capfirst }}").render(Context({"s": "needs_evidence"}))
    assert rendered == "Needs evidence"


def test_the_pages_show_labels_not_stored_values(catalogs, judged_host, bob):
    judged_host("web", {"1.1.2": ["manual"]})
    html = client(bob).get("/posture/pci-dss-4.0/").content.decode()
    badges = re.findall(r'<span class="badge [a-z_]+">([^<]+)</span>', html)
    assert badges and not any("_" in b for b in badges)
    assert "needs evidence" in badges


def test_framework_titles_do_not_repeat_a_word():
    assert title_of("General Data Protection Regulation", "Regulation (EU) 2016/679") == \
        "General Data Protection Regulation (EU) 2016/679"
    assert title_of("PCI DSS", "4.0") == "PCI DSS 4.0"
    assert title_of("HIPAA Security Rule", "45 CFR 164.308-316") == "HIPAA Security Rule 45 CFR 164.308-316"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_badge_has_aa_contrast():
    css = CSS.read_text()
    variables = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))
    rules = re.findall(r"\.badge\.[^{]+\{ background: (#[0-9a-f]{6}); color: (?:var\(--([a-z]+)\)|(#[0-9a-f]{6})); \}", css)
    assert len(rules) >= 5
    for background, variable, colour in rules:
        ink = variables[variable] if variable else colour
        assert contrast(ink, background) >= 4.5, (ink, background)


def test_ids_never_wrap_and_long_words_always_do():
    css = CSS.read_text()
    assert "overflow-wrap: anywhere" in css.split("body {", 1)[1].split("}", 1)[0]
    assert re.search(r"\.ref, td\.ref[^{]*\{[^}]*white-space: nowrap", css)
    assert re.search(r"\.scroll \{ overflow-x: auto", css)
