"""The player-protection events the compliance reports count (``rg_activity``, ``uk_quarterly``), defined once so
the two can never disagree about what a time-out or a limit change is.

One row per event, from the append-only tables of apps.responsible:

- a limit change is a ``LimitChange`` row, counted when it was asked for (``requested_at``), whatever became of it
  (an increase waits for its cooling-off and the player's confirmation: the request is the player's act). The
  player's own are ``limit_set`` (no limit before), ``limit_decreased``, ``limit_increased`` and
  ``limit_removed``; setting the value a limit already has changes nothing and is not counted. Limits staff set
  are ``operator_limit`` (an intervention, not the player's choice);
- a time-out, a self-exclusion or an operator exclusion is an ``Exclusion`` row, counted when it was made. A
  data-entry correction supersedes an exclusion with a replacement row: the replacement is the same exclusion
  corrected, not a second one, so a row some other row is superseded by is left out;
- a national register self-exclusion is a ``RegisterCheck`` that found the person registered (``hit``): counted
  once per person and local day however often they were asked (every login asks); a check made before the account
  existed has no player and counts under its subject, in the jurisdiction whose rule pack names the register;
- an interaction is an RG ``Interaction`` staff recorded (``detail``: its channel); a limit flag is a ``Flag``
  raised at 80 % or 100 % of a limit (``detail``: its kind).

Each event is dated on its player's jurisdiction's clock (``common.PLACES_CTE`` and ``zone_sql``, as the ledger
rollups date postings), and the player's age is their age on that local day.
"""

from __future__ import annotations

from apps.reports.definitions.common import zone_sql

# The CTEs ``register_places`` and ``events`` (after ``common.PLACES_CTE``); parameters ``lo`` and ``hi``: a UTC
# window that holds the period's local days on every clock (``common.utc_window``), the coarse filter.
EVENTS_CTE = f"""
    register_places AS (
        SELECT DISTINCT ON (rp.self_exclusion_register) rp.self_exclusion_register AS register,
               j.code AS jurisdiction, coalesce(nullif(j.time_zone, ''), 'UTC') AS zone
        FROM geo_rulepack rp JOIN geo_jurisdiction j ON j.id = rp.jurisdiction_id
        WHERE rp.self_exclusion_register <> ''
        ORDER BY rp.self_exclusion_register, rp.effective_from DESC, j.code
    ),
    raw_events AS (
        SELECT c.player_id, c.requested_at AS at,
               CASE WHEN c.source = 'operator' THEN 'operator_limit'
                    WHEN c.old_value IS NULL THEN 'limit_set'
                    WHEN c.new_value IS NULL THEN 'limit_removed'
                    WHEN c.new_value < c.old_value THEN 'limit_decreased'
                    WHEN c.new_value > c.old_value THEN 'limit_increased'
               END AS kind,
               c.kind AS detail, NULL::text AS register, 'p' || c.player_id AS subject
        FROM responsible_limitchange c
        WHERE c.requested_at >= %(lo)s AND c.requested_at < %(hi)s
        UNION ALL
        SELECT e.player_id, e.created_at,
               CASE e.kind WHEN 'operator' THEN 'operator_exclusion' ELSE e.kind END,
               e.term, NULL, 'p' || e.player_id
        FROM responsible_exclusion e
        WHERE e.created_at >= %(lo)s AND e.created_at < %(hi)s
          AND NOT EXISTS (SELECT 1 FROM responsible_exclusion o WHERE o.superseded_by_id = e.id)
        UNION ALL
        SELECT r.player_id, r.at, 'register_exclusion', r.register, r.register,
               coalesce('p' || r.player_id, 's' || r.subject)
        FROM responsible_registercheck r
        WHERE r.outcome = 'hit' AND r.at >= %(lo)s AND r.at < %(hi)s
        UNION ALL
        SELECT i.player_id, i.at, 'interaction', i.channel, NULL, 'p' || i.player_id
        FROM responsible_interaction i
        WHERE i.at >= %(lo)s AND i.at < %(hi)s
        UNION ALL
        SELECT f.player_id, f.created_at, 'limit_flag', f.kind, NULL, 'p' || f.player_id
        FROM responsible_flag f
        WHERE f.created_at >= %(lo)s AND f.created_at < %(hi)s
    ),
    events AS (
        SELECT ev.kind, ev.detail, ev.subject, ev.player_id,
               coalesce(pl.jurisdiction, rg.jurisdiction, '') AS jurisdiction,
               (ev.at AT TIME ZONE CASE WHEN pl.player_id IS NULL THEN coalesce(rg.zone, 'UTC')
                                        ELSE {zone_sql("ev.at", "pl")} END)::date AS day,
               p.date_of_birth, coalesce(p.gender, '') AS gender
        FROM raw_events ev
        LEFT JOIN places pl ON pl.player_id = ev.player_id
        LEFT JOIN players_player p ON p.id = ev.player_id
        LEFT JOIN register_places rg ON ev.player_id IS NULL AND rg.register = ev.register
        WHERE ev.kind IS NOT NULL
    )
"""  # noqa: S608 (constants only)

# The counted kinds, in the order the reports show them, with their labels.
PLAYER_LIMIT_KINDS = (
    ("limit_set", "Limits set (new)"),
    ("limit_decreased", "Limits decreased"),
    ("limit_increased", "Limit increases asked for"),
    ("limit_removed", "Limit removals asked for"),
)
EXCLUSION_KINDS = (
    ("time_out", "Time-outs"),
    ("self_exclusion", "Self-exclusions (with us)"),
    ("register_exclusion", "Found on a national self-exclusion register"),
)
INTERVENTION_KINDS = (
    ("interaction", "RG interactions recorded"),
    ("operator_exclusion", "Operator exclusions and blocks"),
    ("operator_limit", "Limits set by the operator"),
    ("limit_flag", "Limit flags (80 % or 100 % used)"),
)

# Age bands of the UK Gambling Commission's returns, by the age on the event's local day (``age`` of a date and
# the birth date is whole years, as a birthday counts). Nobody under 18 can hold an account; the band is there so
# such a row could never vanish from a total.
AGE_BANDS = ("under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


def age_band_sql(day: str, birth: str) -> str:
    """The age band of a person born on ``birth`` on the local day ``day`` (SQL expressions)."""
    age = f"extract(year FROM age({day}, {birth}))"
    return (
        f"CASE WHEN {age} < 18 THEN 'under 18' WHEN {age} < 25 THEN '18-24' WHEN {age} < 35 THEN '25-34' "
        f"WHEN {age} < 45 THEN '35-44' WHEN {age} < 55 THEN '45-54' WHEN {age} < 65 THEN '55-64' ELSE '65+' END"
    )
