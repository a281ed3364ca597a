"""Rule kinds: what each kind of AML rule reads, its typed parameters and when it hits.

``base``: the values, the typed parameters and the registry; ``reading``: what the kinds read (rollups, the
ledger, thresholds in the player's currency, window slices); ``triggered``: the kinds evaluated on postings;
``swept``: those the sweep evaluates. This module registers them and is the interface (``__all__``).

A rule version stores its parameters as JSON; ``validate(kind, params)`` is the one gate (types, ranges, required
fields, no unknown key: ``RuleParamsInvalid`` with a message per field) and returns the canonical JSON form
(amounts as strings, windows as ``"24h"``/``"30d"``, countries upper-case and sorted). ``parse`` turns that form
into typed values for the evaluation (``Money``, ``Window``, ``Decimal``).

Which postings evaluate which kind is part of the kind (``Kind.triggers``): deposits and withdrawal requests
only, so a bet is never queued for the rules (``evaluation.register`` subscribes to the union of the triggers).
Country mismatch and shared identifiers read logins, and bonus abuse the bonus engine's abuse flags
(``bonuses_bonusflag``), which no posting announces: they run in the scheduled sweep (``Kind.sweep``). A kind
whose source does not exist yet can be registered with ``available=False``: rules of it can be drafted, never
published, and the evaluation skips them.

Windows. ``Nd`` is the last N local days of the player's jurisdiction including today, read from the day rollups
(``wallet_player_day``, at most N rows); ``Nh`` is the N hours up to the evaluated posting, read from the ledger
by the player's index and bounded by the posting's id (a later posting is never counted). Rollups are read as
they stand when the event is evaluated: with a backlog they may include a later posting of the same day. Every
ledger read is first bounded by the rollups of the days it spans (a player whose days cannot reach the
threshold costs one small read, no ledger scan), and one posting's rules share their reads (``Subject.memo``:
one read of the day rows, the longest window first). A rule over local days names only the triggering posting in
its evidence (the rollups hold no transaction ids); the hour windows and structuring name every deposit counted
(the newest 20).

Currencies. A threshold carries its currency. The player's postings are compared in their own currency: a
threshold in another one is converted through EUR at the operator's configured rates
(``apps.approvals.thresholds``), and the evidence shows both figures. A currency without a configured rate
cannot be compared safely: the rule does not hit and a warning is logged (``rule_threshold_no_rate``).

Deduplication (``Hit.window_key``; an alert is unique per rule, player and key):

* window kinds (amount, count, structuring, many instruments) key on the window-length slice of calendar time
  that holds the triggering deposit (``24h@2026-12-03T00:00Z``, ``30d@2026-11-20``): every deposit that keeps the
  window above the threshold within that slice adds to one alert; a player still above it in the next slice gets
  a new alert, which is what an analyst wants to see;
* event kinds (little play, spike, rapid in-out) key on the triggering posting (``withdrawal:123``), so each
  suspicious withdrawal or deposit is its own alert and a re-evaluation of the same posting collapses;
* country mismatch keys on the country and the month (``ip:FR@2026-12``): one alert a month per foreign country;
* shared identifiers key on the identifier (``device:<digest>``): one alert per player and shared value, ever;
* bonus abuse keys on the newest flag counted (``bonus_flag:42``): one alert per new flag once the count is
  reached.
"""

from __future__ import annotations

from decimal import Decimal

from apps.bonuses.choices import FlagKind
from apps.compliance.choices import RuleKind
from apps.compliance.kinds.base import (
    DEPOSIT,
    EVIDENCE_LIST_MAX,
    IDENTIFIERS,
    KINDS,
    WITHDRAWAL,
    Evaluate,
    Hit,
    Kind,
    Money,
    Param,
    Subject,
    Window,
    evaluate,
    iso,
    kind_for,
    money,
    parse,
    posting_types,
    register,
    validate,
)
from apps.compliance.kinds.reading import (
    Bounds,
    Posting,
    bounds,
    day_sums,
    deposits,
    digest,
    listed,
    slice_key,
    threshold_evidence,
    threshold_in,
)
from apps.compliance.kinds.swept import bonus_abuse, country_mismatch, shared_identifier
from apps.compliance.kinds.triggered import (
    amount_window,
    count_window,
    little_play,
    many_instruments,
    rapid_in_out,
    spike,
    structuring,
)

__all__ = [
    "DEPOSIT",
    "EVIDENCE_LIST_MAX",
    "IDENTIFIERS",
    "KINDS",
    "WITHDRAWAL",
    "Bounds",
    "Evaluate",
    "Hit",
    "Kind",
    "Money",
    "Param",
    "Posting",
    "Subject",
    "Window",
    "bounds",
    "day_sums",
    "deposits",
    "digest",
    "evaluate",
    "iso",
    "kind_for",
    "listed",
    "money",
    "parse",
    "posting_types",
    "register",
    "slice_key",
    "threshold_evidence",
    "threshold_in",
    "validate",
]

