"""Bonus-abuse flags (docs/BONUSES.md): what the engine sees, recorded as ``BonusFlag`` rows in the transaction that
saw it, and handed to the hooks other apps register (compliance opens or joins the player's fraud case).

- at an award: the recipient shares a device id or an IP (logins of the last 90 days), a payment instrument
  (deposits), or an identity key (the same person) with another recipient of the same template;
  and claim velocity: ``BONUS_FLAG_CLAIMS`` bonuses or more activated within ``BONUS_FLAG_CLAIMS_HOURS``;
- at a completion: the wagering was cleared on one game (``BONUS_FLAG_ONE_GAME_SHARE`` of the stakes or more)
  that paid back more than it took (wins / stakes of at least ``BONUS_FLAG_ONE_GAME_RETURN``);
- at a withdrawal request: a bonus of the player completed within ``BONUS_FLAG_QUICK_WITHDRAWAL_MINUTES``.

Each kind at most once per bonus. The hooks run in the flag's transaction: a flag and the case it opens commit
together or not at all (never a flag that no case saw)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.audit.services import audit_log
from apps.bonuses.choices import BonusState, FlagKind
from apps.bonuses.models import BonusFlag, PlayerBonus

FlagHook = Callable[[BonusFlag], None]
_hooks: list[FlagHook] = []
LOOKBACK_DAYS = 90


def register_flag_hook(hook: FlagHook) -> None:
    """Called with each new flag, in its transaction (from another app's AppConfig.ready)."""
    if hook not in _hooks:
        _hooks.append(hook)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def raise_flag(
    bonus: PlayerBonus | None, player_id: int, kind: str, *, others: list[int], evidence: dict[str, Any]
) -> BonusFlag | None:
    try:
        with transaction.atomic():
            flag = BonusFlag.objects.create(
                player_id=player_id, bonus=bonus, kind=kind, others=sorted(set(others))[:50], evidence=evidence
            )
    except IntegrityError:  # this kind was already raised for this bonus
        return None
    audit_log(
        actor=None,
        action="bonuses.flag_raised",
        target=flag,
        data={"player": player_id, "bonus": bonus.pk if bonus else None, "kind": kind, "others": flag.others},
    )
    for hook in _hooks:
        hook(flag)
    return flag


# The other recipients of the template are an EXISTS on bonuses_playerbonus that PostgreSQL joins, never a list of
# ids in Python (a template with 100,000 recipients made every award send them all, five
# times: each award cost more than the one before).
_SHARED_LOGINS_SQL = """
    SELECT m.player_id, 'device_id', o.player_id, m.device_id FROM players_playerlogin m
    JOIN players_playerlogin o ON o.device_id = m.device_id AND o.player_id <> m.player_id AND o.at >= %(since)s
    WHERE m.player_id = ANY(%(players)s) AND m.at >= %(since)s AND m.device_id <> ''
      AND EXISTS (
        SELECT 1 FROM bonuses_playerbonus r
        WHERE r.template_id = %(template)s AND r.player_id = o.player_id AND r.activated_at IS NOT NULL
      )
    UNION
    SELECT m.player_id, 'ip', o.player_id, host(m.ip) FROM players_playerlogin m
    JOIN players_playerlogin o ON o.ip = m.ip AND o.player_id <> m.player_id AND o.at >= %(since)s
    WHERE m.player_id = ANY(%(players)s) AND m.at >= %(since)s AND m.ip IS NOT NULL
      AND EXISTS (
        SELECT 1 FROM bonuses_playerbonus r
        WHERE r.template_id = %(template)s AND r.player_id = o.player_id AND r.activated_at IS NOT NULL
      )
"""
_SHARED_INSTRUMENTS_SQL = """
    SELECT DISTINCT m.player_id, o.player_id, m.instrument_fingerprint FROM wallet_transaction m
    JOIN wallet_transaction o ON o.instrument_fingerprint = m.instrument_fingerprint AND o.type = 'deposit'
      AND o.created_at >= %(since)s AND o.player_id <> m.player_id
    WHERE m.player_id = ANY(%(players)s) AND m.type = 'deposit' AND m.created_at >= %(since)s
      AND m.instrument_fingerprint <> ''
      AND EXISTS (
        SELECT 1 FROM bonuses_playerbonus r
        WHERE r.template_id = %(template)s AND r.player_id = o.player_id AND r.activated_at IS NOT NULL
      )
"""
_SHARED_IDENTITY_SQL = """
    SELECT m.id, o.id FROM players_player m
    JOIN players_player o ON o.identity_fingerprint = m.identity_fingerprint AND o.id <> m.id
    WHERE m.id = ANY(%(players)s) AND m.identity_fingerprint <> ''
      AND EXISTS (
        SELECT 1 FROM bonuses_playerbonus r
        WHERE r.template_id = %(template)s AND r.player_id = o.id AND r.activated_at IS NOT NULL
      )
"""
_VELOCITY_SQL = """
    SELECT player_id, count(*) FROM bonuses_playerbonus
    WHERE player_id = ANY(%(players)s) AND activated_at >= %(after)s GROUP BY player_id HAVING count(*) >= %(limit)s
"""


def on_award(bonus: PlayerBonus, now: datetime) -> list[BonusFlag]:
    """Shared device, IP, instrument or identity with another recipient of the template; claim velocity."""
    return on_awards([bonus], now)


def on_awards(bonuses: list[PlayerBonus], now: datetime) -> list[BonusFlag]:
    """``on_award`` for bonuses of one template given together (a campaign's chunk), one query per kind for all
    of them. Each one's "other recipients" include the others given with it: two players of one chunk who share
    a device are both flagged (one at a time, only the second would be)."""
    if not bonuses:
        return []
    by_player = {b.player_id: b for b in bonuses}
    template_id = bonuses[0].template_id
    if len(by_player) != len(bonuses) or any(b.template_id != template_id for b in bonuses):
        raise ValueError("on_awards: one bonus per player, all of one template")
    since = now - timedelta(days=LOOKBACK_DAYS)
    hours = int(_setting("BONUS_FLAG_CLAIMS_HOURS", 24))
    limit = int(_setting("BONUS_FLAG_CLAIMS", 3))
    params: dict[str, Any] = {
        "players": sorted(by_player),
        "template": template_id,
        "since": since,
        "after": now - timedelta(hours=hours),
        "limit": limit,
    }
    hits: dict[tuple[int, str], list[tuple[int, str]]] = {}  # (player, kind) -> [(other player, value)]
    with connection.cursor() as cursor:
        cursor.execute(_SHARED_LOGINS_SQL, params)
        for player, field, other, value in cursor.fetchall():
            kind = FlagKind.SHARED_DEVICE if field == "device_id" else FlagKind.SHARED_IP
            hits.setdefault((player, kind), []).append((other, str(value)))
        cursor.execute(_SHARED_INSTRUMENTS_SQL, params)
        for player, other, card in cursor.fetchall():
            hits.setdefault((player, FlagKind.SHARED_INSTRUMENT), []).append((other, card))
        cursor.execute(_SHARED_IDENTITY_SQL, params)
        for player, other in cursor.fetchall():
            hits.setdefault((player, FlagKind.SHARED_IDENTITY), []).append((other, ""))
        cursor.execute(_VELOCITY_SQL, params)
        velocity = dict(cursor.fetchall())
    raised: list[BonusFlag | None] = []
    order = (FlagKind.SHARED_DEVICE, FlagKind.SHARED_IP, FlagKind.SHARED_INSTRUMENT, FlagKind.SHARED_IDENTITY)
    for player, bonus in sorted(by_player.items()):
        for kind in order:
            shared = sorted(set(hits.get((player, kind), [])))[:50]
            if not shared:
                continue
            others = [p for p, _v in shared]
            if kind == FlagKind.SHARED_IDENTITY:
                evidence: dict[str, Any] = {"accounts": len(set(others)) + 1}
            else:
                name = {FlagKind.SHARED_DEVICE: "device_id", FlagKind.SHARED_IP: "ip"}.get(kind, "instruments")
                evidence = {name: sorted({v for _p, v in shared})[:10]}
            raised.append(raise_flag(bonus, player, kind, others=others, evidence=evidence))
        if player in velocity:
            evidence = {"bonuses": velocity[player], "hours": hours, "threshold": limit}
            raised.append(raise_flag(bonus, player, FlagKind.CLAIM_VELOCITY, others=[], evidence=evidence))
    return [f for f in raised if f is not None]


def on_complete(bonus: PlayerBonus) -> BonusFlag | None:
    """The wagering cleared on one game that paid back more than it took."""
    from apps.wallet.models import LedgerTransaction

    if bonus.activated_at is None:
        return None
    rows = (
        LedgerTransaction.objects.filter(
            player_id=bonus.player_id,
            currency=bonus.currency,
            created_at__gte=bonus.activated_at,
            type__in=["bet", "win"],
        )
        .exclude(game_id="")
        .values("game_id", "type")
        .annotate(total=Sum("amount"))
    )
    stakes: dict[str, Decimal] = {}
    wins: dict[str, Decimal] = {}
    for row in rows:
        (stakes if row["type"] == "bet" else wins)[row["game_id"]] = row["total"]
    total = sum(stakes.values(), Decimal("0"))
    if total <= 0:
        return None
    game, staked = max(stakes.items(), key=lambda kv: kv[1])
    share = staked / total
    back = wins.get(game, Decimal("0")) / staked if staked else Decimal("0")
    if share >= Decimal(str(_setting("BONUS_FLAG_ONE_GAME_SHARE", "0.9"))) and back >= Decimal(
        str(_setting("BONUS_FLAG_ONE_GAME_RETURN", "1.2"))
    ):
        return raise_flag(
            bonus,
            bonus.player_id,
            FlagKind.ONE_GAME,
            others=[],
            evidence={
                "game": game,
                "share": str(share.quantize(Decimal("0.01"))),
                "return": str(back.quantize(Decimal("0.01"))),
            },
        )
    return None


def on_withdrawal(player_id: int, currency: str, now: datetime | None = None) -> BonusFlag | None:
    """A withdrawal request soon after a bonus's wagering cleared."""
    now = now or timezone.now()
    minutes = int(_setting("BONUS_FLAG_QUICK_WITHDRAWAL_MINUTES", 60))
    bonus = (
        PlayerBonus.objects.filter(
            player_id=player_id,
            currency=currency,
            state=BonusState.COMPLETED,
            ended_at__gte=now - timedelta(minutes=minutes),
        )
        .order_by("-ended_at")
        .first()
    )
    if bonus is None or bonus.ended_at is None:
        return None
    after = int((now - bonus.ended_at).total_seconds() // 60)
    return raise_flag(
        bonus,
        player_id,
        FlagKind.QUICK_WITHDRAWAL,
        others=[],
        evidence={"minutes_after_completion": after, "converted": str(bonus.converted_amount)},
    )
