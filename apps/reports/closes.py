"""Month-end closes: the players' funds at the end of each month, and each quarter's accounts, taken once and kept,
so the regulatory returns read a few rows instead of the ledger (issue 18; docs/REPORTS.md "Closes").

What a close of day D (the last day of a month) holds, per jurisdiction and currency (the players' jurisdiction of
residence, as the rollups place them: ``common.PLACES_CTE``):

* **funds**: the players' cash, bonus and pending-withdrawal balances as the entries stood at the end of local day D
  on each player's clock (today's balances less the entries of later local days: one read of the entries since D,
  never the ledger's history), with the number of players holding cash or bonus money;
* **open bets**: the stakes of bets of the last ``open_bet_hours`` hours (24) before that end, neither rolled back
  nor won by then (what the MGA return calls open bets: ``mga_monthly``);
* on a quarter's last day (March, June, September, December: the UK quarters' ends), the quarter's **active
  accounts** (players with at least one bet not rolled back in the quarter's local days, from the player day
  rollups) and **new registrations** (accounts opened in those days), per jurisdiction.

A close is taken once day D has ended on every clock in use (``ended_everywhere``: the latest of the configured
jurisdictions' local midnights, plus ``MARGIN`` for postings still committing), by the beat job
``reports_close_months`` (every 15 minutes, so the 1st's scheduled returns find it) or ``manage.py reports_close``.
After that the figures never change by themselves: the ledger is append-only and every later entry has a later
time. The lines are write-once (a database trigger refuses an UPDATE); a close is taken again only on purpose
(``retake``, audited), e.g. after a player's residence was corrected.

The returns read a close when there is one and compute the same figures from the ledger with the same statements
otherwise (a period not closed yet, or an open-bets window other than the close's): a test holds both equal on the
hand-built ledger, so a return's bytes do not depend on which was read.
"""

from __future__ import annotations

import calendar
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone

from apps.audit.services import SYSTEM, AuditActor, audit_log
from apps.reports.context import RunContext
from apps.reports.definitions.common import PLACES_CTE, local_day_sql
from apps.reports.errors import CloseDayNotEnded, CloseExists, CloseNotMonthEnd

OPEN_BET_HOURS = 24
# after a day has ended everywhere, how long to wait for postings that began before its end to commit
MARGIN = timedelta(minutes=10)
ZERO = Decimal("0")
QUARTER_END_MONTHS = (3, 6, 9, 12)


@dataclass(frozen=True)
class Funds:
    cash: Decimal = ZERO
    bonus: Decimal = ZERO
    pending_withdrawals: Decimal = ZERO
    players_with_funds: int = 0


@dataclass(frozen=True)
class Accounts:
    active: int = 0
    registrations: int = 0


# --- the ledger's figures (also what a return computes for a period without a close) ----------------------------

# Per jurisdiction and currency, the players' balances at the end of local day %(day)s on each player's clock.
# %(earliest)s: an instant before which no entry can be of a later local day on any clock.
FUNDS_SQL = f"""
    WITH {PLACES_CTE},
    later AS (
        SELECT x.account_id, sum(x.amount) AS moved
        FROM (
            SELECT e.account_id, e.amount, {local_day_sql("e.created_at")} AS day
            FROM wallet_entry e
            JOIN wallet_account a ON a.id = e.account_id
            JOIN places pl ON pl.player_id = a.player_id
            WHERE e.created_at >= %(earliest)s AND a.player_id IS NOT NULL
        ) x
        WHERE x.day > %(day)s
        GROUP BY x.account_id
    ),
    per_player AS (
        SELECT a.player_id, pl.jurisdiction, a.currency,
               coalesce(sum(a.balance - coalesce(l.moved, 0)) FILTER (WHERE a.kind = 'cash'), 0) AS cash,
               coalesce(sum(a.balance - coalesce(l.moved, 0)) FILTER (WHERE a.kind = 'bonus'), 0) AS bonus,
               coalesce(sum(a.balance - coalesce(l.moved, 0)) FILTER (WHERE a.kind = 'pending_withdrawal'), 0)
                 AS pending
        FROM wallet_account a
        JOIN places pl ON pl.player_id = a.player_id
        LEFT JOIN later l ON l.account_id = a.id
        WHERE a.player_id IS NOT NULL AND a.kind IN ('cash', 'bonus', 'pending_withdrawal')
          AND (%(jurisdiction)s::text IS NULL OR pl.jurisdiction = %(jurisdiction)s::text)
        GROUP BY a.player_id, pl.jurisdiction, a.currency
    )
    SELECT jurisdiction, currency, sum(cash), sum(bonus), sum(pending), count(*) FILTER (WHERE cash + bonus > 0)
    FROM per_player
    GROUP BY jurisdiction, currency
    ORDER BY jurisdiction COLLATE "C", currency COLLATE "C"
"""  # noqa: S608 (constants only)

