"""How an exclusion follows the person: what it covers, recorded when it is placed, and the key matches.

An exclusion covers:

1. the excluded account (``Exclusion.player``) and every account with its identity fingerprint (``Exclusion.
   identity_fingerprint``, as before);
2. the accounts recorded when it was placed (``ExclusionCover`` rows of kind ``account``): the person's other
   accounts found by fingerprint, e-mail hash or phone hash, and the accounts that had paid with one of their
   payment instruments. The rows are append-only, so a later edit of a name, birth date, e-mail or phone never
   takes an account out;
3. accounts that match a recorded key (fingerprint, e-mail or phone hash of the person's accounts at the time),
   including accounts registered later: they are covered from their first eligibility check;
4. deposits, by any account, with a recorded payment instrument (``instrument_denial``, called by the wallet's
   deposit posting when the platform names the instrument).

All of it is read by the eligibility fact (``checks.EXCLUSIONS_FACT``, one correlated subquery using
``PERSON_MATCH``): each branch is an index lookup, combined by a BitmapOr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from apps.players.models import Player
from apps.players.selectors import players_same_person
from apps.responsible.choices import CoverKind, CoverLink, ExclusionKind
from apps.responsible.models import Exclusion, ExclusionCover

# The exclusions (alias ``e``) that cover the player (alias ``p``). NULLIF: an account without a phone has an empty
# hash, which must match nothing (account rows have an empty key).
PERSON_MATCH = """(
    e.player_id = p.id
    OR (e.identity_fingerprint = p.identity_fingerprint AND p.identity_fingerprint <> '')
    OR e.id = ANY(ARRAY(
        SELECT c.exclusion_id FROM responsible_exclusioncover c
        WHERE c.player_id = p.id
           OR (c.key <> '' AND c.key IN (NULLIF(p.identity_fingerprint, ''), p.email_hash, NULLIF(p.phone_hash, ''))
               AND c.kind IN ('fingerprint', 'email', 'phone'))
    ))
)"""
REASONS: dict[str, str] = {
    ExclusionKind.TIME_OUT: "timed_out",
    ExclusionKind.SELF_EXCLUSION: "self_excluded",
    ExclusionKind.OPERATOR: "operator_excluded",
}
_KEY_KINDS = (
    (CoverKind.FINGERPRINT, "identity_fingerprint"),
    (CoverKind.EMAIL, "email_hash"),
    (CoverKind.PHONE, "phone_hash"),
)


def _link(excluded: Player, other: Player) -> str:
    if other.identity_fingerprint and other.identity_fingerprint == excluded.identity_fingerprint:
        return CoverLink.FINGERPRINT
    return CoverLink.EMAIL if other.email_hash == excluded.email_hash else CoverLink.PHONE


def _instruments_of(player_ids: list[int]) -> list[str]:
    """The payment instruments these accounts have paid with (their transactions, by the ledger's player index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT instrument_fingerprint FROM wallet_transaction "
            "WHERE player_id = ANY(%s) AND instrument_fingerprint <> ''",
            [player_ids],
        )
        return [row[0] for row in cursor.fetchall()]


def _players_using(instruments: list[str]) -> list[int]:
    """Every account that has paid with one of these instruments (index rg_wallet_txn_instrument_idx)."""
    if not instruments:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT player_id FROM wallet_transaction "
            "WHERE instrument_fingerprint = ANY(%s) AND instrument_fingerprint <> ''",
            [instruments],
        )
        return [row[0] for row in cursor.fetchall()]


