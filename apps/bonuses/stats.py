"""Bonus statistics for a template and for a campaign (docs/BONUSES.md "Statistics"): what was offered, claimed,
awarded, converted, forfeited, expired and cancelled, with the money, the bonus cost and its effect on NGR, and a
daily series for the chart. Read-only selectors: every figure is one SQL aggregate (never a loop over rows).

Money is per currency (a template has one, but the figures are grouped by the bonuses' own currency, so two
currencies are never added up) and exact: ``Decimal`` from PostgreSQL ``numeric``.

Where the figures come from: the player bonus rows carry what the ledger moved for them, posting by posting
(``amount`` = the ``bonus_award`` posting ``bonus-<id>``, ``converted_amount`` = ``bonus_convert``
``bonus-<id>-convert``, ``forfeited_amount`` = ``bonus_forfeit`` ``bonus-<id>-forfeit``), so summing them reads
the template's index, not the ledger. One exception: a free-spins award posts nothing (its ``amount`` is 0 then)
and each spin's winnings are a ``win`` posting from the house into the bonus account that grows ``amount``; so a
free-spins template's ``amount`` is money given but no ``bonus_award`` posting (GGR already counts it as a win),
and its bonus cost counts only the forfeits (negative: money back into the bonus cost account).

The ledger itself is read twice: the balance of the bonuses still wagering (the player's ``bonus`` account: one
active bonus per player and currency), and the GGR of the players while on the bonus (their bets, wins and
rollbacks in the bonus's currency from its activation to its end, both included: the bet that met the wagering
and the end can share a moment), through the ledger's per-player index, up to ``GGR_MAX_BONUSES``.

Bonus cost and NGR (DESIGN.md section 4: GGR = stakes - wins, NGR = GGR - bonus cost). Our GGR counts every stake,
cash or bonus money (the rollups' ``stakes`` is the whole stake). A ``bonus_award`` pays the player's bonus account
from the operator's ``bonus_cost`` account and a ``bonus_forfeit`` pays back what was left; ``bonus_convert`` moves
bonus money to cash (the bonus cost account does not see it). So the bonus cost is the net debit of ``bonus_cost``
for these bonuses, **the award postings - the forfeits**: the cash converted, plus the bonus money the players
staked and lost (which GGR counted as the house's income although it was the operator's own money), plus, while
bonuses are active, what is still on their balances. The NGR effect is minus that."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from apps.core.money import quantize

if TYPE_CHECKING:
    from apps.bonuses.models import BonusTemplate

ZERO = Decimal("0")
CHART_DAYS = (30, 90, 365)
DEFAULT_DAYS = 30
SERIES = ("awarded", "converted", "forfeited")


@dataclass(frozen=True)
class Figures:
    """One currency's figures. Counts are bonuses; amounts are in ``currency``."""

    currency: str
    offered: int  # made as offers (the player claims them)
    claimed: int  # offers taken up
    awarded: int  # activated: claimed offers and direct awards
    awarded_amount: Decimal  # the bonus money given (free spins: their winnings so far)
    active: int  # wagering now
    open_balance: Decimal  # on the active bonuses' balances now
    completed: int  # wagering met: converted to cash
    converted_amount: Decimal  # cash paid: the operator's real money out
    forfeited: int  # ended by a withdrawal request or a bet above the maximum
    forfeited_amount: Decimal
    expired: int  # wagering not met in time (money returned)
    expired_amount: Decimal
    lapsed: int  # offers not claimed in time (no money ever moved)
    cancelled: int  # by staff or the player (an offer or an active bonus)
    cancelled_amount: Decimal
    over_max_conversion: Decimal  # forfeited at a completion, above the maximum conversion
    returned_amount: Decimal  # every bonus_forfeit: back to bonus cost
    bonus_cost: Decimal  # award postings - returned: the net debit of the bonus_cost account
    ngr_effect: Decimal  # - bonus_cost
    ggr_on_bonus: Decimal | None  # stakes - wins of the players while on the bonus (None: not computed)
    ngr_on_bonus: Decimal | None  # ggr_on_bonus - bonus_cost

    @property
    def claim_rate(self) -> Decimal | None:
        """Offers taken up, percent of the offers."""
        return _percent(self.claimed, self.offered)

    @property
    def conversion_rate(self) -> Decimal | None:
        """Completed, percent of the awarded."""
        return _percent(self.completed, self.awarded)


def _percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


def _scope(template_id: int, campaign_id: int | None) -> tuple[str, list[Any]]:
    """The bonuses the figures are about. A campaign's bonuses are its template's with its id
    (``PlayerBonus.campaign_id``, set by the award and kept by a later claim of the offer): the filter on the
    template uses the template's index, so a campaign never scans every player bonus."""
    if campaign_id is None:
        return "pb.template_id = %s", [template_id]
    return "pb.template_id = %s AND pb.campaign_id = %s", [template_id, campaign_id]


