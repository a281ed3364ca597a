"""The review queue's rows, built once per column (apps.players.changelist's builder) with the action checkbox the
queue needs for bulk assignment: unfold's ``items_for_result`` rebuilt every column header for every row, and
every cell went through the template engine (docs/PERFORMANCE.md, "kyc_queue"). The checkbox cell carries
unfold's checkbox classes instead of a field's; everything else is the players' builder, so the cells are the
markup unfold writes (tests/kyc/test_admin.py compares them row by row)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.admin.templatetags.admin_list import result_hidden_fields  # type: ignore[attr-defined]
from django.contrib.admin.views.main import ChangeList
from unfold.templatetags.unfold_list import CHECKBOX_CLASSES, result_headers

from apps.players import changelist

CHECKBOX = "action_checkbox"


def supported(cl: ChangeList) -> bool:
    """What the builder writes as unfold would: everything unfold-only but the action checkbox."""
    admin = cl.model_admin
    return not (
        getattr(cl, "formset", None)
        or getattr(admin, "ordering_field", None)
        or getattr(admin, "list_sections", None)
        or getattr(admin, "actions_row", None)
        or cl.list_display_links is None
        or cl.is_popup
    )


def columns(cl: ChangeList, headers: list[dict[str, Any]]) -> list[changelist.Column]:
    return [
        dataclasses.replace(c, classes=" ".join(CHECKBOX_CLASSES)) if c.name == CHECKBOX else c
        for c in changelist.columns(cl, headers)
    ]


def result_list(context: Any, cl: ChangeList) -> dict[str, Any]:
    headers = list(result_headers(cl))
    cols = columns(cl, headers)
    empty = cl.model_admin.get_empty_value_display()
    links = changelist.ChangeLinks(cl)
    num_sorted = sum(1 for h in headers if h["sortable"] and h["sorted"])
    rows = [changelist.row_cells(cl, result, cols, empty, links) for result in cl.result_list]
    return {  # what the players' change_list_rows.html renders
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": num_sorted,
        "headers_html": changelist.headers_markup(cl, headers, num_sorted),
        "rows": rows,
        "rows_html": changelist.rows_markup(rows),
        "actions_row": context.get("actions_row"),
        "has_add_permission": cl.model_admin.has_add_permission(context["request"]),
    }
