"""The start page's dashboard (apps/reports/dashboard.py): per role what is shown and what is not, the money panel's
exact figures on the hand-built ledger (tests/reports/finledger.py) with the rollups rebuilt from it, the cache and
its invalidation by a rebuild, the active players (exact and sampled), and the start page's bounded queries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import lxml.html
import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.compliance import cases
from apps.compliance.choices import SlaState, VersionState
from apps.compliance.models import Alert, Case, Rule, RuleVersion
from apps.reports import dashboard, rollups, tasks
from apps.reports.models import OperatorDay
from apps.staff import roles
from apps.wallet import posting
from apps.wallet.models import PostingQueueItem
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory
from tests.reports import finledger

pytestmark = pytest.mark.django_db
D = Decimal
START = "/admin/"
# the ledger's last posting is on 3 March (London): the window is 2 February to 3 March
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def page(user: Any, at: datetime | None = NOW) -> lxml.html.HtmlElement:
    """The start page as ``user`` reads it at ``at`` (None: now)."""
    with time_machine.travel(at or timezone.now(), tick=False):
        response = verified_client(user).get(START)
    assert response.status_code == 200
    return lxml.html.fromstring(response.content.decode())


def by_id(doc: lxml.html.HtmlElement, id_: str) -> list[lxml.html.HtmlElement]:
    return doc.xpath(f"//*[@id='{id_}']")


def tiles(doc: lxml.html.HtmlElement) -> dict[str, int]:
    return {li.get("data-tile"): int(li.get("data-count")) for li in doc.xpath("//ul[@id='glance']/li")}


def figures(doc: lxml.html.HtmlElement, tile: str) -> dict[str, int]:
    return {li.get("data-figure"): int(li.get("data-count")) for li in doc.xpath(f"//li[@id='glance-{tile}']//li")}


def totals(doc: lxml.html.HtmlElement) -> dict[str, dict[str, tuple[str, str]]]:
    """Currency -> measure -> (the window's total, the last day's), as the table beside each chart states them."""
    shown = {}
    for table in doc.xpath("//table[contains(@class, 'money-totals')]"):
        shown[table.get("data-currency")] = {
            row.get("data-measure"): tuple(cell.text_content().strip() for cell in row.xpath("td"))
            for row in table.xpath("tbody/tr")
        }
    return shown


def chart(doc: lxml.html.HtmlElement) -> dict[str, Any]:
    (data,) = doc.xpath("//script[@id='dashboard-money-data']")
    return json.loads(data.text)


def ledger_with_rollups() -> finledger.Ledger:
    """The hand-built ledger, its operator day rollups rebuilt from it: the consumer's queue emptied first
    (rebuild leaves what is still queued to the consumer), then ``rollups.rebuild`` over every day."""
    # the ledger's players have fixed external ids (FL0101...): the factory's later players start far from them
    PlayerFactory.reset_sequence(10_000)
    built = finledger.build()
    PostingQueueItem.objects.filter(consumer=rollups.CONSUMER).delete()
    assert rollups.rebuild() > 0
    assert rollups.check() == []
    return built


def case_at(sla_state: str, n: int) -> Case:
    rule, _ = Rule.objects.get_or_create(code="dash", defaults={"name": "Dashboard rule", "kind": "amount_window"})
    version, _ = RuleVersion.objects.get_or_create(
        rule=rule,
        number=1,
        defaults={"kind": "amount_window", "params": {}, "state": VersionState.DRAFT, "priority": "high"},
    )
    alert = Alert.objects.create(rule=rule, version=version, player=PlayerFactory(), window_key=f"d{n}", score=50)
    case = cases.case_for_alert(alert=alert)
    Case.objects.filter(pk=case.pk).update(sla_state=sla_state)
    return case


# --- per role -----------------------------------------------------------------------------------------------------


def test_a_finance_officer_sees_the_money_of_the_last_30_days_to_the_cent():
    ledger_with_rollups()
    doc = page(StaffUserFactory(roles=[roles.FINANCE_OFFICER]))
    (money,) = by_id(doc, "dashboard-money")
    assert (money.get("data-start"), money.get("data-end")) == ("2026-02-02", "2026-03-03")
    # out of the window: G1 and M1 (January deposits), M2 (the 1 February bonus award); every other line is in
    assert totals(doc) == {
        # O1 50.00; O2 7.00 on 28 February and O3 1.00 on 1 March, Toronto's days
        "CAD": {
            "deposits": ("CAD 50.00", "CAD 0.00"),
            "ggr": ("CAD 8.00", "CAD 0.00"),
            "bonus_cost": ("CAD 0.00", "CAD 0.00"),
            "ngr": ("CAD 8.00", "CAD 0.00"),
        },
        # stakes 10 + 30 + 8 + 3, wins 15 + 12 + 4: GGR 20; the forfeit M6 gave 44.00 back (its award is before)
        "EUR": {
            "deposits": ("EUR 40.00", "EUR 0.00"),
            "ggr": ("EUR 20.00", "EUR 0.00"),
            "bonus_cost": ("\u2212EUR 44.00", "EUR 0.00"),
            "ngr": ("EUR 64.00", "EUR 0.00"),
        },
        # (16 - 5 voided) - (31 - 6 rolled back); the last day holds G10's bet of 2.00
        "GBP": {
            "deposits": ("GBP 0.00", "GBP 0.00"),
            "ggr": ("\u2212GBP 14.00", "GBP 2.00"),
            "bonus_cost": ("GBP 0.00", "GBP 0.00"),
            "ngr": ("\u2212GBP 14.00", "GBP 2.00"),
        },
    }
    data = chart(doc)
    days = data["days"]
    assert len(days) == 30 and (days[0], days[-1]) == ("2026-02-02", "2026-03-03")
    eur = data["money"]["EUR"]
    # a local midnight: Malta's 14 February holds the bet (23:30), its 15th the win (00:30) and another bet
    assert eur["ggr"][days.index("2026-02-14")] == "30.00"
    assert eur["ggr"][days.index("2026-02-15")] == "-4.00"
    assert eur["bonus_cost"][days.index("2026-02-16")] == "-44.00"
    assert eur["ngr"][days.index("2026-02-16")] == "44.00"
    assert data["money"]["GBP"]["ggr"][days.index("2026-02-10")] == "-20.00"  # G2-G5: the voided bet is out
    assert data["money"]["CAD"]["deposits"][days.index("2026-02-10")] == "50.00"
    assert sum(D(v) for v in eur["ggr"]) == D("20.00")
    # one chart per currency, drawn by the static script (no inline script: the CSP)
    assert [c.get("data-currency") for c in doc.xpath("//canvas[@data-dashboard-chart]")] == ["CAD", "EUR", "GBP"]
    assert doc.xpath("//script[contains(@src, 'pitboss/dashboard.js')]")
    assert not [
        s for s in doc.xpath("//section[@id='dashboard']//script") if s.get("src") is None and s.get("id") is None
    ]
    # the report with the same figures in detail, for the same days
    (report,) = by_id(doc, "money-report")
    assert report.get("href").endswith("report=ggr_daily&start=2026-02-02&end=2026-03-03&source=rollups")
    # active players: gb, mt, mt2 and on bet in the window
    assert tiles(doc)["active_players"] == 4
    assert "glance-cases" not in {li.get("id") for li in doc.xpath("//ul[@id='glance']/li")}


def test_the_mlro_sees_the_money_and_open_cases_by_sla_state(mlro, aml_analyst):
    for n, state in enumerate([SlaState.ON_TRACK, SlaState.ON_TRACK, SlaState.AT_RISK, SlaState.BREACHED]):
        case_at(state, n)
    closed = case_at(SlaState.BREACHED, 9)  # assigned to the analyst, who closes it: not counted
    cases.case_close(actor=aml_analyst, case=Case.objects.get(pk=closed.pk), outcome="refuted", reason="Reviewed")
    doc = page(mlro)
    assert tiles(doc)["cases"] == 4
    assert figures(doc, "cases") == {"on_track": 1 + 1, "at_risk": 1, "breached": 1}
    links = {a.get("href") for a in doc.xpath("//li[@id='glance-cases']//a")}
    assert links == {f"/admin/compliance/case/?sla={s}" for s in SlaState.values}
    assert doc.xpath(
        "//section[@id='dashboard-money']//*[@id='money-none']"
    )  # may see the money: none in these 30 days
    assert not by_id(doc, "money-report")  # the MLRO does not run the financial reports


def test_an_analyst_sees_only_the_cases_they_may_see(aml_analyst):
    case_at(SlaState.AT_RISK, 1)
    doc = page(aml_analyst)
    seen = cases.cases_visible_to(aml_analyst).filter(sla_state=SlaState.AT_RISK).count()
    assert figures(doc, "cases")["at_risk"] == seen
    assert not by_id(doc, "dashboard-money")


@pytest.mark.parametrize("role", [roles.SUPPORT_AGENT, roles.CRM_MANAGER, roles.KYC_OFFICER, roles.ADMINISTRATOR])
def test_other_roles_see_neither_money_nor_a_count_of_cases(role):
    ledger_with_rollups()
    for n, state in enumerate(SlaState.values):
        case_at(state, n)
    doc = page(StaffUserFactory(roles=[role]))
    assert "active_players" in tiles(doc)
    assert not by_id(doc, "dashboard-money") and not doc.xpath("//canvas")
    assert "cases" not in tiles(doc)
    (shown,) = by_id(doc, "dashboard")
    text = shown.text_content()
    assert "GGR" not in text and "SLA" not in text and "cases" not in text.lower()


def test_a_member_without_a_role_gets_no_dashboard_at_all(outsider):
    assert not by_id(page(outsider), "dashboard")


def test_the_queues_are_below_the_dashboard_and_not_repeated_in_it(finance_officer):
    from tests.staff.test_start_page import seed_work

    seed_work()
    doc = page(finance_officer, at=None)
    assert tiles(doc) == {"active_players": 0}  # seed_work's players deposit, none bets
    (dashboard_,) = by_id(doc, "dashboard")
    assert not dashboard_.xpath(".//*[@data-queue]")
    queues = {li.get("data-queue"): int(li.get("data-count")) for li in doc.xpath("//li[@data-queue]")}
    assert queues["wallet.withdrawals_to_approve"] == 2 and queues["wallet.withdrawals_second_approval"] == 1
    ids = [element.get("id") for element in doc.xpath("//*[@id='dashboard' or @id='work']")]
    assert ids == ["dashboard", "work"]  # the figures first, then the work


# --- the money's window, cache and empty state --------------------------------------------------------------------


def test_the_window_ends_tomorrow_once_a_clock_ahead_has_passed_midnight(finance_officer):
    player = PlayerFactory(country="MT", currency="EUR")
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 00:30 on 3 March in Malta
    with time_machine.travel(late, tick=False):
        posting.wallet_deposit(player=player, amount=D("25.00"), currency="EUR")
    rollups.drain()
    doc = page(finance_officer, at=late)
    assert chart(doc)["days"][-1] == "2026-03-03"
    assert totals(doc)["EUR"]["deposits"] == ("EUR 25.00", "EUR 25.00")


def test_the_empty_state_says_so_and_draws_nothing(finance_officer):
    doc = page(finance_officer)
    (none,) = by_id(doc, "money-none")
    assert "No deposits, bets or bonuses in these 30 days" in none.text_content()
    assert not doc.xpath("//canvas") and not doc.xpath("//script[@id='dashboard-money-data']")


def test_closed_days_are_cached_for_hours_open_ones_for_a_minute_and_a_rebuild_forgets_them(
    finance_officer, django_capture_on_commit_callbacks
):
    ledger_with_rollups()
    finance = finance_officer
    assert totals(page(finance))["EUR"]["ggr"][0] == "EUR 20.00"
    closed, open_ = dashboard.day_key(date(2026, 2, 14)), dashboard.day_key(date(2026, 3, 2))
    assert dashboard.CLOSED_SECONDS - 5 <= cache.ttl(closed) <= dashboard.CLOSED_SECONDS + 12 * 3600
    assert dashboard.RECENT_SECONDS < cache.ttl(open_) <= dashboard.OPEN_KEEP_SECONDS
    assert 0 < cache.ttl(dashboard.FRESH_KEY) <= dashboard.RECENT_SECONDS
    # a rollup row changed behind the cache's back (the ledger is not): the cached closed day is still shown
    OperatorDay.objects.filter(day=date(2026, 2, 14), currency="EUR", type="bet").update(amount=D("1000"))
    assert totals(page(finance))["EUR"]["ggr"][0] == "EUR 20.00"
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        rollups.rebuild(date(2026, 2, 14), date(2026, 2, 14))  # the ledger's account again, then forgotten
    assert cache.get(closed) is None
    assert totals(page(finance))["EUR"]["ggr"][0] == "EUR 20.00"
    OperatorDay.objects.filter(day=date(2026, 2, 14), currency="EUR", type="bet").update(amount=D("1000"))
    cache.delete(closed)  # read again from the (now wrong) rollups: the page says what the rollups hold
    assert totals(page(finance))["EUR"]["ggr"][0] == "EUR 990.00"


def test_the_open_days_are_refreshed_in_the_background_once_a_minute_old(finance_officer, monkeypatch):
    sent: list[tuple[str, dict[str, Any]]] = []

    def send(name: str, **options: Any) -> str | None:
        sent.append((name, options))
        return None  # the broker did not take it: the page must not care

    monkeypatch.setattr("apps.core.outbox.send_fail_fast", send)
    built = ledger_with_rollups()
    assert totals(page(finance_officer))["GBP"]["ggr"] == ("\u2212GBP 14.00", "GBP 2.00")
    with time_machine.travel(NOW, tick=False):
        posting.wallet_bet(
            player=built.gb,
            amount=D("3.00"),
            currency="GBP",
            round_id="late",
            game_category="table",
            provider="evo",
            reference="late",
            api_client="pfx",
        )
    rollups.drain()
    assert totals(page(finance_officer))["GBP"]["ggr"][1] == "GBP 2.00"  # read less than a minute ago
    assert sent == []
    cache.delete(dashboard.FRESH_KEY)  # a minute later
    assert totals(page(finance_officer))["GBP"]["ggr"][1] == "GBP 2.00"  # the last figures, and a refresh asked
    assert totals(page(finance_officer))["GBP"]["ggr"][1] == "GBP 2.00"  # asked once a minute, not per page
    assert sent == [(dashboard.REFRESH_TASK, {"queue": "reports", "expires": dashboard.RECENT_SECONDS})]
    with time_machine.travel(NOW, tick=False):
        assert tasks.dashboard_refresh() == 1  # what the worker does: 2 to 4 March, GBP only
    assert totals(page(finance_officer))["GBP"]["ggr"] == ("\u2212GBP 11.00", "GBP 5.00")
    assert cache.get(dashboard.REFRESHING_KEY) is None


def test_a_page_with_every_day_cached_reads_no_rollup(finance_officer):
    ledger_with_rollups()
    page(finance_officer)
    with CaptureQueriesContext(connection) as queries:
        page(finance_officer)
    assert not [q["sql"] for q in queries if "reports_operator_day" in q["sql"]]


# --- active players -----------------------------------------------------------------------------------------------


def bet(player: Any, at: datetime, ref: str, *, rolled_back: bool = False) -> None:
    with time_machine.travel(at, tick=False):
        posting.wallet_deposit(player=player, amount=D("10.00"), currency=player.currency)
        posting.wallet_bet(
            player=player,
            amount=D("1.00"),
            currency=player.currency,
            round_id=ref,
            game_category="slots",
            provider="netent",
            reference=ref,
            api_client="pfx",
        )
        if rolled_back:
            posting.wallet_rollback(player=player, bet_reference=ref, api_client="pfx")


def some_players() -> None:
    """12 players: 5 bet in the window, 2 bet and had it rolled back, 3 bet 40 days ago, 2 never played."""
    for n in range(5):
        bet(PlayerFactory(), datetime(2026, 2, 20, 10, tzinfo=UTC), f"in{n}")
    for n in range(2):
        bet(PlayerFactory(), datetime(2026, 2, 21, 10, tzinfo=UTC), f"void{n}", rolled_back=True)
    for n in range(3):
        bet(PlayerFactory(), datetime(2026, 1, 22, 10, tzinfo=UTC), f"old{n}")
    PlayerFactory.create_batch(2)


def test_active_players_are_those_with_a_bet_in_the_window_net_of_rollbacks(finance_officer):
    some_players()
    found = dashboard.active_players(today=NOW.date())
    assert (found.count.value, found.count.estimated, found.sample) == (5, False, 0)
    doc = page(finance_officer)
    assert tiles(doc)["active_players"] == 5
    assert "Counted from the player day rollups" in by_id(doc, "glance-active_players")[0].text_content()


def test_above_the_exact_threshold_active_players_are_estimated_from_a_sample(monkeypatch, finance_officer):
    some_players()
    monkeypatch.setattr(dashboard, "ACTIVE_EXACT_UP_TO_ROWS", 0)
    # every id of the twelve drawn (4,000 draws over a dozen ids): the estimate is the count, said to be exact
    found = dashboard.active_players(today=NOW.date())
    assert (found.count.value, found.count.estimated) == (5, False) and found.sample >= 12
    cache.delete_pattern(f"{dashboard.CACHE_PREFIX}:*")
    monkeypatch.setattr(dashboard, "ACTIVE_SAMPLE", 6)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")  # this session's random(): the draw below is always the same
    found = dashboard.active_players(today=NOW.date())
    assert found.count.estimated and 0 < found.sample <= 6
    assert found.low <= 5 <= found.high
    doc = page(finance_officer)
    tile = by_id(doc, "glance-active_players")[0].text_content()
    assert f"Estimated from {found.sample} accounts drawn at random" in tile and "(95%)" in tile


def test_active_players_are_cached_for_five_minutes(finance_officer):
    some_players()
    assert dashboard.active_players(today=NOW.date()).count.value == 5
    bet(PlayerFactory(), datetime(2026, 3, 1, 10, tzinfo=UTC), "late")
    assert dashboard.active_players(today=NOW.date()).count.value == 5
    assert 0 < cache.ttl(f"{dashboard.CACHE_PREFIX}:active:2026-03-03") <= dashboard.ACTIVE_SECONDS


# --- bounded ------------------------------------------------------------------------------------------------------


def test_the_dashboard_adds_a_bounded_number_of_queries_whatever_the_data(mlro):
    """Cold cache: one statement for the money's days, the table estimate and the count of active players, the
    on-track cases (at risk and breached are the queues' counts). Warm: the cases only. More data, same count."""

    with time_machine.travel(NOW, tick=False):
        client = verified_client(mlro)

    def queries_of_a_view() -> list[str]:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
            assert client.get(START).status_code == 200
        return [q["sql"] for q in captured]

    cold = queries_of_a_view()
    warm = queries_of_a_view()
    ledger_with_rollups()
    for n, state in enumerate(SlaState.values * 3):
        case_at(state, 10 + n)
    cache.delete_pattern(f"{dashboard.CACHE_PREFIX}:*")
    assert len(queries_of_a_view()) == len(cold)
    assert len(queries_of_a_view()) == len(warm) == len(cold) - 3
    assert sum("reports_operator_day" in sql for sql in cold) == 1
    assert sum("wallet_player_day" in sql for sql in cold) == 2  # the planner's estimate of its size, the count
    counts = [sql for sql in cold if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts  # as every count on the start page