FIGURES_SQL = """
WITH b AS (
    SELECT pb.id, pb.player_id, pb.currency, pb.state, pb.amount, pb.converted_amount, pb.forfeited_amount,
           pb.claim_by, pb.activated_at, pb.ended_at, bt.type AS template_type
    FROM bonuses_playerbonus pb JOIN bonuses_bonustemplate bt ON bt.id = pb.template_id WHERE {scope}
), totals AS (
    SELECT currency,
        count(*) FILTER (WHERE claim_by IS NOT NULL) AS offered,
        count(*) FILTER (WHERE claim_by IS NOT NULL AND activated_at IS NOT NULL) AS claimed,
        count(*) FILTER (WHERE activated_at IS NOT NULL) AS awarded,
        coalesce(sum(amount) FILTER (WHERE activated_at IS NOT NULL), 0) AS awarded_amount,
        coalesce(sum(amount) FILTER (WHERE activated_at IS NOT NULL AND template_type <> 'free_spins'), 0)
            AS award_posted,
        count(*) FILTER (WHERE state = 'active') AS active,
        count(*) FILTER (WHERE state = 'completed') AS completed,
        coalesce(sum(converted_amount) FILTER (WHERE state = 'completed'), 0) AS converted_amount,
        count(*) FILTER (WHERE state = 'forfeited') AS forfeited,
        coalesce(sum(forfeited_amount) FILTER (WHERE state = 'forfeited'), 0) AS forfeited_amount,
        count(*) FILTER (WHERE state = 'expired' AND activated_at IS NOT NULL) AS expired,
        coalesce(sum(forfeited_amount) FILTER (WHERE state = 'expired'), 0) AS expired_amount,
        count(*) FILTER (WHERE state = 'expired' AND activated_at IS NULL) AS lapsed,
        count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
        coalesce(sum(forfeited_amount) FILTER (WHERE state = 'cancelled'), 0) AS cancelled_amount,
        coalesce(sum(forfeited_amount) FILTER (WHERE state = 'completed'), 0) AS over_max_conversion,
        coalesce(sum(forfeited_amount), 0) AS returned_amount
    FROM b GROUP BY currency
), open AS (
    SELECT b.currency, sum(a.balance) AS open_balance
    FROM b JOIN wallet_account a ON a.player_id = b.player_id AND a.currency = b.currency AND a.kind = 'bonus'
    WHERE b.state = 'active' GROUP BY b.currency
), play_wanted AS (
    -- the GGR join reads each recipient's ledger history (its per-player index): only up to a number of bonuses
    SELECT count(*) <= %s AS wanted FROM b WHERE activated_at IS NOT NULL
), play AS (
    SELECT b.currency, sum(CASE t.type WHEN 'bet' THEN t.amount WHEN 'win_rollback' THEN t.amount
                                      ELSE -t.amount END) AS ggr
    FROM b JOIN wallet_transaction t
      ON t.player_id = b.player_id AND t.currency = b.currency
     AND t.created_at >= b.activated_at AND t.created_at <= coalesce(b.ended_at, %s)
    WHERE b.activated_at IS NOT NULL AND t.type IN ('bet', 'rollback', 'win', 'win_rollback')
      AND (SELECT wanted FROM play_wanted)
    GROUP BY b.currency
)
SELECT totals.*, coalesce(open.open_balance, 0) AS open_balance,
       CASE WHEN (SELECT wanted FROM play_wanted) THEN coalesce(play.ggr, 0) END AS ggr_on_bonus
FROM totals LEFT JOIN open USING (currency) LEFT JOIN play USING (currency)
ORDER BY currency
"""
# Up to this many awarded bonuses the figures include the recipients' GGR while on the bonus (measured: 20,000
# bonuses over 1,000,000 ledger transactions of their players, 0.5 s; docs/BONUSES.md); above it, or with
# ``ggr=False``, the GGR and the NGR while on the bonus are not computed (None) and the page says so.
GGR_MAX_BONUSES = 20_000


def _money(value: Any, currency: str) -> Decimal:
    """The currency's own decimals (the ledger keeps four): exact, as every posting is in minor units."""
    return quantize(Decimal(value), currency)


def figures(
    *, template_id: int, campaign_id: int | None = None, now: datetime | None = None, ggr: bool = True
) -> list[Figures]:
    """The figures of a template's bonuses (or one campaign's), one ``Figures`` per currency: one statement."""
    scope, params = _scope(template_id, campaign_id)
    limit = GGR_MAX_BONUSES if ggr else -1
    with connection.cursor() as cursor:
        cursor.execute(FIGURES_SQL.format(scope=scope), [*params, limit, now or timezone.now()])
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    out = []
    for row in rows:
        for name, value in row.items():
            if isinstance(value, Decimal):
                row[name] = _money(value, row["currency"])
        cost = row.pop("award_posted") - row["returned_amount"]
        played = row["ggr_on_bonus"]
        out.append(
            Figures(**row, bonus_cost=cost, ngr_effect=-cost, ngr_on_bonus=None if played is None else played - cost)
        )
    return out


