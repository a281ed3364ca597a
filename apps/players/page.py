"""Sections of the player 360 page contributed by other apps (wallet, and later limits, KYC, bonuses, cases).

An app registers ``(template, context_function)`` from its AppConfig.ready(); the players app knows nothing
of them. The context function gets the request and the player and returns the template's context, or None to
hide the section (e.g. when the staff member may not see it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]


_sections: list[Section] = []


def register_section(template: str, context: Callable[[HttpRequest, Any], dict[str, Any] | None]) -> None:
    if all(s.template != template for s in _sections):
        _sections.append(Section(template, context))


def sections_for(request: HttpRequest, player: Any) -> list[tuple[str, dict[str, Any]]]:
    rendered = []
    for section in _sections:
        context = section.context(request, player)
        if context is not None:
            rendered.append((section.template, context))
    return rendered