D = Decimal
WINDOW = "Hours ('24h', the ledger) or local days ('30d', the day rollups)"
register(
    Kind(
        RuleKind.AMOUNT_WINDOW,
        (Param("amount", "money", help="Sum of deposits from which it hits"), Param("window", "window", help=WINDOW)),
        amount_window,
        triggers=frozenset({DEPOSIT}),
    )
)
register(
    Kind(
        RuleKind.COUNT_WINDOW,
        (
            Param("count", "int", minimum=D(1), maximum=D(10000), help="Deposits from which it hits"),
            Param("window", "window", help=WINDOW),
            Param("min_amount", "money", required=False, help="Count only deposits of at least this amount"),
        ),
        count_window,
        triggers=frozenset({DEPOSIT}),
    )
)
register(
    Kind(
        RuleKind.STRUCTURING,
        (
            Param("threshold", "money", help="The threshold being avoided (CDD: EUR 2,000)"),
            Param("percent", "decimal", minimum=D("0.01"), maximum=D(50), help="How far under it, in percent"),
            Param("count", "int", minimum=D(2), maximum=D(1000), help="Deposits in the band from which it hits"),
            Param("window", "window", help=WINDOW),
        ),
        structuring,
        triggers=frozenset({DEPOSIT}),
    )
)
register(
    Kind(
        RuleKind.LITTLE_PLAY,
        (
            Param("k", "decimal", minimum=D("0.01"), maximum=D(100), help="Cash wagered expected per deposit"),
            Param("window", "window", units="d", help="Local days of deposits and play before the withdrawal"),
            Param("min_deposits", "money", required=False, help="Ignore windows with fewer deposits than this"),
        ),
        little_play,
        triggers=frozenset({WITHDRAWAL}),
    )
)
register(
    Kind(
        RuleKind.MANY_INSTRUMENTS,
        (
            Param("count", "int", minimum=D(2), maximum=D(1000), help="Distinct instruments from which it hits"),
            Param("window", "window", default="7d", required=False, help=WINDOW),
        ),
        many_instruments,
        triggers=frozenset({DEPOSIT}),
    )
)
register(
    Kind(
        RuleKind.SPIKE,
        (
            Param("k", "decimal", minimum=D(1), maximum=D(1000), help="Times the average deposit"),
            Param("history", "window", units="d", default="30d", required=False, help="The average's local days"),
            Param("min_history", "int", minimum=D(1), maximum=D(1000), default=3, required=False),
            Param("min_amount", "money", required=False, help="Ignore deposits under this amount"),
        ),
        spike,
        triggers=frozenset({DEPOSIT}),
    )
)
register(
    Kind(
        RuleKind.COUNTRY_MISMATCH,
        (
            Param("residence_mismatch", "bool", default=True, required=False, help="IP country not the residence"),
            Param("high_risk_countries", "countries", default=[], required=False),
            Param("window", "window", default="1d", required=False, help="Logins looked at"),
        ),
        country_mismatch,
        sweep=True,
    )
)
register(
    Kind(
        RuleKind.SHARED_IDENTIFIER,
        (
            Param("identifiers", "identifiers", default=list(IDENTIFIERS), required=False),
            Param("min_other_players", "int", minimum=D(1), maximum=D(EVIDENCE_LIST_MAX), help="Other players"),
            Param("window", "window", default="30d", required=False, help="Logins and deposits looked at"),
        ),
        shared_identifier,
        sweep=True,
    )
)
register(
    Kind(
        RuleKind.RAPID_IN_OUT,
        (
            Param("hours", "int", minimum=D(1), maximum=D(720), help="Withdrawal within this many hours"),
            Param("share", "decimal", minimum=D("0.01"), maximum=D(1), help="Of the deposit, at least"),
        ),
        rapid_in_out,
        triggers=frozenset({WITHDRAWAL}),
    )
)
register(
    Kind(
        RuleKind.BONUS_ABUSE,
        (
            Param(
                "flags",
                "strings",
                default=[],
                required=False,
                choices=tuple(FlagKind.values),
                help=f"The bonus engine's flags that count (none given: all): {', '.join(FlagKind.values)}",
            ),
            Param("count", "int", minimum=D(1), maximum=D(100), default=1, required=False, help="Flags that hit"),
            Param("window", "window", default="30d", required=False, help="Flags raised in the last"),
        ),
        bonus_abuse,
        sweep=True,
    )
)
