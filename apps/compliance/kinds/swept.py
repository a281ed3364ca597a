"""The kinds the sweep evaluates: they read what no posting announces (logins, and the bonus engine's abuse
flags)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from apps.bonuses.choices import FlagKind
from apps.compliance.kinds.base import (
    EVIDENCE_LIST_MAX,
    IDENTIFIERS,
    Hit,
    Subject,
    iso,
)
from apps.compliance.kinds.reading import (
    bounds,
    digest,
)


def country_mismatch(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """Logins in the window from a country other than the residence (``residence_mismatch``) or in the
    high-risk list, and a residence in that list. One hit per country (a month's alert, package docstring)."""
    span = bounds(s, p["window"])
    high_risk: frozenset[str] = p["high_risk_countries"] or frozenset()
    month = f"{s.now:%Y-%m}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, at, host(ip), ip_country FROM players_playerlogin "
            "WHERE player_id = %s AND at > %s AND at <= %s AND ip_country <> '' ORDER BY at DESC LIMIT 500",
            [s.player_id, span.start, span.end],
        )
        logins = cursor.fetchall()
    hits: list[Hit] = []
    base: dict[str, Any] = {**span.evidence(p["window"], s.zone), "residence": s.country}
    if s.country in high_risk:
        shown_risk = {**base, "reasons": ["residence_high_risk"], "high_risk_countries": sorted(high_risk)}
        hits.append(Hit(f"residence:{s.country}@{month}", shown_risk))
    by_country: dict[str, list[tuple[Any, ...]]] = {}
    for row in logins:
        by_country.setdefault(row[3], []).append(row)
    for country, rows in sorted(by_country.items()):
        reasons = []
        if p["residence_mismatch"] and country != s.country:
            reasons.append("ip_country_differs")
        if country in high_risk:
            reasons.append("ip_country_high_risk")
        if reasons:
            shown = [{"login": r[0], "at": iso(r[1]), "ip": r[2] or "", "ip_country": r[3]} for r in rows]
            evidence = {**base, "ip_country": country, "reasons": reasons, "login_count": len(rows)}
            evidence["logins"] = shown[:EVIDENCE_LIST_MAX]
            if "ip_country_high_risk" in reasons:
                evidence["high_risk_countries"] = sorted(high_risk)
            hits.append(Hit(f"ip:{country}@{month}", evidence))
    return hits


# (what, the player's own values in the window, the other players with a value)
_SHARED_SQL = {
    "device": (
        "SELECT DISTINCT device_id FROM players_playerlogin "
        "WHERE player_id = %s AND at > %s AND device_id <> '' LIMIT 50",
        "SELECT DISTINCT player_id FROM players_playerlogin WHERE device_id = %s AND player_id <> %s AND at > %s "
        "LIMIT %s",
    ),
    "ip": (
        "SELECT DISTINCT host(ip) FROM players_playerlogin "
        "WHERE player_id = %s AND at > %s AND ip IS NOT NULL LIMIT 50",
        "SELECT DISTINCT player_id FROM players_playerlogin WHERE ip = %s::inet AND player_id <> %s AND at > %s "
        "LIMIT %s",
    ),
    # a card is not reassigned as addresses and devices are: any other account that ever paid with it counts
    # (rg_wallet_txn_instrument_idx, partial on instrument_fingerprint <> '': the query repeats its predicate)
    "instrument": (
        "SELECT DISTINCT instrument_fingerprint FROM wallet_transaction "
        "WHERE player_id = %s AND type = 'deposit' AND created_at > %s AND instrument_fingerprint <> '' LIMIT 50",
        "SELECT DISTINCT player_id FROM wallet_transaction "
        "WHERE instrument_fingerprint = %s AND instrument_fingerprint <> '' AND player_id <> %s LIMIT %s",
    ),
}


def shared_identifier(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """A device id or IP address the player logged in with in the window, or an instrument they deposited
    with, that at least ``min_other_players`` other players used too (logins in the window; instruments ever)."""
    span = bounds(s, p["window"])
    needed: int = p["min_other_players"]
    hits: list[Hit] = []
    with connection.cursor() as cursor:
        for what in IDENTIFIERS:
            if what not in p["identifiers"]:
                continue
            own_sql, others_sql = _SHARED_SQL[what]
            cursor.execute(own_sql, [s.player_id, span.start])
            for (value,) in cursor.fetchall():
                since = [] if what == "instrument" else [span.start]
                cursor.execute(others_sql, [value, s.player_id, *since, EVIDENCE_LIST_MAX + 1])
                others = sorted(int(r[0]) for r in cursor.fetchall())
                if len(others) < needed:
                    continue
                shown = value if what == "ip" else value[:12]
                evidence = {
                    **span.evidence(p["window"], s.zone),
                    "identifier": what,
                    "value": shown,
                    "other_players": others[:EVIDENCE_LIST_MAX],
                    "other_player_count": len(others) if len(others) <= EVIDENCE_LIST_MAX else f"{EVIDENCE_LIST_MAX}+",
                    "min_other_players": needed,
                }
                hits.append(Hit(f"{what}:{digest(value)}", evidence))
    return hits


# The player's bonus-abuse flags in the window, newest first (bonuses_flag_player: player, -created_at). ``kinds``
# NULL: every kind counts.
_FLAGS_SQL = """
    SELECT id, kind, bonus_id, others, created_at FROM bonuses_bonusflag
    WHERE player_id = %s AND created_at > %s AND created_at <= %s AND (%s::text[] IS NULL OR kind = ANY(%s::text[]))
    ORDER BY created_at DESC, id DESC LIMIT 500
"""


def bonus_abuse(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """At least ``count`` of the bonus engine's abuse flags (of the kinds in ``flags``, or any) raised for the
    player in the window (apps/bonuses/flags.py: a device, IP, card or identity shared with another recipient of
    the same bonus, claim velocity, wagering cleared on one game, a withdrawal at once after wagering). Keyed on
    the newest flag counted: a sweep that finds nothing new collapses into the same alert, each new flag past
    the count is an alert of its own (as each suspicious withdrawal is for little play)."""
    span = bounds(s, p["window"])
    wanted: frozenset[str] = p["flags"] or frozenset()
    chosen = sorted(wanted) or None
    with connection.cursor() as cursor:
        cursor.execute(_FLAGS_SQL, [s.player_id, span.start, span.end, chosen, chosen])
        rows = cursor.fetchall()
    needed: int = p["count"]
    if len(rows) < needed:
        return []
    labels = dict(FlagKind.choices)
    shown = [
        {
            "id": row[0],
            "what": labels.get(row[1], row[1]),
            **({"bonus": row[2]} if row[2] is not None else {}),
            "at": iso(row[4]),
            **({"other_players": sorted(row[3])[:EVIDENCE_LIST_MAX]} if row[3] else {}),
        }
        for row in rows[:EVIDENCE_LIST_MAX]
    ]
    others = sorted({int(other) for row in rows for other in (row[3] or [])})
    evidence: dict[str, Any] = {
        **span.evidence(p["window"], s.zone),
        "flag_count": len(rows),
        "count_threshold": needed,
        "flag_kinds": [labels.get(k, k) for k in sorted(wanted)] or "all kinds",
        "flags": shown,
    }
    if others:
        evidence["other_players"] = others[:EVIDENCE_LIST_MAX]
    return [Hit(f"bonus_flag:{rows[0][0]}", evidence)]
