"""The brand filter every staff list offers (players, transactions, withdrawals, exclusions...), and list filters
whose sidebar markup is rendered once per what it shows.

Choices come from the small brands table, never from a DISTINCT over a big one; staff see every brand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import get_template
from django.utils import translation
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from unfold.contrib.filters.admin import TextFilter

from apps.players.models import Brand

MARKUP_ENTRIES = 512  # distinct (filter, choices, language) kept per process; then the cache starts again
_MARKUP: dict[tuple[Any, ...], SafeString] = {}


class CachedMarkupFilter(admin.SimpleListFilter):
    """A list filter whose sidebar markup is unfold's template rendered once per process for each filter class,
    title, language and choices (each choice's display, query string and whether it is selected).

    unfold's ``admin/filter.html`` costs about 0.1 ms a choice on every view of a list (docs/PERFORMANCE.md,
    "page_budget"), for markup that changes only with those. The choices themselves are still worked out on every
    view (``lookups`` reads the database as before: a new brand shows at once), so a hit is the same input as a
    render. ``template`` is this project's one-line template that calls ``filter_markup``; ``unfold_template`` is
    the template rendered on a miss. tests/players/test_changelist_filters.py compares the markup with unfold's.
    """

    template = "admin/players/player/filter.html"
    unfold_template = "admin/filter.html"

    def markup_key(self, choices: list[dict[str, Any]]) -> tuple[Any, ...] | None:
        """What the markup depends on besides the class, title and language; None: render it every time."""
        key = []
        for choice in choices:
            items = []
            for name, value in choice.items():
                if isinstance(value, Promise):
                    value = str(value)
                if value is not None and not isinstance(value, str | bool | int):
                    return None  # a value this key cannot stand for (a form, a model): unfold renders it
                items.append((name, type(value), value))  # a str and a SafeString of one text render apart
            key.append(tuple(items))
        return (getattr(self, "horizontal", None), tuple(key))


class CachedTextFilter(TextFilter):  # type: ignore[misc]
    """unfold's text filter, its markup (a one-field search form) kept as ``CachedMarkupFilter`` keeps it: per
    class, title, language and the value typed (the cache is bounded)."""

    template = CachedMarkupFilter.template
    unfold_template = TextFilter.template

    def markup_key(self, choices: list[dict[str, Any]]) -> tuple[Any, ...] | None:
        value = self.value()
        return ("text", self.parameter_name, value) if value is None or isinstance(value, str) else None


def filter_markup(spec: CachedMarkupFilter | CachedTextFilter, title: Any, choices: list[dict[str, Any]]) -> SafeString:
    """The filter's sidebar markup, as Django's ``admin_list_filter`` renders ``spec.unfold_template``."""
    context = {"title": title, "choices": choices, "spec": spec}
    part = spec.markup_key(choices)
    if part is None:
        return SafeString(get_template(spec.unfold_template).render(context))
    key = (type(spec), spec.unfold_template, str(title), translation.get_language(), part)
    markup = _MARKUP.get(key)
    if markup is None:
        markup = SafeString(get_template(spec.unfold_template).render(context))
        if len(_MARKUP) >= MARKUP_ENTRIES:  # query strings carry searches: keep the cache bounded
            _MARKUP.clear()
        _MARKUP[key] = markup
    return markup


def brand_filter(path: str = "brand") -> type[admin.SimpleListFilter]:
    """A list filter on ``<path>__id`` (e.g. ``player__brand`` on a model with a ``player`` foreign key)."""

    class BrandFilter(CachedMarkupFilter):
        title = "brand"
        parameter_name = "brand"

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return [(str(pk), name) for pk, name in Brand.objects.order_by("name").values_list("pk", "name")]

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            if not value:
                return queryset
            if not value.isdigit():  # a hand-edited URL: no match rather than a 500
                return queryset.none()
            return queryset.filter(**{f"{path}__id": int(value)})

    BrandFilter.__name__ = f"BrandFilter_{path.replace('__', '_')}"
    return BrandFilter
