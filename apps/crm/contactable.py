"""Who of a batch of players may be contacted on a channel now: consent for the channel, and
``can(player, "marketing")`` allowed (status, marketing block, exclusions and time-outs of the person, fully used
limits, age, jurisdiction, and the national register where the rule pack asks it before marketing).

The eligibility facts are read for a whole batch in ONE query (the same fact expressions ``can()`` reads for one
player, with ``p.id = ANY(%s)``), and ``evaluate()`` runs on each row in Python: no query per player, except
what a check itself asks (a limit's usage from the rollups, one indexed query for a player who has a money
limit; a national register, asked over HTTP through its 60 s cache, for players of a jurisdiction whose rule
pack checks the register before marketing). SQL first narrows the batch to those with the channel's consent,
an active account and no marketing block, which ``can()`` would refuse anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from apps.players import eligibility
from apps.players.choices import Action

CONTACT_COLUMNS = {
    "email": ("email",),
    "sms": ("phone",),
    "phone": ("phone",),
    "post": ("address_line", "city", "postal_code"),
}
ROW_COLUMNS = ("id", "external_id", "first_name", "country", "language")


def facts_many(player_ids: Sequence[int]) -> list[dict[str, Any]]:
    return list(eligibility.facts_many(player_ids).values())


def contactable_rows(player_ids: Sequence[int], channel: str, *, now: datetime) -> list[dict[str, Any]]:
    """The export rows (``ROW_COLUMNS`` and the channel's contact columns) of those of ``player_ids`` who may be
    contacted on ``channel`` at ``now``, in id order."""
    contact = CONTACT_COLUMNS[channel]
    columns = (*ROW_COLUMNS, *contact)
    # column names come from the fixed tables above, never from input
    sql = (
        f"SELECT {', '.join(f'p.{c}' for c in columns)} FROM players_player p "  # noqa: S608
        f"WHERE p.id = ANY(%s) AND p.marketing_{channel} AND p.status = 'active' AND NOT p.blocked_marketing "
        f"AND p.{contact[0]} <> '' ORDER BY p.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(player_ids)])
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if not rows:
        return []
    allowed = {
        facts["id"]
        for facts in facts_many([row["id"] for row in rows])
        if eligibility.evaluate(facts, Action.MARKETING, now=now).allowed
    }
    return [row for row in rows if row["id"] in allowed]
