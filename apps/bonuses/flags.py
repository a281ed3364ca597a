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
from django.db import IntegrityError, transaction
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


def _recipients(bonus: PlayerBonus) -> list[int]:
    return list(
        PlayerBonus.objects.filter(template_id=bonus.template_id, activated_at__isnull=False)
        .exclude(player_id=bonus.player_id)
        .values_list("player_id", flat=True)
        .distinct()
    )


def on_award(bonus: PlayerBonus, now: datetime) -> list[BonusFlag]:
    """Shared device, IP, instrument or identity with another recipient of the template; claim velocity."""
    from apps.players.models import Player, PlayerLogin
    from apps.wallet.models import LedgerTransaction

    raised: list[BonusFlag | None] = []
    others = _recipients(bonus)
    since = now - timedelta(days=LOOKBACK_DAYS)
    if others:
        mine = PlayerLogin.objects.filter(player_id=bonus.player_id, at__gte=since)
        devices = set(mine.exclude(device_id="").values_list("device_id", flat=True))
        ips = set(mine.exclude(ip=None).values_list("ip", flat=True))
        theirs = PlayerLogin.objects.filter(player_id__in=others, at__gte=since)
        for kind, field, values in ((FlagKind.SHARED_DEVICE, "device_id", devices), (FlagKind.SHARED_IP, "ip", ips)):
            if values:
                shared = list(theirs.filter(**{f"{field}__in": values}).values_list("player_id", field).distinct()[:50])
                if shared:
                    raised.append(
                        raise_flag(
                            bonus,
                            bonus.player_id,
                            kind,
                            others=[p for p, _v in shared],
                            evidence={field: sorted({str(v) for _p, v in shared})[:10]},
                        )
                    )
        cards = set(
            LedgerTransaction.objects.filter(player_id=bonus.player_id, type="deposit", created_at__gte=since)
            .exclude(instrument_fingerprint="")
            .values_list("instrument_fingerprint", flat=True)
        )
        if cards:
            shared = list(
                LedgerTransaction.objects.filter(
                    player_id__in=others, type="deposit", instrument_fingerprint__in=cards, created_at__gte=since
                )
                .values_list("player_id", "instrument_fingerprint")
                .distinct()[:50]
            )
            if shared:
                raised.append(
                    raise_flag(
                        bonus,
                        bonus.player_id,
                        FlagKind.SHARED_INSTRUMENT,
                        others=[p for p, _c in shared],
                        evidence={"instruments": sorted({c for _p, c in shared})[:10]},
                    )
                )
        person = Player.objects.filter(pk=bonus.player_id).values_list("identity_fingerprint", flat=True).first()
        if person:
            same = list(
                Player.objects.filter(pk__in=others, identity_fingerprint=person).values_list("pk", flat=True)[:50]
            )
            if same:
                raised.append(
                    raise_flag(
                        bonus,
                        bonus.player_id,
                        FlagKind.SHARED_IDENTITY,
                        others=same,
                        evidence={"accounts": len(same) + 1},
                    )
                )
    hours = int(_setting("BONUS_FLAG_CLAIMS_HOURS", 24))
    limit = int(_setting("BONUS_FLAG_CLAIMS", 3))
    recent = PlayerBonus.objects.filter(
        player_id=bonus.player_id, activated_at__gte=now - timedelta(hours=hours)
    ).count()
    if recent >= limit:
        raised.append(
            raise_flag(
                bonus,
                bonus.player_id,
                FlagKind.CLAIM_VELOCITY,
                others=[],
                evidence={"bonuses": recent, "hours": hours, "threshold": limit},
            )
        )
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