# The instant local day %(day)s ends on a player's clock (``pl``: a ``places`` row).
_MIDNIGHT = "(%(day)s::date + 1)::timestamp"
_END_INSTANT = (
    f"(CASE WHEN ({_MIDNIGHT} AT TIME ZONE pl.zone) >= pl.since "
    f"THEN ({_MIDNIGHT} AT TIME ZONE pl.zone) ELSE ({_MIDNIGHT} AT TIME ZONE 'UTC') END)"
)
# Open bets at the end of local day %(day)s on each player's clock: placed by then and in the last %(hours)s hours
# before it, not rolled back by then, no win in the round (the same client's, not rolled back) by then.
# %(lo)s, %(hi)s: the UTC window holding every candidate.
OPEN_BETS_SQL = f"""
    WITH {PLACES_CTE},
    candidates AS (
        SELECT t.id, t.player_id, pl.jurisdiction, t.api_client, t.round_id, t.currency, t.amount, t.created_at,
               {_END_INSTANT} AS ends
        FROM wallet_transaction t JOIN places pl ON pl.player_id = t.player_id
        WHERE t.type = 'bet' AND t.created_at >= %(lo)s AND t.created_at < %(hi)s
    )
    SELECT c.jurisdiction, c.currency, coalesce(sum(c.amount), 0), count(*)
    FROM candidates c
    WHERE c.created_at < c.ends AND c.created_at >= c.ends - make_interval(hours => %(hours)s)
      AND NOT EXISTS (SELECT 1 FROM wallet_transaction r WHERE r.reverses_id = c.id AND r.created_at < c.ends)
      AND NOT EXISTS (
          SELECT 1 FROM wallet_transaction w
          WHERE w.player_id = c.player_id AND w.round_id = c.round_id AND w.round_id <> ''
            AND w.api_client = c.api_client AND w.type = 'win' AND w.created_at < c.ends
            AND NOT EXISTS (SELECT 1 FROM wallet_transaction wr WHERE wr.reverses_id = w.id AND wr.created_at < c.ends)
      )
    GROUP BY c.jurisdiction, c.currency ORDER BY c.jurisdiction COLLATE "C", c.currency COLLATE "C"
"""  # noqa: S608 (constants only)

# Per jurisdiction: players with at least one bet not rolled back in local days %(start)s..%(end)s (the player day
# rollups), and accounts opened in those days on their own clock. %(lo)s, %(hi)s: a UTC window holding the days.
ACCOUNTS_SQL = f"""
    WITH {PLACES_CTE},
    active AS (
        SELECT pl.jurisdiction, count(*) AS n FROM (
            SELECT d.player_id FROM wallet_player_day d
            WHERE d.day BETWEEN %(start)s AND %(end)s
            GROUP BY d.player_id HAVING sum(d.bet_count) > 0
        ) a JOIN places pl ON pl.player_id = a.player_id
        GROUP BY pl.jurisdiction
    ),
    registered AS (
        SELECT pl.jurisdiction, count(*) AS n
        FROM players_player p JOIN places pl ON pl.player_id = p.id
        WHERE p.created_at >= %(lo)s AND p.created_at < %(hi)s
          AND {local_day_sql("p.created_at")} BETWEEN %(start)s AND %(end)s
        GROUP BY pl.jurisdiction
    )
    SELECT coalesce(a.jurisdiction, r.jurisdiction) AS jurisdiction, coalesce(a.n, 0), coalesce(r.n, 0)
    FROM active a FULL JOIN registered r ON r.jurisdiction = a.jurisdiction
    ORDER BY coalesce(a.jurisdiction, r.jurisdiction) COLLATE "C"
"""  # noqa: S608 (constants only)


