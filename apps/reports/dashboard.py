"""The start page's dashboard (issue 18): the figures a member's role may see, above their work queues.

What is shown, and to whom (decided here, on the server, per request):

* **At a glance**, one tile per figure. *Active players* (holders of ``players.view_player``): the players with a
  bet in the last 30 days. *Open cases by SLA state*: only for holders of ``compliance.view_case`` (the tipping-off
  wall: no other role is told that cases exist, not even as a zero), the cases they may see, counted as the case
  inbox counts them (``apps.compliance.admin.cases.sla_counts``, capped); the MLRO's at-risk and breached cases are
  their work queues' counts, read, not counted again. The pending withdrawals and approvals, the KYC queue and the
  overdue reviews are the start page's own work queues, right below the dashboard with the same counts: repeating
  them here in tiles showed every number twice.
* **Money** (``reports.view_dashboard_finance``: Finance Officers and the MLRO): GGR, NGR and deposits per day
  over the last 30 local days, per currency (never added across currencies), as charts (static/pitboss/dashboard.js
  with the Chart.js unfold ships) with the totals in a table beside them.

Where the money comes from. ``reports_operator_day``, the operator day rollups (``apps.reports.rollups``), with the
daily GGR report's own definitions (``ggr_daily``: GGR = (stakes - voided stakes) - (wins - win rollbacks), bonus
cost = bonus awards - bonus forfeits, NGR = GGR - bonus cost), so the dashboard and the report never differ. Days
are the players' local days, as the rollups count them; the window is the 30 latest: it ends today on the admin's
clock, or tomorrow once a clock ahead of it has passed midnight.

Why a cache. The rollups' size is days x jurisdictions x brands x currencies x types x categories x providers, not
entries: a busy operator's 30 days are a million rows (docs/PERFORMANCE.md), about a second to add up. Each day's
figures per currency are cached apart: a day before yesterday no longer changes (a rollback counts on the day it is
posted), so it is kept for hours (``rollups.rebuild`` forgets the days it rewrites); yesterday, today and tomorrow
are read again once a minute by a task the first page to find them a minute old sends (``dashboard_refresh``),
and served meanwhile. A page view reads the cache once (one Redis round trip) and the rollups only for the days
missing from it (after a flush, a rebuild, or a quarter of an hour without a worker).

Active players: exact from ``wallet_player_day`` (a bet in the window, net of rollbacks, as the UK quarterly return
counts active accounts) while that table is small; above ``ACTIVE_EXACT_UP_TO_ROWS`` rows, estimated from a random
sample of player ids (each looked up in the rollups' per-player index), with its 95% interval. Either is kept for
five minutes. Never a count of the players' table or of the ledger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import structlog
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.core.money import quantize
from apps.core.workqueues import Count, WorkItem, count_rows, planner_rows
from apps.reports.definitions.ggr_daily import IN_TYPES, _aggregates

FINANCE = "reports.view_dashboard_finance"
PLAYERS = "players.view_player"
REPORT = "reports.run_financial"  # the daily GGR report, linked from the money panel
DAYS = 30

CACHE_PREFIX = "reports:dashboard"
RECENT_SECONDS = 60  # yesterday, today and tomorrow (still receiving postings) are refreshed after this long
OPEN_KEEP_SECONDS = 900  # and served this long while their refresh is on its way (then read by the page itself)
FRESH_KEY = f"{CACHE_PREFIX}:money:fresh"  # present while the open days were read less than a minute ago
REFRESHING_KEY = f"{CACHE_PREFIX}:money:refreshing"  # a refresh was asked for (one a minute at most)
REFRESH_TASK = "apps.reports.tasks.dashboard_refresh"
CLOSED_SECONDS = 12 * 3600  # plus up to 12 h spread by day, so closed days do not all expire at once
ACTIVE_SECONDS = 300
ACTIVE_EXACT_UP_TO_ROWS = 50_000  # rows of wallet_player_day (the planner's estimate); above, a sample
ACTIVE_SAMPLE = 4_000  # player ids drawn: about +-3% at 20% active

log = structlog.get_logger(__name__)
ZERO = Decimal("0")
MEASURES = ("ggr", "bonus_cost", "ngr", "deposits")

# The daily GGR report's figures over the rollups (its select list: bets, stakes, voids, voided stakes, wins, win
# rollbacks, GGR, bonus cost, NGR), per day and currency, and the day's deposits beside them.
MONEY_SQL = f"""
    SELECT day, currency, {_aggregates('"count"', "amount")},
           coalesce(sum(amount) FILTER (WHERE type = 'deposit'), 0)
    FROM reports_operator_day
    WHERE day = ANY(%s::date[]) AND type IN ({IN_TYPES}, 'deposit')
    GROUP BY day, currency
