"""What every player-protection service shares: the rule pack, the offered terms, the person's exclusions,
the outbox event, the staff reason."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from apps.core.errors import ReasonRequired
from apps.core.outbox import outbox_emit
from apps.geo import config as geo_config
from apps.geo.config import Rules
from apps.players.models import Player
from apps.players.validation import clean_staff_text
from apps.responsible.coverage import person_q
from apps.responsible.models import Exclusion

DEFAULT_TIMEOUT_HOURS = (24, 24 * 42)
DEFAULT_TERMS = ("6m", "1y", "5y", "permanent")


def rules_for(player: Player, at: datetime | None = None) -> Rules | None:
    snap = geo_config.snapshot()
    code = snap.jurisdiction_code(player.country, player.region)
    return snap.rules_for(code, at or timezone.now()) if code else None


def _in_force(player: Player, now: datetime, kinds: tuple[str, ...]) -> list[Exclusion]:
    """The person's exclusions of these kinds in force now (this account or any with the same identity)."""
    rows = Exclusion.objects.filter(kind__in=kinds, superseded_by=None, starts_at__lte=now).filter(
        models_q_person(player)
    )
    return [e for e in rows if e.released_at is None or e.released_at > now]


def models_q_person(player: Player):  # type: ignore[no-untyped-def]
    """The person's exclusions, as the eligibility check finds them (coverage.py)."""
    return person_q(player)


def _emit(player: Player, type: str, **data: object) -> None:
    outbox_emit(type, key=player.external_id, data={"player": player.external_id, **data})


def offered_terms(rules: Rules | None) -> tuple[str, ...]:
    """The self-exclusion terms a jurisdiction offers (a common set where its rule pack names none)."""
    return rules.self_exclusion_terms if rules and rules.self_exclusion_terms else DEFAULT_TERMS


def timeout_range(rules: Rules | None) -> tuple[int, int]:
    """The shortest and longest time-out a jurisdiction allows, in hours."""
    low = (rules.timeout_min_hours if rules else None) or DEFAULT_TIMEOUT_HOURS[0]
    high = (rules.timeout_max_hours if rules else None) or DEFAULT_TIMEOUT_HOURS[1]
    return low, high


def _reason(reason: str) -> str:
    reason = clean_staff_text("reason", reason or "", multiline=True).strip()
    if not reason:
        raise ReasonRequired("A reason is required.", fields={"reason": ["Required."]})
    return reason


def _until(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