def _rows(ctx: RunContext | None, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Through a return's context (its snapshot on the reports alias), or for the close job on the default
    database."""
    return (ctx or RunContext(using=DEFAULT_DB_ALIAS)).all(sql, params)


def _day_end_utc(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


def funds_from_ledger(
    day: date, *, jurisdiction: str | None = None, ctx: RunContext | None = None
) -> dict[tuple[str, str], Funds]:
    params = {"day": day, "earliest": _day_end_utc(day) - timedelta(hours=14), "jurisdiction": jurisdiction}
    return {
        (j, c): Funds(cash, bonus, pending, int(players))
        for j, c, cash, bonus, pending, players in _rows(ctx, FUNDS_SQL, params)
    }


def open_bets_from_ledger(
    day: date, hours: int = OPEN_BET_HOURS, *, ctx: RunContext | None = None
) -> dict[tuple[str, str], tuple[Decimal, int]]:
    ends = _day_end_utc(day)
    params = {"day": day, "hours": hours, "lo": ends - timedelta(hours=14 + hours), "hi": ends + timedelta(hours=12)}
    return {(j, c): (amount, int(n)) for j, c, amount, n in _rows(ctx, OPEN_BETS_SQL, params)}


def accounts_from_ledger(start: date, end: date, *, ctx: RunContext | None = None) -> dict[str, Accounts]:
    lo = datetime.combine(start, time(0, 0), tzinfo=UTC) - timedelta(hours=14)
    params = {"start": start, "end": end, "lo": lo, "hi": _day_end_utc(end) + timedelta(hours=12)}
    rows = _rows(ctx, ACCOUNTS_SQL, params)
    return {j: Accounts(int(active), int(registered)) for j, active, registered in rows}


# --- when a day is over --------------------------------------------------------------------------------------------


def is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def quarter_start(day: date) -> date | None:
    """The first day of the quarter ``day`` ends (None when it ends none)."""
    if not is_month_end(day) or day.month not in QUARTER_END_MONTHS:
        return None
    return date(day.year, day.month - 2, 1)


def zones_in_use() -> set[str]:
    """The configured jurisdictions' time zones (players elsewhere are on UTC)."""
    from apps.geo.models import Jurisdiction

    return set(Jurisdiction.objects.exclude(time_zone="").values_list("time_zone", flat=True))


def ended_everywhere(day: date, zones: set[str] | None = None) -> datetime:
    """The instant local day ``day`` has ended on every clock the players are on: UTC's and each configured
    jurisdiction's (whatever its rule packs' dates: the latest of them is what counts)."""
    ends = _day_end_utc(day)
    midnight = datetime.combine(day + timedelta(days=1), time(0, 0))
    for name in zones_in_use() if zones is None else zones:
        try:
            ends = max(ends, midnight.replace(tzinfo=ZoneInfo(name)).astimezone(UTC))
        except (KeyError, ValueError):  # an unknown zone name cannot be on any player's clock
            continue
    return ends


def may_close(day: date, now: datetime | None = None, zones: set[str] | None = None) -> bool:
    return (now or timezone.now()) >= ended_everywhere(day, zones) + MARGIN


# --- taking a close -------------------------------------------------------------------------------------------------


def close_take(day: date, *, actor: AuditActor | None = None, retake: bool = False) -> Any:
    """Take the close of month-end ``day``: the funds and open bets per jurisdiction and currency, and on a quarter's
    end the quarter's accounts, in one transaction with its audit event (``report.close_taken``, or
    ``report.close_retaken`` replacing an earlier close with ``retake``). Refuses a day that ends no month
    (``close_not_month_end``), a day not over on every clock yet (``close_day_not_ended``) and a day already closed
    without ``retake`` (``close_exists``)."""
    from apps.reports.models import AccountsClose, FundsClose, PeriodClose

    if not is_month_end(day):
        raise CloseNotMonthEnd(
            f"{day.isoformat()} is not the last day of a month.", fields={"day": ["Not a month's end."]}
        )
    if not may_close(day):
        raise CloseDayNotEnded(
            f"{day.isoformat()} has not ended on every clock yet: it can be closed from "
            f"{(ended_everywhere(day) + MARGIN).isoformat(timespec='minutes')}.",
            fields={"day": ["Not over everywhere yet."]},
        )
    started = clock.perf_counter()
    with transaction.atomic():
        # one close of a day at a time: a second taker waits here, then finds the first one's close
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CLOSE_LOCK, day.toordinal()])
        earlier = PeriodClose.objects.filter(day=day).first()
        if earlier is not None and not retake:
            raise CloseExists(f"{day.isoformat()} was closed at {earlier.taken_at.isoformat(timespec='seconds')}.")
        replaced = None
        if earlier is not None:
            replaced = {"taken_at": earlier.taken_at.isoformat(), "id": earlier.pk}
            earlier.delete()
        # each statement reads the ledger as it stands then: the figures of a day that is over do not move (later
        # entries are subtracted, later bets, wins and rollbacks fall after its end)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
        funds = funds_from_ledger(day)
        bets = open_bets_from_ledger(day, OPEN_BET_HOURS)
        opens = quarter_start(day)
        accounts = accounts_from_ledger(opens, day) if opens is not None else {}
        close = PeriodClose.objects.create(
            day=day, open_bet_hours=OPEN_BET_HOURS, quarter_start=opens, seconds=clock.perf_counter() - started
        )
        lines = []
        for key in sorted(set(funds) | set(bets)):
            held, (open_bets, open_bet_count) = funds.get(key, Funds()), bets.get(key, (ZERO, 0))
            lines.append(
                FundsClose(
                    close=close,
                    jurisdiction=key[0],
                    currency=key[1],
                    cash=held.cash,
                    bonus=held.bonus,
                    pending_withdrawals=held.pending_withdrawals,
                    players_with_funds=held.players_with_funds,
                    open_bets=open_bets,
                    open_bet_count=open_bet_count,
                )
            )
        FundsClose.objects.bulk_create(lines)
        AccountsClose.objects.bulk_create(
            AccountsClose(close=close, jurisdiction=j, active=a.active, registrations=a.registrations)
            for j, a in sorted(accounts.items())
        )
        audit_log(
            actor=actor or SYSTEM,
            action="report.close_retaken" if replaced else "report.close_taken",
            target=close,
            data={
                "day": day.isoformat(),
                "quarter_start": opens.isoformat() if opens else None,
                "funds_lines": len(lines),
                "accounts_lines": len(accounts),
                **({"replaced": replaced} if replaced else {}),
            },
        )
    return close


