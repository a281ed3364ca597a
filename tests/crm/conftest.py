from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from apps.wallet.models import PlayerDay


def rollup(player: Any, day: date, *, currency: str = "GBP", **amounts: str) -> PlayerDay:
    """A day rollup as the posting statement would have written it (the criteria read only these rows)."""
    return PlayerDay.objects.create(
        player=player, currency=currency, day=day, **{k: Decimal(v) for k, v in amounts.items()}
    )
