"""Admin building blocks for big tables: no exact COUNT(*) over millions of rows, read-only admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.functional import cached_property
from unfold.admin import ModelAdmin

from apps.core.errors import ApplicationError

# Above this many matching rows a filtered changelist shows "10,000+" pages' worth instead of counting.
CAPPED_COUNT = 10_000


class EstimatedCountPaginator(Paginator):
    """Counts cheaply: the planner's row estimate for the unfiltered table, a capped count for a filter.

    Unfiltered, ``pg_class.reltuples`` (kept by ANALYZE / autovacuum) is used once the table is big enough
    for an estimate to matter; small tables are counted exactly. Filtered, at most ``CAPPED_COUNT + 1`` rows
    are counted, so a broad filter over a huge table still costs a bounded scan.
    """

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return len(qs)
        if not qs.query.where:
            estimate = _estimated_rows(qs)
            if estimate is not None and estimate > CAPPED_COUNT:
                return estimate
        return qs.order_by()[: CAPPED_COUNT + 1].count()


def _estimated_rows(qs: QuerySet[Any]) -> int | None:
    with connections[qs.db].cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class BigTableAdminMixin:
    """For tables that grow to millions of rows: no full counts, no DISTINCT-scanning filters."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50


class ReadOnlyAdminMixin:
    """Rows are shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceRefusalAdminMixin:
    """Add forms whose ``save_model`` calls a service: a refusal the form could not foresee (a conflict, a
    race) becomes a message on the form's page instead of a server error. The admin's own transaction around
    the view rolls back, so nothing is written."""

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except ApplicationError as exc:
            messages.error(request, f"Nothing was saved: {exc.message}")
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    """Ledger, audit and case-event admins: big, read-only tables."""


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A list filter with a default: without its parameter the list shows ``default`` (the work queue), and the
    explicit choices include an "all" of the subclass's own instead of Django's parameter-less "All"."""

    default: str = ""

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def value(self) -> str:
        return super().value() or self.default