CLOSE_LOCK = 0x434C_4F53  # "CLOS": with the day's ordinal, the two-key advisory lock of one day's close


def closes_due(now: datetime | None = None) -> list[date]:
    """The month-ends from the ledger's first posting's month on that are over everywhere and not closed yet."""
    from apps.reports.models import PeriodClose
    from apps.reports.rollups import first_day

    first = first_day()
    if first is None:
        return []
    now = now or timezone.now()
    done = set(PeriodClose.objects.values_list("day", flat=True))
    zones = zones_in_use()
    due, day = [], month_end(first)
    while may_close(day, now, zones):
        if day not in done:
            due.append(day)
        day = month_end(day + timedelta(days=1))
    return due


def close_due(*, limit: int = 3, budget_seconds: float | None = None, now: datetime | None = None) -> list[date]:
    """Take the closes that are due, oldest first, at most ``limit`` per call and none begun after
    ``budget_seconds`` (a first run on an old ledger catches up over a few calls); a close another taker made
    meanwhile is skipped. The days closed."""
    closed: list[date] = []
    began = clock.perf_counter()
    for day in closes_due(now)[:limit]:
        if budget_seconds is not None and closed and clock.perf_counter() - began > budget_seconds:
            break
        try:
            close_take(day)
        except CloseExists:
            continue
        closed.append(day)
    return closed