"""  # noqa: S608 (only constants are formatted in)

# Bounded like every count on the start page: never more than the table's rows (below the exact threshold).
ACTIVE_EXACT_SQL = """
    SELECT count(*) FROM (
        SELECT d.player_id FROM wallet_player_day d WHERE d.day BETWEEN %s AND %s
        GROUP BY d.player_id HAVING sum(d.bet_count) > 0 LIMIT %s
    ) active
"""
# Player ids drawn at random over the id range; each drawn id is a player active in the window, a player who was
# not, or a gap. Active players ~ range x active / drawn.
ACTIVE_SAMPLE_SQL = """
    WITH span AS (SELECT min(id) AS lo, max(id) AS hi FROM players_player),
    drawn AS (
        SELECT DISTINCT span.lo + floor(random() * (span.hi - span.lo + 1))::bigint AS id
        FROM span, generate_series(1, %s) WHERE span.lo IS NOT NULL LIMIT %s
    )
    SELECT (SELECT hi - lo + 1 FROM span), count(*),
           count(*) FILTER (WHERE (SELECT sum(d.bet_count) FROM wallet_player_day d
                                   WHERE d.player_id = drawn.id AND d.day BETWEEN %s AND %s) > 0)
    FROM drawn
"""


# --- money ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyMoney:
    """One currency's figures, one value a day from the window's first day (exact, in the currency's decimals)."""

    currency: str
    ggr: tuple[Decimal, ...]
    bonus_cost: tuple[Decimal, ...]
    ngr: tuple[Decimal, ...]
    deposits: tuple[Decimal, ...]

    def series(self, measure: str) -> tuple[Decimal, ...]:
        values: tuple[Decimal, ...] = getattr(self, measure)
        return values

    @cached_property
    def totals(self) -> dict[str, Decimal]:
        return {m: quantize(sum(self.series(m), ZERO), self.currency) for m in MEASURES}

    @cached_property
    def latest(self) -> dict[str, Decimal]:
        """The window's last day."""
        return {m: self.series(m)[-1] for m in MEASURES}


@dataclass(frozen=True)
class Money:
    start: date
    end: date
    currencies: tuple[CurrencyMoney, ...]  # by code; only those with a figure in the window
    today: date  # on the admin's clock: the window ends on it, or a day later

    @property
    def ends_today(self) -> bool:
        return self.end == self.today

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def chart(self) -> dict[str, Any]:
        """What static/pitboss/dashboard.js reads (through ``json_script``): money as exact strings."""
        return {
            "days": [d.isoformat() for d in self.days],
            "money": {c.currency: {m: [str(v) for v in c.series(m)] for m in MEASURES} for c in self.currencies},
        }


DayFigures = dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]  # currency -> (ggr, bonus cost, ngr, deposits)


def day_key(day: date) -> str:
    return f"{CACHE_PREFIX}:money:{day.isoformat()}"


def _closed_seconds(day: date) -> int:
    return CLOSED_SECONDS + (day.toordinal() % 12) * 3600


def _read_days(days: Sequence[date]) -> dict[date, DayFigures]:
    """The figures of these days from the rollups, in one grouped statement."""
    found: dict[date, DayFigures] = {day: {} for day in days}
    with connection.cursor() as cursor:
        cursor.execute(MONEY_SQL, [list(days)])
        for row in cursor.fetchall():
            day, currency = row[0], row[1]
            ggr, cost, ngr, deposits = (quantize(Decimal(v), currency) for v in row[-4:])
            found[day][currency] = (ggr, cost, ngr, deposits)
    return found


def _store(fresh: dict[date, DayFigures], *, today: date) -> None:
    """Closed days for hours (spread by day), the open ones for ``OPEN_KEEP_SECONDS``; one round trip per time to
    live."""
    open_from = today - timedelta(days=1)
    by_ttl: dict[int, dict[str, DayFigures]] = {}
    for day, value in fresh.items():
        seconds = OPEN_KEEP_SECONDS if day >= open_from else _closed_seconds(day)
        by_ttl.setdefault(seconds, {})[day_key(day)] = value
    for seconds, values in by_ttl.items():
        cache.set_many(values, timeout=seconds)


def open_days(today: date) -> list[date]:
    return [today + timedelta(days=n) for n in (-1, 0, 1)]


