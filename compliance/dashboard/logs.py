"""Logging filters: a refused request is a normal answer, worth one line in the log, not a traceback."""

from __future__ import annotations

import logging


class DenialsWithoutTraceback(logging.Filter):
    """On `django.request`: a 4xx answer raised as an exception (PermissionDenied, 404) keeps its one-line warning,
    without the traceback Django attaches to it; 5xx records keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