def coverage_record(exclusion: Exclusion, player: Player) -> list[ExclusionCover]:
    """Record what ``exclusion`` (just placed on ``player``) covers, in the transaction that placed it.

    Accounts: the player's, the person's other accounts (same fingerprint, e-mail or phone), and the accounts
    that paid with one of their instruments. Keys: the fingerprint, e-mail and phone hashes of the person's
    accounts (so accounts registered later are covered) and their instruments (refused for deposits).
    One level only: the keys of an account linked by a card alone are not recorded.
    """
    accounts: dict[int, str] = {player.pk: CoverLink.EXCLUDED}
    person = [player]
    for other in players_same_person(player).only("id", "identity_fingerprint", "email_hash", "phone_hash"):
        accounts.setdefault(other.pk, _link(player, other))
        person.append(other)
    keys = {(kind, getattr(account, name)) for account in person for kind, name in _KEY_KINDS if getattr(account, name)}
    instruments = _instruments_of(sorted(accounts))
    for player_id in _players_using(instruments):
        accounts.setdefault(player_id, CoverLink.INSTRUMENT)
    keys |= {(CoverKind.INSTRUMENT, instrument) for instrument in instruments}
    at = exclusion.created_at
    rows = [
        ExclusionCover(exclusion=exclusion, kind=CoverKind.ACCOUNT, player_id=pk, link=link, created_at=at)
        for pk, link in sorted(accounts.items())
    ] + [ExclusionCover(exclusion=exclusion, kind=kind, key=key, created_at=at) for kind, key in sorted(keys)]
    return ExclusionCover.objects.bulk_create(rows, ignore_conflicts=True)


def coverage_copy(old: Exclusion, new: Exclusion) -> None:
    """A correction's replacement covers everything the corrected exclusion covered."""
    rows = [
        ExclusionCover(
            exclusion=new, kind=c.kind, player_id=c.player_id, key=c.key, link=c.link, created_at=c.created_at
        )
        for c in ExclusionCover.objects.filter(exclusion=old)
    ]
    ExclusionCover.objects.bulk_create(rows, ignore_conflicts=True)


def coverage_pin(player: Player, exclusion_ids: list[int]) -> list[int]:
    """Before a profile edit of a covered account is applied: record the account itself, so that whatever its
    name, birth date, e-mail or phone become, these exclusions keep covering it. Returns the exclusions that had
    not recorded it yet."""
    recorded = set(
        ExclusionCover.objects.filter(
            exclusion_id__in=exclusion_ids, kind=CoverKind.ACCOUNT, player=player
        ).values_list("exclusion_id", flat=True)
    )
    missing = [pk for pk in exclusion_ids if pk not in recorded]
    ExclusionCover.objects.bulk_create(
        [
            ExclusionCover(exclusion_id=pk, kind=CoverKind.ACCOUNT, player_id=player.pk, link=CoverLink.PROFILE_EDIT)
            for pk in missing
        ],
        ignore_conflicts=True,
    )
    return missing


_COVERING_SQL = f"""
    SELECT e.id, e.starts_at, e.released_at FROM players_player p JOIN responsible_exclusion e ON {PERSON_MATCH}
    WHERE p.id = %s AND e.superseded_by_id IS NULL
"""  # noqa: S608  (no user input)


def covering_in_force(player: Player, now: datetime | None = None) -> list[int]:
    """Ids of the exclusions in force now that cover the account (as stored: the edit being made is not saved)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_COVERING_SQL, [player.pk])
        rows = cursor.fetchall()
    return sorted(pk for pk, starts, released in rows if starts <= now and (released is None or released > now))


_INSTRUMENT_SQL = """
    SELECT e.kind, e.capabilities FROM responsible_exclusioncover c
    JOIN responsible_exclusion e ON e.id = c.exclusion_id
    WHERE c.key = %s AND c.key <> '' AND c.kind = 'instrument' AND e.superseded_by_id IS NULL
      AND e.starts_at <= %s AND (e.released_at IS NULL OR e.released_at > %s)
