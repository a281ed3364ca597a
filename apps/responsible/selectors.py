"""The reads of player protection: the limits with their usage (the API and the player page), and the player
page's responsible-gambling section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Exists, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.core.read_scope import scoped
from apps.core.templatetags.money import format_money
from apps.players.models import Player
from apps.responsible import services
from apps.responsible.choices import ChangeStatus, LimitKind, LimitPeriod, LimitSource
from apps.responsible.coverage import Covering, exclusions_covering
from apps.responsible.limits import limits_from_facts, money_usage
from apps.responsible.models import (
    Exclusion,
    Flag,
    IdentityChangeRequest,
    Interaction,
    LimitChange,
    RegisterCheck,
)


def limits_with_usage(player: Player, *, facts: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every limit that applies to the player (own, operator, jurisdiction) with used / remaining / percent.
    ``facts``: the player's eligibility facts when the caller has just read them (the player page), else read."""
    from apps.geo import config as geo_config
    from apps.players.eligibility import facts_for

    if facts is None:
        facts = facts_for(player_id=player.pk) or {}
    now = timezone.now()
    if "geo_version" in facts:  # the configuration the facts were read with: no second read of its version
        snap = geo_config.snapshot(facts["geo_version"])
        code = snap.jurisdiction_code(player.country, player.region)
        rules = snap.rules_for(code, now) if code else None
    else:
        rules = services.rules_for(player, now)
    limits = limits_from_facts(facts, rules, geo_config.age_on(player.date_of_birth, geo_config.local_date(now, rules)))
    zone = rules.time_zone if rules is not None else "UTC"
    rows = [u.as_dict() for u in money_usage(player.pk, limits, player.currency, now, zone)]
    rows += [
        {"kind": lim.kind, "period": lim.period, "source": lim.source, "limit": f"{lim.minutes} min"}
        for lim in limits
        if lim.minutes
    ]
    return rows


COVERING_LIMIT = 20  # exclusions_covering's default


def page_covering(player: Player) -> list[Covering]:
    """``exclusions_covering`` (newest ``COVERING_LIMIT``), read once in a page's read scope (the player page's
    panel and its safer-gambling section share it)."""
    return scoped(("exclusions_covering", player.pk), lambda: exclusions_covering(player, limit=COVERING_LIMIT))


SET_BY = {LimitSource.PLAYER: "set by the player", LimitSource.OPERATOR: "set by the operator"}


def limit_words(row: dict[str, Any]) -> str:
    """``Loss limit: GBP 500.00 per week, set by the operator`` for a row of ``limits_with_usage``."""
    kind = "Session time" if row["kind"] == LimitKind.SESSION else LimitKind(row["kind"]).label
    net = " (net)" if row.get("net") else ""
    value = row["limit"] if row.get("currency") is None else format_money(row["limit"], row["currency"])
    period = LimitPeriod(row["period"]).label.lower() if row["period"] in LimitPeriod.values else row["period"]
    source = SET_BY.get(row["source"], "required by the jurisdiction")
    return f"{kind} limit{net}: {value} {period}, {source}"


def _section_lists(player: Player) -> dict[str, list[Any]]:
    """The section's five short lists. Most players have none of most of them (no flag, no interaction, no
    register check, nothing pending): one query asks which hold anything, then only those are read (an empty
    list costs no query of its own; a player with all five costs one query more than before)."""
    lists: dict[str, tuple[QuerySet[Any], Callable[[QuerySet[Any]], QuerySet[Any]]]] = {
        "pending": (LimitChange.objects.filter(player=player, status=ChangeStatus.PENDING), lambda qs: qs),
        "identity_changes": (
            IdentityChangeRequest.objects.filter(player=player, approved=None),
            lambda qs: qs.select_related("requested_by"),
        ),
        "flags": (Flag.objects.filter(player=player), lambda qs: qs.order_by("-id")[:10]),
        "interactions": (
            Interaction.objects.filter(player=player),
            lambda qs: qs.select_related("staff").order_by("-id")[:10],
        ),
        "register_checks": (RegisterCheck.objects.filter(player=player), lambda qs: qs.order_by("-id")[:10]),
    }
    exists = {f"has_{name}": Exists(qs) for name, (qs, _) in lists.items()}
    row: dict[str, Any] = Player.objects.filter(pk=player.pk).values(**exists).get()  # type: ignore[assignment]
    held = {key: bool(value) for key, value in row.items()}
    return {name: list(finish(qs)) if held[f"has_{name}"] else [] for name, (qs, finish) in lists.items()}


def player_rg_section(request: HttpRequest, player: Player) -> dict[str, Any] | None:
    from apps.players.page import page_facts

    if not request.user.has_perm("responsible.view_exclusion"):
        return None
    covering = page_covering(player)  # every exclusion that covers the account through any link, and how
    if len(covering) < COVERING_LIMIT:  # complete: the player's own exclusions are all in it
        lifts_to_decide = sum(
            1
            for c in covering
            if c.exclusion.player_id == player.pk
            and c.exclusion.lift_requested_by_id is not None
            and c.exclusion.lift_approved_by_id is None
        )
    else:
        lifts_to_decide = Exclusion.objects.filter(
            player=player, lift_requested_by__isnull=False, lift_approved_by__isnull=True
        ).count()
    return {
        "limits": [
            {**row, "words": limit_words(row)} for row in limits_with_usage(player, facts=page_facts(request, player))
        ],
        **_section_lists(player),
        "exclusions": covering,
        "covered_in_force": any(c.in_force for c in covering),
        "can_exclude": request.user.has_perm("responsible.exclude_player"),
        "can_record": request.user.has_perm("responsible.add_interaction"),
        "can_limit": request.user.has_perm("responsible.set_operator_limit"),
        "lifts_to_decide": lifts_to_decide,
    }
