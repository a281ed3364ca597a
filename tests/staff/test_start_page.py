"""The admin's start page: the work queues registry (apps.core.workqueues), each role's queues with their counts
and links (permissions checked on the server), the player search (the start page's box, the command palette),
the menu in the operator's words with System for Administrators only, and the styled 403/404/500 pages."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone

from apps.core import workqueues
from apps.core.models import DeliveryStatus, OutboxDelivery, OutboxEvent
from apps.kyc.models import Review
from apps.players.models import Player
from apps.responsible import services as responsible
from apps.responsible.choices import FlagKind, RegisterOutcome
from apps.responsible.models import Flag, IdentityChangeRequest, RegisterCheck
from apps.staff import roles
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Withdrawal
from backoffice.urls import urlpatterns as site_urls
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
START = "/admin/"
QUEUE = re.compile(r'data-queue="([^"]+)" data-count="(\d+)"')

# what each role finds on its start page once every kind of work waits (seed_work below)
EXPECTED = {
    roles.ADMINISTRATOR: {
        "responsible.lifts_to_decide": 1,
        "responsible.corrections_to_decide": 1,
        "responsible.identity_edits_to_decide": 1,
        "responsible.register_outages": 2,
        "core.dead_webhooks": 1,
        "kyc.reviews_overdue": 1,
    },
    roles.MLRO: {
        "responsible.lifts_to_decide": 1,
        "responsible.corrections_to_decide": 1,
        "responsible.identity_edits_to_decide": 1,
        "kyc.reviews_waiting": 0,  # their own and their teams' (none is assigned to them)
        "kyc.reviews_overdue": 1,
        # their cases (none is waiting in this seed: the AML work has tests/compliance/test_admin.py)
        "compliance.my_cases": 0,
        "compliance.unassigned": 0,
        "compliance.at_risk": 0,
        "compliance.breached": 0,
        "compliance.closings_to_approve": 0,
        "screening.open_hits": 0,
    },
    roles.AML_ANALYST: {
        "responsible.lifts_to_decide": 1,
        "responsible.corrections_to_decide": 1,
        "compliance.my_cases": 0,
        "compliance.unassigned": 0,
        "screening.open_hits": 0,
    },
    roles.FINANCE_OFFICER: {
        "wallet.withdrawals_to_approve": 2,
        "wallet.withdrawals_second_approval": 1,
        "wallet.adjustments_to_approve": 1,
    },
    roles.SUPPORT_AGENT: {"responsible.corrections_to_decide": 1, "responsible.limit_flags": 3},
    roles.KYC_OFFICER: {"responsible.identity_edits_to_decide": 1, "kyc.reviews_waiting": 0},
    roles.CRM_MANAGER: {},
}


def seed_work() -> dict[str, Any]:
    """One or more of every kind of work, each asked for by a maker who is not the member looking at it."""
    finance_maker = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    support_maker = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    kyc_maker = StaffUserFactory(roles=[roles.KYC_OFFICER])
    players = [PlayerFactory(country="GB", currency="GBP") for _ in range(3)]
    for player in players:
        posting.wallet_deposit(player=player, amount=D("5000.00"), currency="GBP")
    for player in players[:2]:
        wallet.withdrawal_request(player=player, amount=D("50.00"), currency="GBP")
    big = wallet.withdrawal_request(player=players[2], amount=D("4000.00"), currency="GBP")
    wallet.withdrawal_approve(actor=finance_maker, withdrawal=big)  # above the threshold: a second approver
    wallet.adjustment_request(actor=finance_maker, player=players[0], amount="500.00", reason="lost win")
    block = responsible.operator_exclude(actor=support_maker, player=players[1], reason="chasing losses")
    responsible.operator_lift_request(
        actor=StaffUserFactory(roles=[roles.SUPPORT_AGENT]), exclusion=block, reason="affordability checked"
    )
    keyed = responsible.self_exclude(actor=None, player=PlayerFactory(country="GB", currency="GBP"), term="5y")
    responsible.exclusion_correction_request(actor=support_maker, exclusion=keyed, term="1y", reason="keyed 5y")
    _held_identity_edit(kyc_maker)
    for i, player in enumerate(players):
        Flag.objects.create(player=player, kind=FlagKind.LIMIT_80, detail={"limit": "deposit"}, period_key=f"d{i}")
    Flag.objects.create(player=players[0], kind=FlagKind.LIMIT_REACHED, detail={}, period_key="full")  # not 80%
    Flag.objects.create(
        player=players[2],
        kind=FlagKind.LIMIT_80,
        detail={},
        period_key="last-month",
        created_at=timezone.now() - timedelta(days=30),
    )
    for outcome in (RegisterOutcome.ERROR, RegisterOutcome.ERROR, RegisterOutcome.MISS):
        RegisterCheck.objects.create(register="gamstop", point="login", outcome=outcome, subject="x")
    RegisterCheck.objects.create(
        register="gamstop", point="login", outcome=RegisterOutcome.ERROR, at=timezone.now() - timedelta(days=3)
    )
    # an overdue KYC review nobody holds (rows only: no document file is needed to count it)
    Review.objects.create(player=players[0], due_at=timezone.now() - timedelta(hours=1))
    event = OutboxEvent.objects.create(type="player.updated", key=players[0].external_id, data={})
    OutboxDelivery.objects.create(event=event, subscriber="pk1", key=event.key, status=DeliveryStatus.DEAD)
    OutboxDelivery.objects.create(event=event, subscriber="pk2", key=event.key, status=DeliveryStatus.DELIVERED)
    return {"players": players, "finance_maker": finance_maker, "support_maker": support_maker}


def _held_identity_edit(maker: Any) -> IdentityChangeRequest:
    from apps.players.services import player_update

    person = {"first_name": "Ann", "last_name": "Smith", "date_of_birth": timezone.now().date().replace(year=1990)}
    responsible.self_exclude(actor=None, player=PlayerFactory(**person), term="5y")
    twin = PlayerFactory(**person)
    with pytest.raises(Exception) as held:
        player_update(actor=maker, player=twin, changes={"last_name": "Smyth"}, staff=True, reason="passport")
    assert held.value.code == "second_person_required"  # type: ignore[attr-defined]
    return IdentityChangeRequest.objects.get(player=twin)


def queues_on(html: str) -> dict[str, int]:
    return {key: int(count) for key, count in QUEUE.findall(html)}


# --- the registry -------------------------------------------------------------------------------------------


@pytest.fixture
def own_queue() -> Any:
    queue = workqueues.register_queue(
        "test.players", "Players to look at", count=lambda user: Player.objects.all(), url="admin:index?x=1",
        permission="players.view_player", section="Tests",
    )  # fmt: skip
    yield queue
    workqueues.unregister_queue("test.players")


def test_it_lists_a_registered_queue_only_to_members_with_its_permissions(own_queue, crm_manager, outsider):
    PlayerFactory()
    assert own_queue in workqueues.queues_for(crm_manager)  # CRM Managers view players
    assert own_queue not in workqueues.queues_for(outsider)
    item = next(i for i in workqueues.work_for(crm_manager) if i.queue is own_queue)
    assert (item.count.value, item.count.display, item.url) == (1, "1", "/admin/?x=1")
    html = verified_client(crm_manager).get(START).content.decode()
    assert queues_on(html) == {"test.players": 1} and "Players to look at" in html


def test_it_refuses_a_key_registered_twice_differently_and_a_permission_without_an_app_label(own_queue):
    with pytest.raises(ValueError, match="already registered differently"):
        workqueues.register_queue("test.players", "Other", count=own_queue.count, url="x", permission="a.b")
    with pytest.raises(ValueError, match=r"app_label\.codename"):
        workqueues.register_queue("test.bad", "Bad", count=own_queue.count, url="x", permission="view_player")


def test_a_queue_whose_count_is_none_is_left_out(crm_manager):
    workqueues.register_queue(
        "test.none", "Nothing", count=lambda user: None, url="admin:index", permission="players.view_player"
    )
    try:
        assert "test.none" not in {i.queue.key for i in workqueues.work_for(crm_manager)}
    finally:
        workqueues.unregister_queue("test.none")


def test_it_counts_exactly_up_to_the_cap_and_estimates_above_it(settings):
    for _ in range(5):
        PlayerFactory()
    assert workqueues.count_rows(Player.objects.all(), exact_up_to=5) == workqueues.Count(5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE players_player")
    estimate = workqueues.count_rows(Player.objects.all(), exact_up_to=3)
    assert estimate.estimated and estimate.value >= 4 and estimate.display.startswith("~")
    with CaptureQueriesContext(connection) as queries:
        workqueues.count_rows(Player.objects.filter(status="active"), exact_up_to=3)
    sqls = [q["sql"].upper() for q in queries]
    assert "LIMIT 4" in sqls[0] and sqls[1].startswith("EXPLAIN"), sqls  # never an unbounded COUNT(*)


def test_many_querysets_are_counted_in_one_statement_each_as_count_rows_counts_it(settings):
    for status in ("active", "active", "active", "active", "suspended"):
        PlayerFactory(status=status)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE players_player")
    querysets = [
        Player.objects.filter(status="active"),
        Player.objects.filter(status="suspended"),
        Player.objects.none(),
        Player.objects.all(),
    ]
    with CaptureQueriesContext(connection) as queries:
        counted = workqueues.count_many(querysets, exact_up_to=3)
    # the active players and all players reach the cap: estimated (each an EXPLAIN after the one statement)
    assert [c.value for c in counted[1:3]] == [1, 0] and counted[0].estimated and counted[3].estimated
    assert counted == [workqueues.count_rows(qs, exact_up_to=3) for qs in querysets]
    sqls = [q["sql"].upper() for q in queries]
    # .none() is 0 without SQL; the other three in the one statement
    assert len(sqls) == 3 and sqls[0].count("LIMIT 4") == 3 and all(s.startswith("EXPLAIN") for s in sqls[1:]), sqls
    assert workqueues.count_many([]) == []


def test_the_start_page_counts_its_queues_in_one_statement(admin_user):
    with CaptureQueriesContext(connection) as queries:
        workqueues.work_for(admin_user)
    capped = [q["sql"] for q in queries if "LIMIT 1001" in q["sql"]]
    assert len(capped) == 1, capped  # every queryset queue of the member in the one statement


@pytest.mark.parametrize(
    ("n", "shown"), [(12, "12"), (999, "999"), (1234, "1.2k"), (12_345, "12k"), (1_000, "1k"), (2_500_000, "2.5M")]
)
def test_it_shows_big_numbers_compactly(n, shown):
    assert workqueues.compact(n) == shown


def test_every_registered_queue_names_real_permissions_and_a_url_that_resolves():
    known = {f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")}
    admin = StaffUserFactory(roles=[roles.ADMINISTRATOR])
    keys = {q.key for q in workqueues.queues()}
    assert {
        "wallet.withdrawals_to_approve",
        "wallet.withdrawals_second_approval",
        "wallet.adjustments_to_approve",
        "responsible.lifts_to_decide",
        "responsible.corrections_to_decide",
        "responsible.identity_edits_to_decide",
        "responsible.limit_flags",
        "responsible.register_outages",
        "core.dead_webhooks",
    } <= keys
    for queue in workqueues.queues():
        assert set(queue.permissions) <= known, queue.key
        assert queue.link(admin).startswith("/admin/"), queue.key


# --- each role's start page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_the_queues_it_may_act_on_with_counts_and_working_links(role):
    seed_work()
    member = StaffUserFactory(roles=[role])
    client = verified_client(member)
    response = client.get(START)
    assert response.status_code == 200
    html = response.content.decode()
    assert queues_on(html) == EXPECTED[role]
    for item in workqueues.work_for(member):  # every link opens for this member and lists what was counted
        listed = client.get(item.url)
        assert listed.status_code == 200, (item.queue.key, item.url)
        assert f'href="{item.url.replace("&", "&amp;")}"' in html
    if not EXPECTED[role]:
        assert 'id="work-none"' in html and "Nothing is waiting for you" in html
    assert role in html  # the role and what it is for


def test_the_queue_links_list_what_was_counted():
    seed_work()
    finance = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    client = verified_client(finance)
    links = {i.queue.key: i.url for i in workqueues.work_for(finance)}
    to_approve = client.get(links["wallet.withdrawals_to_approve"])
    second = client.get(links["wallet.withdrawals_second_approval"])
    pending = Withdrawal.objects.filter(status="pending")
    first_free = [w.pk for w in pending if w.first_approver_id is None]
    assert to_approve.context["cl"].result_count == len(first_free) == 2
    assert second.context["cl"].result_count == 1
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    flags = verified_client(support).get(next(i.url for i in workqueues.work_for(support) if "flags" in i.queue.key))
    assert flags.context["cl"].result_count == 3  # the last week's 80% flags: not last month's, not a full limit
    admin = StaffUserFactory(roles=[roles.ADMINISTRATOR])
    outage_url = next(i.url for i in workqueues.work_for(admin) if "outages" in i.queue.key)
    assert verified_client(admin).get(outage_url).context["cl"].result_count == 2


def test_a_maker_does_not_find_their_own_request_in_their_queue():
    work = seed_work()
    maker = work["finance_maker"]  # asked for the adjustment and gave the big withdrawal's first approval
    html = verified_client(maker).get(START).content.decode()
    counted = queues_on(html)
    assert counted["wallet.adjustments_to_approve"] == 0 and counted["wallet.withdrawals_second_approval"] == 0
    assert counted["wallet.withdrawals_to_approve"] == 2


def test_a_permission_granted_or_taken_shows_or_hides_its_queue(crm_manager):
    client = verified_client(crm_manager)
    assert "wallet.withdrawals_to_approve" not in queues_on(client.get(START).content.decode())
    crm_manager.user_permissions.add(Permission.objects.get(codename="approve_withdrawal"))
    crm_manager = type(crm_manager).objects.get(pk=crm_manager.pk)  # a fresh permission cache
    assert "wallet.withdrawals_to_approve" in queues_on(verified_client(crm_manager).get(START).content.decode())


def test_the_start_page_does_not_count_big_tables(admin_user):
    seed_work()
    with CaptureQueriesContext(connection) as queries:
        assert verified_client(admin_user).get(START).status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


# --- search ---------------------------------------------------------------------------------------------------


def test_the_start_page_searches_players_through_the_player_list(crm_manager, outsider):
    html = verified_client(crm_manager).get(START).content.decode()
    assert 'action="/admin/players/player/"' in html and 'name="q"' in html
    outsider.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert 'id="start-player-search"' not in verified_client(outsider).get(START).content.decode()


@pytest.mark.parametrize("field", ["last_name", "email", "external_id", "phone"])
def test_the_command_palette_finds_a_player_by_name_email_external_id_or_phone(field, crm_manager):
    wanted = PlayerFactory(last_name="Quixotella", phone="+447400123987")
    PlayerFactory(last_name="Other")
    term = getattr(wanted, field)
    response = verified_client(crm_manager).get("/admin/search/", {"s": term, "extended": 1})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/admin/players/player/{wanted.pk}/change/" in html and "Other" not in html


def test_the_command_palette_finds_no_players_for_who_may_not_see_them(outsider):
    wanted = PlayerFactory(last_name="Quixotella")
    outsider.user_permissions.add(Permission.objects.get(codename="view_auditevent"))  # some screen, no players
    html = verified_client(outsider).get("/admin/search/", {"s": "quixotella", "extended": 1}).content.decode()
    assert f"/admin/players/player/{wanted.pk}/" not in html


# --- the menu --------------------------------------------------------------------------------------------------

RAW_NAMES = ("Otp_Static", "Otp_Totp", "Celery Results", "Periodic Tasks", "Axes")


def test_the_menu_speaks_the_operators_language_and_system_is_for_administrators_only(admin_user, mlro):
    html = verified_client(admin_user).get(START).content.decode()
    for raw in RAW_NAMES:
        assert raw not in html, raw
    assert "app-system" in html and "Authenticator apps (TOTP devices)" in html and "Task results" in html
    assert html.index("app-players") < html.index("app-system")  # in the menu's order, not alphabetical
    mlro_page = verified_client(mlro).get(START).content.decode()
    assert "Authenticator apps" not in mlro_page and "app-system" not in mlro_page


def test_system_is_hidden_even_from_a_member_given_a_device_permission(mlro):
    mlro.user_permissions.add(Permission.objects.get(codename="view_totpdevice"))
    html = verified_client(mlro).get(START).content.decode()
    assert "Authenticator apps" not in html and "TOTP" not in html


def test_the_menu_search_finds_screens_by_their_new_names(admin_user):
    html = verified_client(admin_user).get("/admin/search/", {"s": "task results"}).content.decode()
    assert "Task results" in html and "Celery Results" not in html


def test_a_crm_manager_sees_what_they_may_do_and_that_nothing_waits(crm_manager):
    html = verified_client(crm_manager).get(START).content.decode()
    assert "Campaigns: find players and set their marketing tags" in html
    assert 'id="work-none"' in html and "Find a player" in html
    assert 'href="/admin/players/player/"' in html


# --- error pages ----------------------------------------------------------------------------------------------


def _boom(request: Any) -> Any:
    raise RuntimeError("a bug")


urlpatterns = [path("admin-test/boom/", _boom), *site_urls]
handler500 = "backoffice.errors.server_error"  # the site's handler, looked up in the URLconf in use


def test_a_403_is_styled_inside_the_admin_with_a_way_back(support_agent):
    response = verified_client(support_agent).get("/admin/staff/staffuser/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="error-page"' in html and 'id="error-back" href="/admin/"' in html
    assert "nav-sidebar" in html or "sidebar" in html  # the admin layout with its menu
    assert "unfold/css/styles" in html


def test_a_404_is_styled_for_staff_and_for_someone_signed_out(support_agent):
    response = verified_client(support_agent).get("/admin/players/player/999999999/change/")
    assert response.status_code == 404
    assert 'id="error-page"' in response.content.decode() and "Back to the start page" in response.content.decode()
    anonymous = Client().get("/no-such-page/")
    assert anonymous.status_code == 404
    html = anonymous.content.decode()
    assert 'id="error-page"' in html and "Sign in" in html and "unfold/css/styles" in html


def test_the_api_keeps_its_json_errors():
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


@pytest.mark.urls(__name__)
def test_a_500_is_styled_with_a_reference(support_agent):
    client = verified_client(support_agent)
    client.raise_request_exception = False
    response = client.get("/admin-test/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'id="error-page"' in html and "Something went wrong" in html and 'href="/admin/"' in html
