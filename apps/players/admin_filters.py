"""The brand filter every staff list offers (players, transactions, withdrawals, exclusions...).

Choices come from the small brands table, never from a DISTINCT over a big one; staff see every brand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.players.models import Brand


def brand_filter(path: str = "brand") -> type[admin.SimpleListFilter]:
    """A list filter on ``<path>__id`` (e.g. ``player__brand`` on a model with a ``player`` foreign key)."""

    class BrandFilter(admin.SimpleListFilter):
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
