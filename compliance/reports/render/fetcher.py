"""The only URL fetcher WeasyPrint gets: the app's own static files and data: URLs; everything else is refused.

Agent strings reach the PDF as escaped text, never as markup, so nothing an agent sends can name a URL; this fetcher is
the second wall: even a URL that slipped into the HTML or CSS makes no request.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote

from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative URLs in report HTML and CSS resolve against this base, which names no real host.
STATIC_BASE = "https://static.plimsoll.invalid/"


class FetchRefused(ValueError):
    """A URL outside the app's static files and data: URLs."""


class StaticOnlyFetcher(URLFetcher):
    """Serves STATIC_BASE/<path> from the staticfiles finders, and data: URLs; raises FetchRefused for anything else."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allow_redirects=False)
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.lower().startswith("data:"):
            self.served.append("data:")
            return super().fetch(url, headers)  # urllib's DataHandler decodes it; no network involved
        if url.startswith(STATIC_BASE):
            relative = unquote(url[len(STATIC_BASE):].split("?", 1)[0].split("#", 1)[0])
            if relative and ".." not in Path(relative).parts and not relative.startswith("/"):
                found = finders.find(relative)
                if isinstance(found, str) and Path(found).is_file():
                    self.served.append(relative)
                    content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body=Path(found).read_bytes(), headers={"Content-Type": content_type})
        self.refused.append(url)
        raise FetchRefused(f"reports fetch only the app's static files and data: URLs, not {url[:200]!r}")
