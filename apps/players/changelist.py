"""The player list's rows, worked out once per column instead of once per cell.

unfold's ``items_for_result`` rebuilds every column header (three query strings per sortable column) for every
row, and its results template goes through the template engine for every cell and row. At 50 rows of a million
players that was most of the page (docs/PERFORMANCE.md, "page_budget"). Here each column's classes, mobile label
and link are settled once per list; a row is its values escaped into them, and the change link is reversed once
per row. The cells are the strings unfold writes: tests/players/test_changelist_rows.py compares them with
unfold's own, row by row, and the whole table with unfold's template.

A list using what is not built here (editable cells, action checkboxes, drag ordering, row sections or row
actions) is rendered by unfold itself.
"""

from __future__ import annotations

import contextlib
import datetime
import html
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.admin.templatetags.admin_list import _coerce_field_name, result_hidden_fields  # type: ignore[attr-defined]
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (  # type: ignore[attr-defined]
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    lookup_field,
    quote,
)
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, formats, timezone, translation
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from unfold.templatetags.unfold_list import LINK_CLASSES, ROW_CLASSES, result_headers
from unfold.utils import (
    display_for_dropdown,
    display_for_field,
    display_for_header,
    display_for_label,
    display_for_value,
)

LINK_CLASS = " ".join(LINK_CLASSES)
# fields (these classes exactly, not subclasses) whose value unfold's display_for_field shows as str(value), or
# the empty value for None and ""
TEXT_FIELDS = (models.CharField, models.EmailField, models.TextField, models.SlugField, models.URLField)


@dataclass(frozen=True)
class Column:
    name: Any  # a list_display entry: a name or a callable
    label: str  # the cell's data-label (the column's name on narrow screens), escaped
    classes: str  # field-<name> and unfold's cell classes, without the "nowrap" some values add
    tag: str  # "th" for the first link column, else "td"
    link: bool
    field: Any  # the model field shown, as ``lookup_field`` finds it; None for a callable or an attribute
    choices: dict[Any, Any] | None  # the field's choices, looked up once
    text: bool = False  # a plain text field without choices: a string value is shown as it is
    # a plain date-time field without choices: the request's format and time zone, looked up once per list
    datetime_format: str | None = None
    zone: Any = None


def unsupported(cl: ChangeList) -> bool:
    """What only unfold's own rendering builds."""
    admin = cl.model_admin
    return bool(
        getattr(cl, "formset", None)
        or "action_checkbox" in cl.list_display
        or getattr(admin, "ordering_field", None)
        or getattr(admin, "list_sections", None)
        or getattr(admin, "actions_row", None)
        or cl.list_display_links is None
        or cl.is_popup
    )


def columns(cl: ChangeList, headers: list[dict[str, Any]]) -> list[Column]:
    links = cl.list_display_links
    found: list[Column] = []
    first = True
    for index, name in enumerate(cl.list_display):
        link = (first and not links) or name in links
        label = headers[index]["text"] if link or index != 0 else gettext("Select record")
        field = None
        if isinstance(name, str):
            with contextlib.suppress(FieldDoesNotExist, FieldIsAForeignKeyColumnName):  # not a field, as lookup_field
                field = _get_non_gfk_field(cl.lookup_opts, name)
        found.append(
            Column(
                name=name,
                label=conditional_escape(label),
                classes=" ".join([f"field-{_coerce_field_name(name, index)}", *ROW_CLASSES]),
                tag="th" if link and first else "td",
                link=link,
                field=field,
                choices=_choices(field),
                text=type(field) in TEXT_FIELDS and not getattr(field, "flatchoices", None),
                **_datetime_format(field),
            )
        )
        first = first and not link
    return found


def _datetime_format(field: Any) -> dict[str, Any]:
    if type(field) is not models.DateTimeField or getattr(field, "flatchoices", None) or not settings.USE_TZ:
        return {}
    return {"datetime_format": formats.get_format("DATETIME_FORMAT"), "zone": timezone.get_current_timezone()}


def _choices(field: Any) -> dict[Any, Any] | None:
    if field is None or not getattr(field, "flatchoices", None):
        return None
    try:
        return dict(field.flatchoices)
    except TypeError:  # list-like choices: unfold's display_for_field handles them
        return None