# --- reading a close (the returns) ---------------------------------------------------------------------------------


CLOSE_SQL = "SELECT id, open_bet_hours, quarter_start FROM reports_period_close WHERE day = %s"
CLOSE_FUNDS_SQL = (
    "SELECT jurisdiction, currency, cash, bonus, pending_withdrawals, players_with_funds FROM reports_close_funds "
    "WHERE close_id = %s AND (%s::text IS NULL OR jurisdiction = %s::text)"
)
CLOSE_OPEN_BETS_SQL = (
    "SELECT jurisdiction, currency, open_bets, open_bet_count FROM reports_close_funds "
    "WHERE close_id = %s AND open_bet_count > 0"
)
CLOSE_ACCOUNTS_SQL = "SELECT jurisdiction, active, registrations FROM reports_close_accounts WHERE close_id = %s"
CLOSE_READS = (CLOSE_SQL, CLOSE_FUNDS_SQL, CLOSE_OPEN_BETS_SQL, CLOSE_ACCOUNTS_SQL)


def _close_row(ctx: RunContext, day: date) -> tuple[int, int, date | None] | None:
    rows = ctx.all(CLOSE_SQL, [day])
    return (int(rows[0][0]), int(rows[0][1]), rows[0][2]) if rows else None


def funds_at(
    ctx: RunContext, day: date, *, jurisdiction: str | None = None
) -> tuple[dict[tuple[str, str], Funds], str]:
    """(figures, where from): the close's funds of ``day`` when it was closed, else the ledger's, through the
    return's context (one snapshot)."""
    close = _close_row(ctx, day)
    if close is None:
        return funds_from_ledger(day, jurisdiction=jurisdiction, ctx=ctx), "ledger"
    rows = ctx.all(CLOSE_FUNDS_SQL, [close[0], jurisdiction, jurisdiction])
    return {(j, c): Funds(cash, bonus, pending, int(n)) for j, c, cash, bonus, pending, n in rows}, "close"


def open_bets_at(ctx: RunContext, day: date, hours: int) -> tuple[dict[tuple[str, str], tuple[Decimal, int]], str]:
    """(figures, where from): the close's open bets when it used the same window, else the ledger's."""
    close = _close_row(ctx, day)
    if close is None or close[1] != hours:
        return open_bets_from_ledger(day, hours, ctx=ctx), "ledger"
    rows = ctx.all(CLOSE_OPEN_BETS_SQL, [close[0]])
    return {(j, c): (amount, int(n)) for j, c, amount, n in rows}, "close"


def accounts_at(ctx: RunContext, start: date, end: date) -> tuple[dict[str, Accounts], str]:
    """A quarter's accounts from the close of its last day when it has them, else from the ledger."""
    close = _close_row(ctx, end)
    if close is None or close[2] != start:
        return accounts_from_ledger(start, end, ctx=ctx), "ledger"
    rows = ctx.all(CLOSE_ACCOUNTS_SQL, [close[0]])
    return {j: Accounts(int(a), int(r)) for j, a, r in rows}, "close"


def by_currency(figures: dict[tuple[str, str], Funds]) -> dict[str, Funds]:
    """Per currency over every jurisdiction (exact Decimal sums)."""
    out: dict[str, Funds] = {}
    for (_j, currency), f in sorted(figures.items()):
        was = out.get(currency, Funds())
        out[currency] = Funds(
            was.cash + f.cash,
            was.bonus + f.bonus,
            was.pending_withdrawals + f.pending_withdrawals,
            was.players_with_funds + f.players_with_funds,
        )
    return out


def recent_with_waiting(limit: int = 13) -> list[tuple[date, Any]]:
    """The latest month-ends over everywhere, newest first, each with its close (None: due, taken at the job's next
    run), for the due-date calendar."""
    from apps.reports.models import PeriodClose

    taken = {close.day: close for close in PeriodClose.objects.order_by("-day")[:limit]}
    days = sorted(set(taken) | set(closes_due()), reverse=True)[:limit]
    return [(day, taken.get(day)) for day in days]