def template_figures(template: BonusTemplate, *, now: datetime | None = None) -> list[Figures]:
    return figures(template_id=template.pk, now=now)


def campaign_figures(campaign: Any, *, now: datetime | None = None) -> list[Figures]:
    """``campaign``: a crm Campaign (its template and id; the CRM sits above the bonuses, so not imported here)."""
    return figures(template_id=campaign.template_id, campaign_id=campaign.pk, now=now)


SERIES_SQL = """
WITH b AS (
    SELECT pb.currency, pb.state, pb.amount, pb.converted_amount, pb.forfeited_amount, pb.activated_at, pb.ended_at
    FROM bonuses_playerbonus pb WHERE {scope}
)
SELECT day, kind, currency, count(*) FILTER (WHERE counted), coalesce(sum(money), 0) FROM (
    SELECT (activated_at AT TIME ZONE %s)::date AS day, 'awarded' AS kind, currency, amount AS money, true AS counted
    FROM b WHERE activated_at >= %s
    UNION ALL
    SELECT (ended_at AT TIME ZONE %s)::date, 'converted', currency, converted_amount, true
    FROM b WHERE state = 'completed' AND ended_at >= %s
    UNION ALL
    SELECT (ended_at AT TIME ZONE %s)::date, 'forfeited', currency, forfeited_amount, state <> 'completed'
    FROM b WHERE activated_at IS NOT NULL AND ended_at >= %s
     AND (state IN ('forfeited', 'expired', 'cancelled') OR (state = 'completed' AND forfeited_amount > 0))
) e GROUP BY day, kind, currency ORDER BY day
"""


@dataclass(frozen=True)
class Series:
    """Per day (the admin's time zone), from ``start`` to ``end`` inclusive: counts and money per currency.
    ``awarded``: bonuses activated; ``converted``: completed (the cash paid); ``forfeited``: bonuses that ended
    without conversion (forfeited, expired after activation, cancelled after activation) and, in the money, every
    forfeit posting of the day (a completion's part above the maximum conversion included)."""

    start: date
    end: date
    counts: dict[str, list[int]]
    money: dict[str, dict[str, list[Decimal]]]  # currency -> kind -> per day

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def chart(self) -> dict[str, Any]:
        """What the page's chart script reads (through ``json_script``): money as exact strings."""
        return {
            "days": [d.isoformat() for d in self.days],
            "counts": self.counts,
            "money": {
                currency: {kind: [str(v) for v in values] for kind, values in kinds.items()}
                for currency, kinds in self.money.items()
            },
        }


def series(
    *, template_id: int, campaign_id: int | None = None, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> Series:
    """Awards, conversions and forfeits per day over the last ``days`` days (today included): one statement."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    end = timezone.localtime(now, zone).date()
    start = end - timedelta(days=days - 1)
    since = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    scope, params = _scope(template_id, campaign_id)
    name = str(zone)
    with connection.cursor() as cursor:
        cursor.execute(SERIES_SQL.format(scope=scope), [*params, name, since, name, since, name, since])
        rows = cursor.fetchall()
    size = days
    counts = {kind: [0] * size for kind in SERIES}
    money: dict[str, dict[str, list[Decimal]]] = {}
    for day, kind, currency, count, amount in rows:  # at most 3 x days x currencies aggregate rows
        index = (day - start).days
        if not 0 <= index < size:
            continue  # a time after ``now`` (a test's or a clock's skew): outside the chart
        counts[kind][index] += count
        per = money.setdefault(currency, {k: [_money(ZERO, currency)] * size for k in SERIES})
        per[kind][index] = _money(amount, currency)
    return Series(start=start, end=end, counts=counts, money=money)


def chart_days(value: Any) -> int:
    """The chart's window from the page's query string (30, 90 or 365 days; else the default, 30)."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in CHART_DAYS else DEFAULT_DAYS


def panel(*, template_id: int, campaign_id: int | None = None, days: Any = None, ggr: bool = True) -> dict[str, Any]:
    """Everything the statistics panel of a template's or a campaign's page shows (``ggr=False``: without the
    players' GGR, for a page that reloads itself every two seconds)."""
    now = timezone.now()
    window = chart_days(days)
    daily = series(template_id=template_id, campaign_id=campaign_id, days=window, now=now)
    return {
        "figures": figures(template_id=template_id, campaign_id=campaign_id, now=now, ggr=ggr),
        "ggr_max": GGR_MAX_BONUSES,
        "series": daily,
        "chart": daily.chart(),
        "days": window,
        "day_choices": CHART_DAYS,
    }


def as_dict(item: Figures) -> dict[str, Any]:
    return asdict(item)