def _value(column: Column, result: models.Model, cl: ChangeList, empty: str) -> tuple[Any, bool]:
    """What the cell shows, and whether it must not wrap; as unfold's ``items_for_result`` decides it."""
    field = column.field
    try:
        if field is None:
            field, attr, value = lookup_field(column.name, result, cl.model_admin)
        else:  # what lookup_field does for a model field
            attr, value = None, getattr(result, column.name)
    except ObjectDoesNotExist:
        return empty, False
    if field is None or field.auto_created:
        empty = getattr(attr, "empty_value_display", empty)
        if label := getattr(attr, "label", False):
            shown = display_for_label(value, empty, label)
        elif getattr(attr, "dropdown", False):
            shown = display_for_dropdown(result, column.name, value, empty)
        elif getattr(attr, "header", False):
            shown = display_for_header(value, empty)
        else:
            shown = display_for_value(value, empty, getattr(attr, "boolean", False))
        return shown, isinstance(value, datetime.date | datetime.time)
    nowrap = isinstance(field, models.DateField | models.TimeField | models.ForeignKey)
    if isinstance(field.remote_field, models.ManyToOneRel):
        related = getattr(result, field.name)
        return (empty if related is None else related), nowrap
    if column.datetime_format is not None and type(value) is datetime.datetime and timezone.is_aware(value):
        # what display_for_field does (localize(template_localtime(value))), its lookups made once per list
        return dateformat.format(timezone.localtime(value, column.zone), column.datetime_format), nowrap
    if column.text:
        if value is None or value == "":
            return empty, nowrap
        if type(value) is str:
            return value, nowrap
    if column.choices is not None:
        try:
            return column.choices.get(value, empty), nowrap
        except TypeError:
            pass
    return display_for_field(value, field, empty), nowrap


class ChangeLinks:
    """Each row's change link, with the list's filters preserved. The link differs between rows by the primary
    key only: it is reversed and given the filters once, then each integer key is put in (other keys are
    reversed row by row, as Django's ``url_for_result``)."""

    MARK = "0pk0"

    def __init__(self, cl: ChangeList) -> None:
        self.cl = cl
        try:
            self.prefix, _, self.suffix = self._url(self.MARK).partition(self.MARK)
        except NoReverseMatch:
            self.prefix = self.suffix = ""

    def _url(self, pk: Any) -> str:
        cl = self.cl
        url = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(quote(pk),),
            current_app=cl.model_admin.admin_site.name,
        )
        return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)

    def anchor(self, result: models.Model) -> str:
        """The opening ``<a ...>`` of the row's link, escaped; "" where the change view has no URL."""
        pk = getattr(result, self.cl.pk_attname)
        if type(pk) is int and self.prefix:
            url = f"{self.prefix}{pk}{self.suffix}"
        else:
            try:
                url = self._url(pk)
            except NoReverseMatch:
                return ""
        return f'<a href="{escape(url)}" class="{LINK_CLASS}" >'


def row_cells(cl: ChangeList, result: models.Model, cols: list[Column], empty: str, links: ChangeLinks) -> SafeString:
    """One row's cells, the markup unfold's ``items_for_result`` writes for them."""
    anchor = None
    parts = []
    for column in cols:
        shown, nowrap = _value(column, result, cl, empty)
        classes = f"{column.classes} nowrap" if nowrap else column.classes
        # Django's escape of a str is html.escape; other values (safe strings, lazy text) go through it
        content: str = html.escape(shown) if type(shown) is str else conditional_escape(shown)
        if column.link:
            if anchor is None:
                anchor = links.anchor(result)
            if anchor:
                content = f"{anchor}{content}</a>"
        parts.append(f'<{column.tag} class="{classes}" data-label="{column.label}">{content}</{column.tag}>')
    # values, labels and links are escaped above; classes and tags are field names and fixed words
    return mark_safe("".join(parts))  # noqa: S308