"""


def instrument_denial(instrument_fingerprint: str, now: datetime | None = None) -> str | None:
    """The reason to refuse a deposit with this payment instrument: it is one of an excluded person's (one
    indexed lookup; None when no exclusion in force records it)."""
    if not instrument_fingerprint:
        return None
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_INSTRUMENT_SQL, [instrument_fingerprint, now, now])
        rows = cursor.fetchall()
    reasons = []
    for kind, capabilities in rows:
        if kind == ExclusionKind.OPERATOR and capabilities:
            if "deposit" in capabilities:
                reasons.append("operator_blocked")
            continue
        reasons.append(REASONS[kind])
    order = ["self_excluded", "timed_out", "operator_excluded", "operator_blocked"]
    return min(reasons, key=order.index) if reasons else None


# --- the player page -------------------------------------------------------------------------------------------

HOW_ACCOUNT = "this account"
HOW_RECORDED = "recorded when excluded"
HOW_PINNED = "recorded at a profile edit"
_KEY_HOW = {
    CoverKind.FINGERPRINT: CoverLink.FINGERPRINT.label,
    CoverKind.EMAIL: CoverLink.EMAIL.label,
    CoverKind.PHONE: CoverLink.PHONE.label,
    CoverKind.INSTRUMENT: CoverLink.INSTRUMENT.label,
}


@dataclass
class Covering:
    exclusion: Exclusion
    in_force: bool
    how: list[str] = field(default_factory=list)


def _instruments_used(player: Player) -> list[str]:
    return _instruments_of([player.pk])


def _covers_q(player: Player) -> Q:
    keys = [k for k in (player.identity_fingerprint, player.email_hash, player.phone_hash) if k]
    return Q(kind=CoverKind.ACCOUNT, player=player) | Q(
        kind__in=(CoverKind.FINGERPRINT, CoverKind.EMAIL, CoverKind.PHONE), key__in=keys
    )


def person_q(player: Player) -> Q:
    """The exclusions that cover the account (``PERSON_MATCH`` for the ORM): its own, its fingerprint's, and those
    that recorded the account or one of its keys."""
    match = Q(player=player) | Q(pk__in=ExclusionCover.objects.filter(_covers_q(player)).values("exclusion_id"))
    if player.identity_fingerprint:
        match |= Q(identity_fingerprint=player.identity_fingerprint)
    return match


def exclusions_covering(player: Player, *, limit: int = 20) -> list[Covering]:
    """The exclusions that cover this account through any link, newest first, each saying how (for staff).
    Besides ``person_q``: exclusions that recorded a payment instrument this account has paid with."""
    instruments = _instruments_used(player)
    cover_match = _covers_q(player)
    if instruments:
        cover_match |= Q(kind=CoverKind.INSTRUMENT, key__in=instruments)
    covers = list(ExclusionCover.objects.filter(cover_match))
    match = person_q(player) | Q(pk__in={c.exclusion_id for c in covers})
    now = timezone.now()
    found = []
    for exclusion in Exclusion.objects.filter(match).order_by("-id")[:limit]:
        how: list[str] = []
        if exclusion.player_id == player.pk:
            how.append(HOW_ACCOUNT)
        if player.identity_fingerprint and exclusion.identity_fingerprint == player.identity_fingerprint:
            how.append(CoverLink.FINGERPRINT.label)
        for cover in covers:
            if cover.exclusion_id != exclusion.pk:
                continue
            if cover.kind == CoverKind.ACCOUNT:
                if cover.link == CoverLink.PROFILE_EDIT:
                    how.append(HOW_PINNED)
                elif cover.link != CoverLink.EXCLUDED:
                    how.append(f"{HOW_RECORDED} ({CoverLink(cover.link).label})")
            else:
                how.append(_KEY_HOW[CoverKind(cover.kind)])
        found.append(Covering(exclusion=exclusion, in_force=exclusion.in_force(now), how=list(dict.fromkeys(how))))
    return found


def coverage_summary(exclusion: Exclusion, *, limit: int = 100) -> dict[str, Any]:
    """What an exclusion covers, for its admin page: the first ``limit`` accounts (and how) and how many keys of
    each kind."""
    covers = ExclusionCover.objects.filter(exclusion=exclusion)
    rows = covers.filter(kind=CoverKind.ACCOUNT).select_related("player").order_by("id")[:limit]
    accounts = [(c.player, CoverLink(c.link).label if c.link else "") for c in rows]
    keys = covers.exclude(kind=CoverKind.ACCOUNT).values_list("kind").annotate(n=Count("id")).order_by("kind")
    return {"accounts": accounts, "keys": [(CoverKind(kind).label, n) for kind, n in keys]}
