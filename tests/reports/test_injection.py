"""Agent strings are text, never markup: hostile names print literally and make WeasyPrint fetch nothing."""

from __future__ import annotations

import http.server
import threading

import pytest
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes

from compliance.reports import render
from compliance.reports.render.fetcher import STATIC_BASE, FetchRefused, StaticOnlyFetcher
from compliance.reports.render.pdf import PDF_CSS
from tests.reports.conftest import pdf_of, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    """A local HTTP server that counts every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_hostile_names_make_no_request_print_literally_and_wrap(judged_host, carol, make_report, listener,
                                                                 monkeypatch):
    base, hits = listener
    name = f'<img src="{base}/img">'
    judged_host(f'<link rel="stylesheet" href="{base}/css">', {"5.5": [f"fail@{name}"], "2.5": ["fail"]},
                labels={"pci": "cde", "note": f"url({base}/label)"})
    long_name = "z" * 500
    judged_host("h-" + "y" * 100, {"5.5": [f"fail@{long_name}"]}, labels={"pci": "cde"})
    captured: list[str] = []
    real = render.write_pdf

    def keep(html, pack, target):  # type: ignore[no-untyped-def]
        captured.append(html)
        return real(html, pack, target)

    monkeypatch.setattr(render, "write_pdf", keep)
    framework = make_report(carol, kind="framework", framework="hipaa-security-rule", scope="pci=cde")
    hardening = make_report(carol, kind="hardening", scope="pci=cde")
    # Long strings wrap anywhere, so the text layer may break them: compare without white space.
    texts = ["".join(pdf_text(pdf_of(r)).split()) for r in (framework, hardening)]
    assert hits == []
    for text in texts:
        assert f'<imgsrc="{base}/img">' in text and f'<linkrel="stylesheet"href="{base}/css">' in text
        assert long_name in text and "h-" + "y" * 100 in text
    assert overflowing(captured[-1]) == []


def overflowing(html: str) -> list[str]:
    """Text boxes that reach past the right edge of their page once laid out with the report's CSS."""
    document = HTML(string=html).render(stylesheets=[CSS(string=PDF_CSS.read_text())])

    def text_boxes(box):  # type: ignore[no-untyped-def]
        if isinstance(box, boxes.TextBox):
            yield box
        for child in getattr(box, "children", ()):
            yield from text_boxes(child)

    return [box.text[:40] for page in document.pages for box in text_boxes(page._page_box)
            if box.position_x + box.width > page.width + 0.5]


def test_the_fetcher_serves_static_files_and_data_urls_and_refuses_the_rest(listener):
    base, hits = listener
    fetcher = StaticOnlyFetcher()
    assert b":root" in fetcher.fetch(STATIC_BASE + "plimsoll/plimsoll.css").read()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    for url in (f"{base}/x", "file:///etc/passwd", STATIC_BASE + "../settings.py", STATIC_BASE + "plimsoll/none.css",
                "ftp://127.0.0.1/x"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    assert hits == [] and len(fetcher.refused) == 5