HEADERS_TEMPLATE = "unfold/helpers/change_list_headers.html"
HEADER_ENTRIES = 512  # distinct headers kept per process (their links carry the list's query); then it starts again
_HEADERS: dict[tuple[Any, ...], SafeString] = {}
# a row as unfold's admin/change_list_results.html wraps it, every other row striped
ROW = (
    '<tbody class="block relative lg:table-row-group {}" x-data="{{rowOpen: false}}" >'
    '<tr class="data-row block border border-base-200 mb-3 relative rounded-default lg:table-row lg:border-none'
    ' lg:mb-0 lg:rounded-none dark:border-base-800">{}</tr></tbody>'
)
STRIPES = ("", "bg-base-50 dark:bg-white/[.02]")


def _key_value(value: Any) -> tuple[type, Any]:
    """A value of the headers' key: its type too, as a str and a SafeString of the same text render apart."""
    return (str, str(value)) if isinstance(value, Promise) else (type(value), value)


def rows_markup(rows: list[SafeString]) -> SafeString:
    """The rows as unfold's ``change_list_results.html`` wraps them, every other one striped (the cells are
    escaped by ``row_cells``; the wrapping is fixed markup)."""
    return mark_safe("".join(ROW.format(STRIPES[i % 2], row) for i, row in enumerate(rows)))  # noqa: S308


def headers_markup(cl: ChangeList, headers: list[dict[str, Any]], num_sorted: int) -> SafeString:
    """unfold's ``change_list_headers.html`` for these headers, rendered once per process for each headers'
    texts, classes and sort links (and language): 8 columns through the template cost about 0.3 ms a view."""
    context = {"cl": cl, "result_headers": headers, "num_sorted_fields": num_sorted}
    try:
        key = (
            type(cl.model_admin),
            num_sorted,
            translation.get_language(),
            tuple(tuple((name, *_key_value(value)) for name, value in header.items()) for header in headers),
        )
        markup = _HEADERS.get(key)
    except TypeError:  # a value that cannot be a key: render it
        return SafeString(render_to_string(HEADERS_TEMPLATE, context))
    if markup is None:
        markup = SafeString(render_to_string(HEADERS_TEMPLATE, context))
        if len(_HEADERS) >= HEADER_ENTRIES:
            _HEADERS.clear()
        _HEADERS[key] = markup
    return markup


def result_list(context: Any, cl: ChangeList) -> dict[str, Any]:
    """The context of the list's table: unfold's headers (built once), and each row's cells as one string."""
    headers = list(result_headers(cl))
    cols = columns(cl, headers)
    empty = cl.model_admin.get_empty_value_display()
    links = ChangeLinks(cl)
    num_sorted = sum(1 for h in headers if h["sortable"] and h["sorted"])
    rows = [row_cells(cl, result, cols, empty, links) for result in cl.result_list]
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": num_sorted,
        "headers_html": headers_markup(cl, headers, num_sorted),
        "rows": rows,
        # the cells are escaped (row_cells); the stripes and the wrapping are fixed markup
        "rows_html": rows_markup(rows),
        "actions_row": context.get("actions_row"),
        "has_add_permission": cl.model_admin.has_add_permission(context["request"]),
    }


PAGINATION_TEMPLATE = "unfold/helpers/pagination.html"
_PAGINATION: dict[tuple[Any, ...], SafeString] = {}


def pagination_markup(context: Any, cl: ChangeList) -> SafeString:
    """unfold's pagination footer, as the change list's ``{% include %}`` renders it with the page's context, kept
    per process for each count, page, page count, query and language (bounded as the headers are): its page links
    cost about 0.5 ms a view. Only for a list built here (no editable cells: no save button)."""
    template = context.template.engine.get_template(PAGINATION_TEMPLATE)
    if unsupported(cl):
        return SafeString(template.render(context))
    key = (
        type(cl),
        type(cl.model_admin),
        translation.get_language(),
        cl.result_count,
        cl.page_num,
        cl.paginator.num_pages,
        cl.show_all,
        cl.can_show_all,
        cl.multi_page,
        tuple((name, *_key_value(value)) for name, value in cl.params.items()),
        repr(context.get("element_classes")),
    )
    markup = _PAGINATION.get(key)
    if markup is None:
        markup = SafeString(template.render(context))
        if len(_PAGINATION) >= HEADER_ENTRIES:
            _PAGINATION.clear()
        _PAGINATION[key] = markup
    return markup
