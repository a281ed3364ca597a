"""The player list's filter sidebar (apps.players.admin_filters.CachedMarkupFilter) is unfold's markup, byte for
byte, whether it is rendered or comes from the cache, and follows what the choices are."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import admin_list_filter
from django.template import RequestContext, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone, translation
from unfold.templatetags import unfold_list

from apps.players import admin_filters, changelist
from apps.players.models import Player
from tests.factories import BrandFactory, PlayerFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/players/player/"
SIDEBAR = "unfold/helpers/change_list_filter.html"
QUERIES = [
    {},
    {"status": "suspended"},
    {"status": "suspended", "q": 'o"<b>', "o": "-2.1"},
    {"brand": "x", "p": "1"},
    {"country": "GB", "same_person_as": "ext-<1>&"},
    {"same_person_as": ""},
]


def _changelist(user: Any, query: dict[str, str]) -> tuple[Any, Any]:
    request = RequestFactory().get(LIST, query)
    request.user = user
    return admin.site._registry[Player].get_changelist_instance(request), request


def _unfolds(cl: Any, request: Any) -> str:
    """The sidebar as unfold renders it: each filter through its unfold template."""
    for spec in cl.filter_specs:
        spec.template = spec.unfold_template  # on the instance: the class keeps the cached template
    try:
        return render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})
    finally:
        for spec in cl.filter_specs:
            del spec.template


@pytest.mark.parametrize("query", QUERIES)
def test_the_sidebar_is_unfolds_byte_for_byte(support_agent, query):
    BrandFactory(code="lucky-spins", name="Lucky <Spins> & Co")
    PlayerFactory(country="DE", currency="EUR")
    admin_filters._MARKUP.clear()
    cl, request = _changelist(support_agent, query)
    assert all(
        isinstance(spec.template, str) and spec.template.startswith("admin/players/") for spec in cl.filter_specs
    )
    theirs = _unfolds(cl, request)
    rendered = render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})  # a miss: rendered
    cached = render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})  # a hit
    assert rendered == theirs
    assert cached == theirs
    for spec in cl.filter_specs:  # each filter, as Django's admin_list_filter renders it
        mine = admin_list_filter(cl, spec)
        spec.template = spec.unfold_template
        assert mine == admin_list_filter(cl, spec)
        del spec.template


def test_the_cache_follows_the_choices_the_language_and_the_query(support_agent):
    admin_filters._MARKUP.clear()
    BrandFactory(code="first", name="First brand")
    cl, request = _changelist(support_agent, {})
    before = render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})
    BrandFactory(code="second", name="Second brand")  # a new brand shows at once
    cl, request = _changelist(support_agent, {})
    after = render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})
    assert "Second brand" not in before and "Second brand" in after
    assert after == _unfolds(cl, request)
    cl, request = _changelist(support_agent, {"q": "ann"})
    searched = render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})
    assert "q=ann" in searched and searched == _unfolds(cl, request)
    with translation.override("de"):
        cl, request = _changelist(support_agent, {})
        german = render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})
        assert german == _unfolds(cl, request)


def test_the_cache_is_bounded(support_agent, monkeypatch):
    monkeypatch.setattr(admin_filters, "MARKUP_ENTRIES", 8)
    admin_filters._MARKUP.clear()
    for i in range(10):
        cl, request = _changelist(support_agent, {"q": f"search {i}"})
        render_to_string(SIDEBAR, {"cl": cl, "opts": cl.opts, "request": request})
    assert 0 < len(admin_filters._MARKUP) <= 8


def test_the_page_shows_the_filters(staff_client, support_agent):
    BrandFactory(code="lucky-spins", name="Lucky <Spins> & Co")
    html = staff_client(support_agent).get(LIST, {"status": "suspended"}).content.decode()
    assert "Lucky &lt;Spins&gt; &amp; Co" in html
    assert "?status=closed" in html and 'name="same_person_as"' in html


@pytest.mark.parametrize("query", [{}, {"o": "-2.1"}, {"o": "3.-1", "status": "active"}, {"q": '"<b>'}])
def test_the_headers_are_unfolds(support_agent, query):
    PlayerFactory(email="")  # an empty text cell: the empty value, as unfold shows it
    changelist._HEADERS.clear()
    cl, _ = _changelist(support_agent, query)
    cl.formset = None
    headers = list(unfold_list.result_headers(cl))
    num_sorted = sum(1 for h in headers if h["sortable"] and h["sorted"])
    theirs = render_to_string(
        changelist.HEADERS_TEMPLATE, {"cl": cl, "result_headers": headers, "num_sorted_fields": num_sorted}
    )
    assert changelist.headers_markup(cl, headers, num_sorted) == theirs  # rendered
    assert changelist.headers_markup(cl, headers, num_sorted) == theirs  # from the cache
    columns = changelist.columns(cl, headers)
    links = changelist.ChangeLinks(cl)
    for row in cl.result_list:
        mine = changelist.row_cells(cl, row, columns, cl.model_admin.get_empty_value_display(), links)
        assert mine == "".join(unfold_list.items_for_result(cl, row, None))


@pytest.mark.parametrize("query", [{}, {"p": "2"}, {"p": "3", "status": "active", "q": "a&b"}])
def test_the_pagination_is_unfolds(staff_client, support_agent, monkeypatch, query):
    monkeypatch.setattr(admin.site._registry[Player], "list_per_page", 1)
    for _ in range(3):
        PlayerFactory(status="active", first_name="a&b")
    changelist._PAGINATION.clear()
    client = staff_client(support_agent)
    pages = [client.get(LIST, query).content.decode() for _ in range(2)]  # rendered, then from the cache
    cl, request = _changelist(support_agent, query)
    theirs = Template('{% include "unfold/helpers/pagination.html" %}').render(
        RequestContext(request, {"cl": cl, "opts": cl.opts})
    )
    assert "?p=" in theirs or "?status=" in theirs
    for html in pages:
        assert theirs in html


def test_the_date_cells_follow_the_time_zone_and_the_language(support_agent):
    """The rows' date-time cells use the request's format and zone, looked up once per list: as unfold's cells."""
    PlayerFactory()
    PlayerFactory(email="")
    for zone, language in (("America/New_York", "de"), ("Asia/Kolkata", "en")):
        with timezone.override(zone), translation.override(language):
            cl, _ = _changelist(support_agent, {})
            cl.formset = None
            headers = list(unfold_list.result_headers(cl))
            columns = changelist.columns(cl, headers)
            links = changelist.ChangeLinks(cl)
            for row in cl.result_list:
                mine = changelist.row_cells(cl, row, columns, cl.model_admin.get_empty_value_display(), links)
                assert mine == "".join(unfold_list.items_for_result(cl, row, None))
