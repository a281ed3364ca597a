"""The player page reads each thing once (issue 12, page_budget): a repeated read coming back fails here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.players import services
from apps.responsible import services as responsible
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
FACTS = "SELECT p.id AS id, p.external_id AS external_id"  # apps.players.eligibility's one query


def _page(client, player) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/admin/players/player/{player.pk}/change/")
    assert response.status_code == 200
    return [q["sql"] for q in captured]


@pytest.fixture
def known_player(admin_user):
    player = PlayerFactory()
    responsible.limit_set(actor=None, player=player, kind="deposit", period="month", value="500.00")
    services.player_tags_set(actor=admin_user, player=player, tags=["vip-watch"])
    services.player_note_add(actor=admin_user, player=player, text="Called about a bonus.")
    return player


def _fragment(client, player, name: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/admin/players/player/{player.pk}/section/{name}/?partial=1")
    assert response.status_code == 200
    return [q["sql"] for q in captured]


def test_it_reads_the_facts_and_the_tags_once_and_leaves_the_deferred_sections_out(
    staff_client, admin_user, known_player
):
    sql = _page(staff_client(admin_user), known_player)
    assert sum(q.startswith(FACTS) for q in sql) == 1  # the panel and the safer-gambling section share one read
    assert sum('FROM "players_tag"' in q for q in sql) == 1  # the list and the tags form's initial value
    # the history, the wallet and the KYC section are fetched after the page (apps.players.page, deferred)
    audit_reads = [q for q in sql if q.startswith("SELECT") and 'FROM "audit_event"' in q]
    assert audit_reads == []
    assert not any('"wallet_ledgertransaction"' in q or '"wallet_withdrawal"' in q for q in sql)
    assert not any('FROM "kyc_' in q for q in sql)


def test_the_history_fragment_reads_the_views_once(staff_client, admin_user, known_player):
    sql = _fragment(staff_client(admin_user), known_player, "history")
    audit_reads = [q for q in sql if q.startswith("SELECT") and 'FROM "audit_event"' in q]
    assert len(audit_reads) == 2  # the events but views, and the newest view with the count of views
    assert not any("INSERT" in q for q in sql)  # it writes no player.viewed (the page view did)


def test_more_views_cost_no_more_queries(staff_client, admin_user, known_player):
    client = staff_client(admin_user)
    first, first_history = _page(client, known_player), _fragment(client, known_player, "history")
    for _ in range(5):
        _page(client, known_player)
    html = client.get(f"/admin/players/player/{known_player.pk}/section/history/?partial=1").content.decode()
    assert f"Profile viewed 6 times, last by {admin_user.username}" in html
    # no more than the first view (fewer is fine: the first may also fill a cache another test's flush emptied)
    assert len(_page(client, known_player)) <= len(first)
    assert len(_fragment(client, known_player, "history")) <= len(first_history)


def test_the_status_form_shows_each_players_own_status(staff_client, mlro):
    """Its markup is kept per initial value (apps.players.admin.fixed_markup): one player's never shows on another's."""
    client = staff_client(mlro)
    active, suspended = PlayerFactory(), PlayerFactory(status="suspended")
    for player, selected in ((active, "active"), (suspended, "suspended"), (active, "active")):
        html = client.get(f"/admin/players/player/{player.pk}/change/").content.decode()
        form = html[html.index('id="status-form-status"') - 200 :]
        form = form[: form.index("</select>")]
        assert f'<option value="{selected}" selected>' in form
        assert form.count(" selected>") == 1


USAGE = "FROM wallet_player_day"  # apps.wallet.rollups.period_sums, the limit usage sums
EXCLUSION_ROWS = 'SELECT "responsible_exclusion"."id"'


def test_the_limit_usage_and_the_exclusions_are_read_once(staff_client, admin_user, known_player):
    """can() for deposit and for marketing and the limits section ask for the same sums, the panel and the section
    for the same exclusions: one read each (apps.core.read_scope); the section's rules come with the facts'
    configuration version, not a second read of it."""
    sql = _page(staff_client(admin_user), known_player)
    assert sum(USAGE in q for q in sql) == 1
    assert sum(q.startswith(EXCLUSION_ROWS) for q in sql) == 1
    assert not any(q.startswith("SELECT version FROM geo_geoconfigversion") for q in sql)


def test_each_view_reads_the_usage_of_its_own_moment(staff_client, admin_user, known_player):
    """The shared sums live for one page render: a deposit between two views shows on the second."""
    from decimal import Decimal

    from apps.core.read_scope import in_scope
    from apps.wallet import posting

    client = staff_client(admin_user)
    url = f"/admin/players/player/{known_player.pk}/change/"
    assert "GBP 500.00" in client.get(url).content.decode()  # nothing used: all of the limit remains
    posting.wallet_deposit(player=known_player, amount=Decimal("120.00"), currency=known_player.currency)
    html = client.get(url).content.decode()
    assert "GBP 120.00" in html and "GBP 380.00" in html  # used and remaining
    assert not in_scope()  # the scope ended with the page


def test_a_lift_to_decide_and_the_exclusion_behind_a_refusal_still_show(
    staff_client, admin_user, support_agent, known_player
):
    block = responsible.operator_exclude(
        actor=support_agent, player=known_player, reason="RG review", capabilities=["deposit"]
    )
    responsible.operator_lift_request(actor=support_agent, exclusion=block, reason="affordability shown")
    html = staff_client(admin_user).get(f"/admin/players/player/{known_player.pk}/change/").content.decode()
    assert "1 lift request(s) to decide" in html
    assert f"exclusion #{block.pk}: RG review" in html  # the panel's reason for the refused deposit


def test_the_safer_gambling_lists_cost_one_query_when_empty_and_still_show_when_not(
    staff_client, admin_user, known_player
):
    """Pending changes, identity edits, flags, interactions, register checks: one query says which hold
    anything, then only those are read."""
    from apps.responsible.choices import FlagKind
    from apps.responsible.models import Flag

    client = staff_client(admin_user)
    sql = _page(client, known_player)
    assert sum(q.startswith("SELECT EXISTS(") and "responsible_registercheck" in q for q in sql) == 1
    reads = [q for q in sql if q.startswith('SELECT "responsible_') and '"responsible_exclusion' not in q]
    assert reads == []
    Flag.objects.create(player=known_player, kind=FlagKind.LIMIT_80, detail={"kind": "deposit"}, period_key="t")
    sql = _page(client, known_player)
    reads = [q for q in sql if q.startswith('SELECT "responsible_') and '"responsible_exclusion' not in q]
    assert len(reads) == 1 and 'FROM "responsible_flag"' in reads[0]
    html = client.get(f"/admin/players/player/{known_player.pk}/change/").content.decode()
    assert '<h3 class="font-semibold mt-2">Flags</h3>' in html
