"""The API's one pagination class: ?page=N&page_size=M (at most 500).

A page that is not a whole number from 1 (`page=0`, `page=-1`, `page=x`) is a 400 naming `page`; a page past the last
one is a 404, as in DRF. A `page_size` that is not a whole number from 1 is a 400 naming `page_size`; one above 500
is served as 500 (as DRF does).
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

_MAX_DIGITS = 18  # past 64 bits a page number is no page number


def _positive_int(value: str, name: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS) or int(text) < 1:
        raise ValidationError({name: [f"Expected a whole number from 1, got {value!r}."]})
    return int(text)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ("last",)

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        value = request.query_params.get(self.page_query_param)
        if value is None or value == "":
            return 1
        if value in self.last_page_strings:
            return paginator.num_pages
        return _positive_int(value, self.page_query_param)

    def get_page_size(self, request: Any) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None or value == "":
            return self.page_size
        return min(_positive_int(value, self.page_size_query_param), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number from 1 (a page past the last one is a 404).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page from 1 (default {self.page_size}; more than {self.max_page_size} "
                f"is served as {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
