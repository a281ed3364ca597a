"""The API's JSON parser: DRF's, plus three refusals that would otherwise surface as 500s further in.

- Nesting deeper than ``MAX_DEPTH``: Python's decoder raises ``RecursionError`` at about a thousand levels, and
  anything a little shallower can still exhaust the stack in the idempotency hash or the database adapter.
- A NUL character (``\\u0000``) in any key or string: PostgreSQL text and jsonb cannot store one.
- Both answer 400 ``parse_error`` with the standard error shape.

The checks cost a byte search on an ordinary body; the walk over the parsed value runs only when the raw body
holds an escaped NUL or more brackets than ``MAX_DEPTH`` (a bet has one).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, renderers

MAX_DEPTH = 32


class JsonParser(parsers.JSONParser):
    renderer_class = renderers.JSONRenderer

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            text = raw.decode(encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if b"\\u0000" in raw and _has_nul(data):
            raise exceptions.ParseError("JSON strings and keys may not contain a NUL character (\\u0000).")
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    """How deeply lists and objects nest (iterative: the value may be too deep to recurse over)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
