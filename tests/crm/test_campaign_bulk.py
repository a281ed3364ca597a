"""The batch path of campaigns (apps/bonuses/bulk.py): giving a template to a chunk of players in a fixed number
of statements must leave exactly what ``bonus_award`` / ``bonus_offer`` called once per player leave: the same
refusals by reason, bonus rows, ledger postings and balances, rollups, template counters, audit events, platform
events and abuse flags. Two identical groups of players (one per path) with the same profiles, compared."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.bonuses import bulk
from apps.bonuses.awards import bonus_award, bonus_offer
from apps.bonuses.choices import Source
from apps.bonuses.models import BonusFlag, BonusTemplate, PlayerBonus
from apps.core.errors import ApplicationError
from apps.core.models import OutboxEvent
from apps.players.models import PlayerLogin
from apps.players.restrictions import player_set_block
from apps.responsible.services.exclusions import self_exclude
from apps.staff import roles
from apps.wallet.models import LedgerTransaction, PlayerDay
from apps.wallet.posting import lock_accounts
from tests.bonuses.conftest import gb_match, gb_player, published
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal
PROFILES = (
    "ok",
    "ok_shares_device",
    "excluded",
    "blocked",
    "young",
    "malta",
    "euro",
    "has_bonus",
    "given_before",
)


@pytest.fixture
def crm():
    return StaffUserFactory(roles=[roles.CRM_MANAGER], first_name="Cara", last_name="Mgr")


def cash(crm: Any, **over: Any) -> BonusTemplate:
    # max bet GBP 4: within the adults' slot cap (GBP 5), above the 18-24s' (GBP 2): the young are refused
    over.setdefault("budget", "500.00")  # below the second person's threshold
    data = gb_match(type="cash", percent=None, min_deposit=None, amount="10.00", max_bet="4.00", **over)
    return published(crm, data)


def group(crm: Any, template: BonusTemplate, tag: str) -> dict[str, Any]:
    """One player per profile; the earlier recipient of ``template`` who shares a device with one of them."""
    now = timezone.now()
    actor = SystemActor("tests")
    players = {name: gb_player() for name in ("ok", "ok_shares_device", "excluded", "blocked", "has_bonus")}
    players["young"] = gb_player(date_of_birth=date(now.year - 20, 1, 1))
    players["malta"] = PlayerFactory(country="MT", currency="GBP")
    players["euro"] = PlayerFactory(country="GB", currency="EUR")
    players["given_before"] = gb_player()
    self_exclude(actor=None, player=players["excluded"], term="6m")
    player_set_block(actor=actor, player=players["blocked"], capability="bonus", blocked=True, reason="abuse")
    other = cash(crm, code=f"other-{tag}")
    bonus_award(actor=actor, player=players["has_bonus"], template=other, source=Source.CODE, source_ref="x")
    paid_on = D("20.00") if template.type == "deposit_match" else None
    earlier = gb_player()
    bonus_award(
        actor=actor,
        player=earlier,
        template=template,
        source=Source.CODE,
        source_ref=f"early-{tag}",
        deposit_amount=paid_on,
    )
    for who in (earlier, players["ok_shares_device"]):
        PlayerLogin.objects.create(player=who, device_id=f"device-{tag}", ip="10.1.2.3", allowed=True)
    give = {
        "actor": actor,
        "template": template,
        "source": Source.CAMPAIGN,
        "source_ref": "campaign-1",
        "deposit_amount": paid_on,
    }
    bonus_award(player=players["given_before"], **give)  # the key's first use: answered, not given again
    return players


def one_by_one(template: BonusTemplate, players: dict[str, Any], mode: str) -> dict[str, str]:
    give = bonus_award if mode == "award" else bonus_offer
    outcome = {}
    for name in PROFILES:
        try:
            give(
                actor=SystemActor("crm.campaign.1"),
                player=players[name],
                template=template,
                source=Source.CAMPAIGN,
                source_ref="campaign-1",
                campaign_id=None,
            )
            outcome[name] = "given"
        except ApplicationError as exc:
            reasons = (exc.fields or {}).get("reasons") if isinstance(exc.fields, dict) else None
            outcome[name] = reasons[0] if reasons else exc.code
    return outcome


def batch(template: BonusTemplate, players: dict[str, Any], mode: str) -> dict[str, str]:
    given = bulk.give_many(
        actor=SystemActor("crm.campaign.1"),
        template=template,
        player_ids=[p.pk for p in players.values()],
        mode=mode,
        source=Source.CAMPAIGN,
        source_ref="campaign-1",
    )
    names = {p.pk: name for name, p in players.items()}
    outcome = {names[pid]: reason for pid, reason in given.refused.items()}
    outcome.update({names[pid]: "given" for pid in given.bonuses})
    return outcome


def what_is_left(template: BonusTemplate, players: dict[str, Any]) -> dict[str, Any]:
    """Everything the awards wrote, per profile, without ids and times."""
    bonus_fields = ("state", "amount", "wagering_required", "spins_left", "max_bet", "contributions", "source")
    left: dict[str, Any] = {}
    for name in PROFILES:
        player = players[name]
        bonus = PlayerBonus.objects.filter(player=player, template=template).first()
        ledger = list(
            LedgerTransaction.objects.filter(player=player, type="bonus_award", reference__startswith="bonus-")
            .order_by("id")
            .values_list("amount", "currency")
        )
        accounts = lock_accounts(player.pk, player.currency) if player.currency == "GBP" else None
        day = PlayerDay.objects.filter(player=player).values_list("bonus_awarded", flat=True).first()
        events = list(
            AuditEvent.objects.filter(target_type="bonuses.playerbonus", target_id=str(bonus.pk) if bonus else "-")
            .order_by("id")
            .values_list("action", "actor_name", "data")
        )
        for _, _, data in events:
            data.pop("bonus", None)
            data.pop("player", None)
            data.pop("template", None)
        outbox = list(
            OutboxEvent.objects.filter(key=player.external_id, type__startswith="bonus.")
            .order_by("id")
            .values_list("type", "data")
        )
        for _, data in outbox:
            data.pop("bonus", None)
            data.pop("player", None)
            data.pop("template", None)
        flags = sorted(BonusFlag.objects.filter(player=player, bonus__template=template).values_list("kind", flat=True))
        left[name] = {
            "bonus": {f: getattr(bonus, f) for f in bonus_fields} if bonus else None,
            "wager_days": (bonus.wager_by - bonus.offered_at).days if bonus and bonus.wager_by else None,
            "ledger": ledger,
            "balances": (accounts.cash, accounts.bonus) if accounts else None,
            "rollup": day,
            "audit": events,
            "outbox": outbox,
            "flags": flags,
        }
    return left


def match(crm: Any, **over: Any) -> BonusTemplate:
    return published(crm, gb_match(max_bet="4.00", budget="500.00", **over))


@pytest.mark.parametrize(("mode", "kind"), [("award", cash), ("offer", cash), ("offer", match)])
def test_a_batch_leaves_what_one_award_at_a_time_leaves(crm, mode, kind):
    first, second = kind(crm, code="batch-a"), kind(crm, code="batch-b")
    by_one, by_batch = group(crm, first, "a"), group(crm, second, "b")
    outcome = one_by_one(first, by_one, mode)
    assert batch(second, by_batch, mode) == outcome
    assert outcome == {
        "ok": "given",
        "ok_shares_device": "given",
        "excluded": "self_excluded",
        "blocked": "blocked_for_bonus",
        "young": "bonus_rule_violation",
        "malta": "jurisdiction",
        "euro": "currency",
        "has_bonus": "another_bonus_active" if mode == "award" else "given",
        "given_before": "given",  # the key's bonus is the answer
    }
    left_by_batch, left_by_one = what_is_left(second, by_batch), what_is_left(first, by_one)
    for name in PROFILES:
        for part, value in left_by_one[name].items():
            assert (name, part, left_by_batch[name][part]) == (name, part, value)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.awarded_count, second.awarded_amount) == (first.awarded_count, first.awarded_amount)
    if mode == "award":
        assert (first.awarded_count, first.awarded_amount) == (4, D("40.00"))  # early, given_before, ok x2
        assert what_is_left(second, by_batch)["ok_shares_device"]["flags"] == ["shared_device", "shared_ip"]
        assert what_is_left(second, by_batch)["ok"]["balances"] == (D("0"), D("10.00"))


def award_all(template: BonusTemplate, players: list[Any], actor: Any = None) -> bulk.Given:
    return bulk.give_many(
        actor=actor,
        template=template,
        player_ids=[p.pk for p in players],
        mode="award",
        source=Source.CAMPAIGN,
        source_ref="c",
    )


def test_a_batch_stops_at_the_budget_and_the_number_of_recipients(crm):
    template = cash(crm, code="budget", budget="25.00")
    players = [gb_player() for _ in range(4)]
    given = award_all(template, players)
    assert sorted(given.bonuses) == [players[0].pk, players[1].pk]
    assert given.refused == {players[2].pk: "bonus_budget_exhausted", players[3].pk: "bonus_budget_exhausted"}
    assert given.cost == D("20.00")
    capped = cash(crm, code="capped", max_recipients=1)
    given = award_all(capped, players)
    # the first two have the first template's bonus active: refused as _activate refuses, not counted
    assert list(given.bonuses) == [players[2].pk]
    assert given.refused == {
        players[0].pk: "another_bonus_active",
        players[1].pk: "another_bonus_active",
        players[3].pk: "bonus_budget_exhausted",
    }


def test_a_batch_of_a_retired_or_expired_template_gives_nothing(crm):
    from apps.bonuses.templates import template_retire

    players = [gb_player() for _ in range(2)]
    template = cash(crm, code="retired")
    kwargs = {"actor": None, "player_ids": [p.pk for p in players], "mode": "award", "source": Source.CAMPAIGN}
    later = bulk.give_many(template=template, source_ref="c", now=timezone.now() - timedelta(days=400), **kwargs)
    assert set(later.refused.values()) == {"bonus_expired"}
    template_retire(actor=crm, template=template, reason="Season over")
    retired = bulk.give_many(template=template, source_ref="c", **kwargs)
    assert set(retired.refused.values()) == {"bonus_template_state"}
    assert not PlayerBonus.objects.filter(template=template).exists()


def test_a_batch_never_posts_a_cashback_or_awards_a_deposit_match(crm):
    match = published(crm, gb_match())
    assert bulk.supports(match, "offer") and not bulk.supports(match, "award")
    with pytest.raises(ValueError):
        bulk.give_many(actor=None, template=match, player_ids=[1], mode="award", source="campaign", source_ref="c")


def test_the_batch_statement_posts_balanced_entries_for_every_award(crm):
    template = cash(crm, code="ledger")
    players = [gb_player() for _ in range(3)]
    award_all(template, players)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id, sum(e.amount), count(e.id) FROM wallet_transaction t JOIN wallet_entry e "
            "ON e.transaction_id = t.id WHERE t.player_id = ANY(%s) GROUP BY t.id",
            [[p.pk for p in players]],
        )
        rows = cursor.fetchall()
    assert len(rows) == 3 and all(total == 0 and n == 2 for _, total, n in rows)


def test_two_players_of_one_batch_who_share_a_device_are_both_flagged(crm):
    template = cash(crm, code="pair")
    pair = [gb_player(), gb_player()]
    for who in pair:
        PlayerLogin.objects.create(player=who, device_id="device-pair", allowed=True)
    award_all(template, pair)
    flags = sorted(BonusFlag.objects.filter(bonus__template=template).values_list("player_id", "kind", "others"))
    assert flags == [
        (pair[0].pk, "shared_device", [pair[1].pk]),
        (pair[1].pk, "shared_device", [pair[0].pk]),
    ]


def test_the_batch_audit_events_are_sealed_into_a_chain_that_verifies(crm):
    from apps.audit.selectors import audit_chain_verify
    from apps.audit.services import audit_seal

    template = cash(crm, code="sealed")
    award_all(template, [gb_player() for _ in range(3)], actor=SystemActor("crm.campaign.9"))
    assert AuditEvent.objects.filter(action="bonuses.awarded", actor_name="crm.campaign.9").count() == 3
    audit_seal()
    report = audit_chain_verify(with_checkpoints=False)
    assert (report.first_broken_id, report.problem, report.checked) == (None, "", AuditEvent.objects.count())
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
