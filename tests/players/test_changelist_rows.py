"""The player list's rows (apps.players.changelist) are the markup unfold writes, and cost no query per row."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from unfold.templatetags import unfold_list

from apps.players import changelist
from apps.players.models import Player
from tests.factories import BrandFactory, PlayerFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/players/player/"


def _players() -> None:
    other = BrandFactory(code="lucky-spins", name="Lucky <Spins> & Co")
    PlayerFactory(first_name="Steven", last_name="O'Neill", email="steven@example.com")
    PlayerFactory(first_name="Zoë", last_name="<b>Bold</b>", brand=other, status="suspended")
    PlayerFactory(first_name="Ann", last_name="Lee", email="ann@example.com", country="DE", currency="EUR")


def _changelist(user: Any, query: dict[str, str]) -> tuple[Any, Any]:
    request = RequestFactory().get(LIST, query)
    request.user = user
    cl = admin.site._registry[Player].get_changelist_instance(request)
    cl.formset = None  # as changelist_view sets it for a list without editable cells
    return cl, request


@pytest.mark.parametrize("query", [{}, {"o": "-2.1"}, {"status": "suspended", "q": "o"}, {"brand": "x", "p": "1"}])
def test_it_writes_each_row_as_unfold_does(support_agent, query):
    _players()
    cl, _ = _changelist(support_agent, query)
    assert not changelist.unsupported(cl)
    headers = list(unfold_list.result_headers(cl))
    columns = changelist.columns(cl, headers)
    links = changelist.ChangeLinks(cl)
    empty = cl.model_admin.get_empty_value_display()
    rows = list(cl.result_list)
    assert rows or query.get("brand")
    for row in rows:
        theirs = "".join(unfold_list.items_for_result(cl, row, None))
        assert changelist.row_cells(cl, row, columns, empty, links) == theirs


def test_the_whole_table_is_unfolds_table(support_agent):
    _players()
    cl, request = _changelist(support_agent, {"status": "active", "o": "3"})
    context = {"request": request}
    mine = render_to_string(
        "admin/players/player/change_list_rows.html",
        {**changelist.result_list(context, cl), "opts": cl.opts},
        request,
    )
    theirs = render_to_string(
        "admin/change_list_results.html", {**unfold_list.result_list(context, cl), "opts": cl.opts}
    )
    assert parse_html(mine) == parse_html(theirs)
    assert "O&#x27;Neill" in mine and "sorted ascending" in mine


def test_the_page_shows_the_rows_with_their_links(staff_client, support_agent):
    _players()
    html = staff_client(support_agent).get(LIST, {"status": "suspended"}).content.decode()
    suspended = Player.objects.get(status="suspended")
    assert f"/admin/players/player/{suspended.pk}/change/?_changelist_filters=status%3Dsuspended" in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "Lucky &lt;Spins&gt; &amp; Co" in html
    assert 'data-label="created at"' in html


def test_a_popup_list_is_unfolds_own(staff_client, support_agent):
    _players()
    html = staff_client(support_agent).get(LIST, {"_popup": "1"}).content.decode()
    assert "data-popup-opener" in html  # built by unfold: the rows here do not build popups


def test_rows_cost_no_query_each(staff_client, support_agent):
    """The list loads only the columns it shows: a column read from a deferred field would cost a query per row."""
    client = staff_client(support_agent)
    PlayerFactory()
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    _players()
    for _ in range(10):
        PlayerFactory()
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(many) == len(one)
    player_rows = [q["sql"] for q in many if q["sql"].startswith('SELECT "players_player"."id"')]
    assert len(player_rows) == 1 and '"players_player"."address_line"' not in player_rows[0]
