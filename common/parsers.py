"""The API's JSON parser: orjson, which refuses what the stdlib parser lets through or crashes on.

Nesting past orjson's limit (1,024 levels), lone surrogates (`"\\ud800"`), integers past 64 bits and NaN are a
400 naming the problem, never a RecursionError or a value the database cannot store.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        body = stream.read() if stream is not None else b""
        if not body:
            raise ParseError("JSON parse error - the body is empty")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