def days_figures(days: Sequence[date], *, today: date) -> dict[date, DayFigures]:
    """Each day's figures: from the cache, the days it misses from the rollups (then cached). The open days'
    figures are refreshed in the background once they are a minute old (``refresh_open_days`` on the reports
    queue): meanwhile, and while no worker answers, the page shows the last ones, for up to a quarter of an hour."""
    keys = {day: day_key(day) for day in days}
    cached = cache.get_many([*keys.values(), FRESH_KEY])
    figures = {day: cached[key] for day, key in keys.items() if key in cached}
    missing = [day for day in days if day not in figures]
    if missing:
        read = _read_days(missing)
        _store(read, today=today)
        figures.update(read)
    if FRESH_KEY not in cached:
        if all(day in missing for day in open_days(today) if day in keys):
            cache.set(FRESH_KEY, True, timeout=RECENT_SECONDS)  # read just now
        else:
            ask_refresh()
    return figures


def ask_refresh() -> None:
    """Send the open days' refresh, at most once a minute (the first page to find them stale sends it). Best
    effort: with the broker down the figures age until the page reads the rollups itself."""
    from apps.core.outbox import send_fail_fast

    if cache.add(REFRESHING_KEY, True, timeout=RECENT_SECONDS) and (
        send_fail_fast(REFRESH_TASK, queue="reports", expires=RECENT_SECONDS) is None
    ):
        log.warning("dashboard_refresh_not_sent", reason="the broker did not take the task")


def refresh_open_days(*, now: datetime | None = None) -> int:
    """Yesterday's, today's and tomorrow's figures read again from the rollups and cached (the task
    ``dashboard_refresh``); returns the currencies seen."""
    today = timezone.localdate(now or timezone.now())
    read = _read_days(open_days(today))
    _store(read, today=today)
    cache.set(FRESH_KEY, True, timeout=RECENT_SECONDS)
    cache.delete(REFRESHING_KEY)
    return len({code for figures in read.values() for code in figures})


def forget_days(start: date | None, end: date | None) -> None:
    """The cached days of ``start``..``end`` (open where None) are read again: called after a rollups rebuild.
    Only days near today are ever cached (the window and tomorrow), so an open range stops there."""
    today = timezone.localdate()
    first = max(start or date.min, today - timedelta(days=DAYS + 2))
    last = min(end or date.max, today + timedelta(days=2))
    if first <= last:
        cache.delete_many([day_key(first + timedelta(days=n)) for n in range((last - first).days + 1)])


def money_figures(*, now: datetime | None = None) -> Money:
    """GGR, bonus cost, NGR and deposits per currency over the 30 latest local days."""
    today = timezone.localdate(now or timezone.now())
    candidates = [today - timedelta(days=DAYS - 1) + timedelta(days=n) for n in range(DAYS + 1)]  # and tomorrow
    figures = days_figures(candidates, today=today)
    end = candidates[-1] if figures[candidates[-1]] else today
    days = [end - timedelta(days=DAYS - 1) + timedelta(days=n) for n in range(DAYS)]
    codes = sorted({code for day in days for code in figures[day]})
    currencies = []
    for code in codes:
        none = (quantize(ZERO, code),) * 4  # a day without this currency (read days are quantized already)
        columns = list(zip(*(figures[day].get(code, none) for day in days), strict=True))
        currencies.append(CurrencyMoney(currency=code, **dict(zip(MEASURES, columns, strict=True))))
    return Money(start=days[0], end=end, currencies=tuple(currencies), today=today)


# --- active players ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivePlayers:
    count: Count
    sample: int = 0  # ids drawn (0: counted exactly)
    low: int = 0  # the 95% interval of an estimate
    high: int = 0


def _active_exact(start: date, end: date, cap: int) -> ActivePlayers:
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE_EXACT_SQL, [start, end, cap])
        (counted,) = cursor.fetchone() or (0,)
    return ActivePlayers(count=Count(int(counted)))


def _active_sampled(start: date, end: date, draws: int) -> ActivePlayers:
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE_SAMPLE_SQL, [draws, draws, start, end])
        span, drawn, active = cursor.fetchone() or (None, 0, 0)
    if not span or not drawn:
        return ActivePlayers(count=Count(0))
    share = active / drawn
    # a sample without replacement of ``drawn`` ids out of ``span``: the finite population correction
    spread = 1.96 * math.sqrt(share * (1 - share) / drawn * max(0.0, (span - drawn) / max(span - 1, 1)))
    exact = drawn >= span  # every id was drawn: the estimate is the count
    return ActivePlayers(
        count=Count(round(span * share), estimated=not exact),
        sample=drawn,
        low=max(active, math.floor(span * (share - spread))),
        high=math.ceil(span * (share + spread)),
    )


