"""What an active bonus costs a bet: the posting rate of players with an active bonus as a ratio to the rate of
players without one, in the same run (goal >= 0.85).

Both halves run with the bonus engine as it ships (its statement observer, the maximum-bet fact of ``can()``);
the funded bench players are split in two, one half given an active GBP bonus (rows written directly: a
requirement too large to be met during the run, a maximum bet above the stake), the other left without. Rounds
alternate (``BENCH_BONUS_ROUNDS``, default 3, of ``BENCH_EVENTS_ROUND_SECONDS``, default 8): two threads post
GBP 0.10 table-game bets through ``wallet_bet`` (the API's own call; bench/posting_events.py's rounds) for random
players of one half (a table game counts 10 % toward wagering: the UPDATE runs all the same). Printed: bets/s per
round, the median ratio, and the wagering the bonus rows accumulated (the observer really ran)."""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.players.models import Player
from bench.players import ensure_players
from bench.posting_events import _round  # two threads of wallet_bet for random players, one round
from bench.wallet import _funded_players

ROUNDS = int(os.environ.get("BENCH_BONUS_ROUNDS", "3"))


def _give_bonuses(players: list[Player]) -> None:
    from apps.bonuses.choices import BonusState, Source, TemplateState
    from apps.bonuses.models import BonusTemplate, PlayerBonus

    template, _ = BonusTemplate.objects.get_or_create(
        code="bench-wagering",
        defaults={
            "name": "Bench wagering",
            "type": "cash",
            "products": ["casino"],
            "currency": "GBP",
            "amount": Decimal("10.00"),
            "wagering_multiplier": Decimal("10"),
            "max_bet": Decimal("5.00"),
            "jurisdictions": ["GB"],
            "state": TemplateState.PUBLISHED,
        },
    )
    have = set(
        PlayerBonus.objects.filter(player__in=players, state=BonusState.ACTIVE).values_list("player_id", flat=True)
    )
    now = timezone.now()
    PlayerBonus.objects.bulk_create(
        PlayerBonus(
            player=p,
            template=template,
            state=BonusState.ACTIVE,
            source=Source.MANUAL,
            currency="GBP",
            amount=Decimal("10.00"),
            wagering_required=Decimal("100000000"),
            contributions=dict(template.contributions),
            max_bet=Decimal("5.00"),
            activated_at=now,
            wager_by=now + timedelta(days=365),
        )
        for p in players
        if p.pk not in have
    )


def run() -> None:
    from apps.bonuses.models import PlayerBonus

    ensure_players()
    players = _funded_players()
    with_bonus, without = players[: len(players) // 2], players[len(players) // 2 :]
    PlayerBonus.objects.filter(player__in=without, state="active").update(state="cancelled", ended_at=timezone.now())
    _give_bonuses(with_bonus)
    before = sum(PlayerBonus.objects.filter(player__in=with_bonus, state="active").values_list("wagered", flat=True))
    run_id = f"bw{int(time.time())}"
    _round(without, run_id + "-warm")
    base, bonus = [], []
    for r in range(ROUNDS):
        base.append(_round(without, f"{run_id}-n{r}"))
        bonus.append(_round(with_bonus, f"{run_id}-b{r}"))
    after = sum(PlayerBonus.objects.filter(player__in=with_bonus, state="active").values_list("wagered", flat=True))
    ratios = [b / n for b, n in zip(bonus, base, strict=True)]
    print("bonus_wagering: bets/s without a bonus:", ", ".join(f"{x:.0f}" for x in base))
    print("bonus_wagering: bets/s with an active bonus:", ", ".join(f"{x:.0f}" for x in bonus))
    print(
        f"bonus_wagering: ratio with/without (median of {ROUNDS}): {statistics.median(ratios):.2f} "
        f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}; goal >= 0.85); wagering recorded: {after - before}"
    )