def active_players(*, today: date) -> ActivePlayers:
    """Players with a bet in the 30 days to ``today`` (cached five minutes)."""
    start = today - timedelta(days=DAYS - 1)
    key = f"{CACHE_PREFIX}:active:{today.isoformat()}"
    cached = cache.get(key)
    if isinstance(cached, ActivePlayers):
        return cached
    from apps.wallet.models import PlayerDay

    rows = planner_rows(PlayerDay.objects.all())
    if rows <= ACTIVE_EXACT_UP_TO_ROWS:
        found = _active_exact(start, today, ACTIVE_EXACT_UP_TO_ROWS + 1)
    else:
        found = _active_sampled(start, today, ACTIVE_SAMPLE)
    cache.set(key, found, timeout=ACTIVE_SECONDS)
    return found


# --- at a glance ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    words: str
    count: Count
    url: str = ""
    key: str = ""  # the work queue's or the SLA state's, for the page's data attributes


@dataclass(frozen=True)
class Tile:
    key: str
    title: str
    total: Count
    figures: tuple[Figure, ...] = ()
    note: str = ""


def total_of(counts: Iterable[Count]) -> Count:
    counts = list(counts)
    return Count(sum(c.value for c in counts), estimated=any(c.estimated for c in counts))


def cases_tile(user: Any, work: Sequence[WorkItem]) -> Tile | None:
    """Open cases by SLA state, for holders of compliance.view_case only (the wall). The MLRO's queues already
    counted every case at risk and breached: those counts are read, the cases on track counted."""
    from apps.compliance import cases
    from apps.compliance.admin.cases import sla_counts
    from apps.compliance.choices import OPEN_STATES, SlaState
    from apps.compliance.models import Case

    if not cases.sees_cases(user):
        return None
    counted = {item.queue.key: item.count for item in work}
    inbox = reverse("admin:compliance_case_changelist")
    reused = {SlaState.AT_RISK: "compliance.at_risk", SlaState.BREACHED: "compliance.breached"}
    if cases.is_lead(user) and all(key in counted for key in reused.values()):
        on_track = Case.objects.filter(state__in=OPEN_STATES, sla_state=SlaState.ON_TRACK)
        found = {SlaState.ON_TRACK.value: count_rows(on_track), **{s.value: counted[k] for s, k in reused.items()}}
        rows: list[dict[str, Any]] = [
            {"state": s, "label": label, "count": found[s], "url": f"{inbox}?sla={s}"} for s, label in SlaState.choices
        ]
    else:
        rows = sla_counts(user)
    figures = tuple(
        Figure(words=str(r["label"]).lower(), count=r["count"], url=r["url"], key=str(r["state"])) for r in rows
    )
    return Tile(
        key="cases",
        title="Open cases by SLA",
        total=total_of(f.count for f in figures),
        figures=figures,
        note="The cases you may see.",
    )


def active_tile(user: Any, *, today: date) -> Tile | None:
    if not user.has_perm(PLAYERS):
        return None
    found = active_players(today=today)
    if found.sample:
        note = (
            f"Estimated from {found.sample:,} accounts drawn at random: between {found.low:,} and {found.high:,} (95%)."
        )
    else:
        note = "Counted from the player day rollups."
    return Tile(
        key="active_players",
        title="Active players",
        total=found.count,
        note=f"With a bet in the last {DAYS} days. {note}",
    )


def glance(user: Any, work: Sequence[WorkItem], *, today: date) -> list[Tile]:
    tiles = [active_tile(user, today=today), cases_tile(user, work)]
    return [tile for tile in tiles if tile is not None]


# --- the panel --------------------------------------------------------------------------------------------------


def report_url(money: Money) -> str:
    query = f"report=ggr_daily&start={money.start.isoformat()}&end={money.end.isoformat()}&source=rollups"
    return f"{reverse('admin:reports_reportrun_new')}?{query}"


def panel(request: HttpRequest, work: Sequence[WorkItem]) -> dict[str, Any] | None:
    """The start page's dashboard for this member (None: nothing for their role)."""
    user = request.user
    now = timezone.now()
    tiles = glance(user, work, today=timezone.localdate(now))
    money = money_figures(now=now) if user.has_perm(FINANCE) else None
    if not tiles and money is None:
        return None
    return {
        "tiles": tiles,
        "money": money,
        "chart": money.chart() if money is not None else None,
        "report_url": report_url(money) if money is not None and user.has_perm(REPORT) else "",
        "days": DAYS,
    }


def register() -> None:
    """From ``ReportsConfig.ready``: the dashboard on the start page (apps.core.dashboard)."""
    from apps.core.dashboard import register_panel

    register_panel("reports.dashboard", "admin/reports/dashboard.html", context=panel, order=10)
