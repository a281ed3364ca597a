"""Awards, offers, claims and cancellation: exact amounts, every refusal the award re-checks at that moment (state,
window, currency, jurisdiction, can(), limits, budget, one active bonus, GB's cap by age, SE's first occasion),
idempotency, and the money in the ledger."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.bonuses import awards, templates
from apps.bonuses.choices import BonusState, EndReason, Source
from apps.bonuses.errors import (
    BonusAlreadyClaimed,
    BonusBudgetExhausted,
    BonusCodeInvalid,
    BonusExpired,
    BonusNotActive,
    BonusNotEligible,
    BonusNotFound,
    BonusNotPermitted,
    BonusRuleViolation,
    BonusTemplateInvalid,
    BonusTemplateState,
)
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.core.models import OutboxEvent
from apps.players.models import Player
from apps.staff import roles
from apps.wallet.models import LedgerTransaction
from tests.bonuses.conftest import balances, bet, deposit, gb_match, gb_player, published, se_player, se_welcome
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def award(player: Player, template: BonusTemplate, deposit_amount: str | None = None, **kw) -> PlayerBonus:
    return awards.bonus_award(
        actor=None,
        player=player,
        template=template,
        source=kw.pop("source", Source.DEPOSIT),
        deposit_amount=D(deposit_amount) if deposit_amount else None,
        **kw,
    )


def test_a_deposit_match_pays_the_share_up_to_the_cap_through_the_ledger(crm):
    template = published(crm, gb_match())
    player = gb_player()
    deposit(player, "150.00")
    bonus = award(player, template, "150.00", source_ref="dep-1")
    assert bonus.state == BonusState.ACTIVE and bonus.amount == D("100.00")  # 100% of 150, capped at 100
    assert bonus.wagering_required == D("1000.0000")  # 10x the bonus
    assert balances(player) == {"cash": D("150.0000"), "bonus": D("100.0000")}
    assert LedgerTransaction.objects.filter(player=player, type="bonus_award", amount=D("100.00")).count() == 1
    template.refresh_from_db()
    assert template.awarded_count == 1 and template.awarded_amount == D("100.00")
    assert AuditEvent.objects.filter(action="bonuses.awarded", target_id=str(bonus.pk)).exists()
    assert OutboxEvent.objects.filter(type="bonus.awarded", key=player.external_id).exists()
    assert bonus.contributions["slots"] == "100" and bonus.max_bet == D("2.00")  # the terms, frozen


def test_the_same_reference_answers_the_same_bonus(crm):
    template = published(crm, gb_match(per_player_limit=3))
    player = gb_player()
    first = award(player, template, "50.00", source_ref="dep-7")
    again = award(player, template, "50.00", source_ref="dep-7")
    assert first.pk == again.pk and LedgerTransaction.objects.filter(type="bonus_award").count() == 1


def test_bonus_and_deposit_as_the_wagering_base(crm):
    template = published(crm, gb_match(wagering_base="bonus_deposit", wagering_multiplier="5"))
    bonus = award(gb_player(), template, "40.00")
    assert bonus.amount == D("40.00") and bonus.wagering_required == D("400.0000")  # 5 x (40 + 40)


def test_a_cash_bonus_without_wagering_is_cash_at_once(crm):
    template = published(
        crm, gb_match(type="cash", percent=None, min_deposit=None, amount="5.00", wagering_multiplier="0")
    )
    player = gb_player()
    bonus = awards.bonus_award(actor=crm, player=player, template=template, source=Source.MANUAL)
    assert bonus.state == BonusState.COMPLETED and bonus.converted_amount == D("5.00")
    assert balances(player) == {"cash": D("5.0000"), "bonus": D("0.0000")}


def test_cashback_is_a_share_of_the_net_losses_from_the_rollups(crm):
    template = published(
        crm,
        gb_match(
            type="cashback", percent="10", amount="20.00", cashback_days=7, min_deposit=None, wagering_multiplier="1"
        ),
    )
    player = gb_player()
    deposit(player, "100.00")
    bet(player, "2.00")
    bet(player, "1.00")
    bonus = award(player, template, source=Source.CAMPAIGN)
    assert bonus.amount == D("0.30")  # 10% of GBP 3.00 lost
    nobody = gb_player()
    with pytest.raises(BonusNotEligible) as excinfo:
        award(nobody, template, source=Source.CAMPAIGN)
    assert excinfo.value.fields["reasons"] == ["no_net_losses"]


@pytest.mark.parametrize(
    ("deposit_amount", "reason"),
    [(None, "deposit_required"), ("9.99", "min_deposit")],
)
def test_a_deposit_match_needs_its_deposit(crm, deposit_amount, reason):
    template = published(crm, gb_match())
    with pytest.raises(BonusNotEligible) as excinfo:
        award(gb_player(), template, deposit_amount)
    assert excinfo.value.fields["reasons"] == [reason]


def test_an_unpublished_or_retired_or_out_of_window_template_awards_nothing(crm):
    draft = templates.template_create(actor=crm, data=gb_match())
    with pytest.raises(BonusTemplateState):
        award(gb_player(), draft, "20.00")
    later = published(crm, gb_match(valid_from=(timezone.now() + timedelta(days=2)).isoformat()))
    with pytest.raises(BonusExpired):
        award(gb_player(), later, "20.00")
    retired = templates.template_retire(actor=crm, template=published(crm, gb_match()), reason="Over")
    with pytest.raises(BonusTemplateState):
        award(gb_player(), retired, "20.00")


def test_the_player_s_currency_and_jurisdiction_must_be_the_template_s(crm):
    template = published(crm, gb_match(budget="1000.00"))
    with pytest.raises(BonusNotEligible) as currency:
        award(gb_player(currency="EUR"), template, "20.00")
    assert currency.value.fields["reasons"] == ["currency"]
    with pytest.raises(BonusNotEligible) as blocked:
        award(gb_player(country="IE"), template, "20.00")
    assert blocked.value.fields["reasons"] == ["jurisdiction_blocked"]  # can() refuses first
    german = published(
        crm, gb_match(currency="EUR", jurisdictions=["DE"], max_bet="1.00", min_deposit=None, budget="1000.00")
    )
    with pytest.raises(BonusNotEligible) as where:
        award(gb_player(country="MT", currency="EUR"), german, "20.00")
    assert where.value.fields["reasons"] == ["jurisdiction"]


def test_a_self_excluded_player_is_never_awarded(crm):
    from apps.responsible.services import self_exclude

    template = published(crm, gb_match())
    player = gb_player()
    self_exclude(actor=None, player=player, term="6m")
    with pytest.raises(BonusNotEligible) as excinfo:
        award(player, template, "20.00")
    assert "self_excluded" in excinfo.value.fields["reasons"]
    assert not PlayerBonus.objects.filter(player=player).exists()


def test_a_player_blocked_for_bonuses_is_refused(crm):
    template = published(crm, gb_match())
    player = gb_player()
    Player.objects.filter(pk=player.pk).update(blocked_bonus=True)
    with pytest.raises(BonusNotEligible) as excinfo:
        award(player, template, "20.00")
    assert "blocked_for_bonus" in excinfo.value.fields["reasons"]


def test_per_player_limit_budget_and_recipients(crm):
    template = published(crm, gb_match(per_player_limit=1, budget="150.00", max_recipients=2))
    player = gb_player()
    first = award(player, template, "100.00")
    awards.bonus_cancel(actor=crm, bonus=first, reason="Test over")
    with pytest.raises(BonusAlreadyClaimed):
        award(player, template, "10.00")
    award(gb_player(), template, "40.00")  # 140 of 150 awarded, two recipients
    with pytest.raises(BonusBudgetExhausted):
        award(gb_player(), template, "20.00")
    roomy = published(crm, gb_match(budget="1000.00", max_recipients=1))
    award(gb_player(), roomy, "10.00")
    with pytest.raises(BonusBudgetExhausted):
        award(gb_player(), roomy, "10.00")


def test_one_active_bonus_at_a_time(crm):
    a = published(crm, gb_match(budget="1000.00"))
    b = published(crm, gb_match(budget="1000.00"))  # the maker's publications add up: both below the threshold
    player = gb_player()
    award(player, a, "20.00")
    with pytest.raises(BonusNotEligible) as excinfo:
        award(player, b, "20.00")
    assert excinfo.value.fields["reasons"] == ["another_bonus_active"]


def test_gb_a_max_bet_above_the_young_player_s_cap_is_refused_at_the_award(crm):
    template = published(crm, gb_match(max_bet="5.00"))
    young = gb_player(date_of_birth=date.today() - timedelta(days=365 * 20 + 10))
    with pytest.raises(BonusRuleViolation) as excinfo:
        award(young, template, "20.00")
    assert excinfo.value.fields["rule"] == "max_bet_stake_cap" and "2.00 GBP" in excinfo.value.message
    assert award(gb_player(), template, "20.00").state == BonusState.ACTIVE  # 34 years old: GBP 5 applies


def test_se_a_bonus_only_on_the_first_occasion(crm):
    template = published(crm, se_welcome(per_player_limit=5))
    fresh = se_player()
    assert award(fresh, template, "200.00").amount == D("200.00")
    player = se_player()
    deposit(player, "100.00")
    bet(player, "10.00", category="table")
    with pytest.raises(BonusRuleViolation) as excinfo:
        award(player, template, "100.00")
    assert excinfo.value.fields["rule"] == "first_occasion"
    awards.bonus_cancel(actor=crm, bonus=PlayerBonus.objects.get(player=fresh), reason="Test over")
    with pytest.raises(BonusRuleViolation):  # had one already: never a second
        award(fresh, template, "100.00")


def test_an_offer_is_claimed_within_its_days_and_checked_again(crm):
    template = published(crm, gb_match(type="cash", percent=None, min_deposit=None, amount="10.00", days_to_claim=3))
    player = gb_player()
    offer = awards.bonus_offer(actor=None, player=player, template=template, source=Source.CAMPAIGN, source_ref="c1")
    assert offer.state == BonusState.OFFERED and balances(player)["bonus"] == 0
    assert (
        awards.bonus_offer(actor=None, player=player, template=template, source=Source.CAMPAIGN, source_ref="c1")
        == offer
    )
    claimed = awards.bonus_claim(actor=None, player=player, offer_id=offer.pk)
    assert claimed.pk == offer.pk and claimed.state == BonusState.ACTIVE and balances(player)["bonus"] == D("10")
    with pytest.raises(BonusAlreadyClaimed):
        awards.bonus_claim(actor=None, player=player, offer_id=offer.pk)
    with pytest.raises(BonusNotFound):
        awards.bonus_claim(actor=None, player=gb_player(), offer_id=offer.pk)


def test_an_offer_not_claimed_in_time_expires(crm):
    template = published(crm, gb_match(type="cash", percent=None, min_deposit=None, amount="10.00", days_to_claim=1))
    player = gb_player()
    offer = awards.bonus_offer(actor=None, player=player, template=template, source=Source.CAMPAIGN)
    later = timezone.now() + timedelta(days=2)
    with pytest.raises(BonusExpired):
        awards.bonus_claim(actor=None, player=player, offer_id=offer.pk, now=later)
    assert awards.bonuses_process_due(now=later)["claim_expired"] == 1
    offer.refresh_from_db()
    assert offer.state == BonusState.EXPIRED and offer.end_reason == EndReason.CLAIM_EXPIRED


def test_a_code_claims_the_template_and_an_unknown_code_is_refused(crm):
    template = published(crm, gb_match(bonus_code="WELCOME100"))
    player = gb_player()
    bonus = awards.bonus_claim(actor=None, player=player, code=" welcome100 ", deposit_amount=D("30.00"), key="k-1")
    assert bonus.template == template and bonus.amount == D("30.00") and bonus.source == Source.CODE
    with pytest.raises(BonusCodeInvalid):
        awards.bonus_claim(actor=None, player=player, code="NOPE")
    with pytest.raises(BonusCodeInvalid):
        awards.bonus_claim(actor=None, player=player, code="")


def test_staff_cancel_with_a_reason_and_the_balance_is_forfeited(crm):
    template = published(crm, gb_match())
    player = gb_player()
    bonus = award(player, template, "20.00")
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    with pytest.raises(BonusTemplateInvalid):
        awards.bonus_cancel(actor=support, bonus=bonus, reason="no")
    cancelled = awards.bonus_cancel(actor=support, bonus=bonus, reason="The player asked to remove it")
    assert cancelled.state == BonusState.CANCELLED and cancelled.forfeited_amount == D("20.00")
    assert cancelled.ended_by == support and balances(player)["bonus"] == 0
    with pytest.raises(BonusNotActive):
        awards.bonus_cancel(actor=support, bonus=cancelled, reason="again, please")


@pytest.mark.parametrize("role", [roles.FINANCE_OFFICER, roles.AML_ANALYST, roles.ADMINISTRATOR])
def test_who_may_not_cancel_or_award_by_hand(role, crm):
    template = published(crm, gb_match(type="cash", percent=None, min_deposit=None, amount="5.00"))
    staff = StaffUserFactory(roles=[role])
    with pytest.raises(BonusNotPermitted):
        awards.bonus_award(actor=staff, player=gb_player(), template=template, source=Source.MANUAL)
    bonus = awards.bonus_award(actor=crm, player=gb_player(), template=template, source=Source.MANUAL)
    with pytest.raises(BonusNotPermitted):
        awards.bonus_cancel(actor=staff, bonus=bonus, reason="Not mine to cancel")
    assert awards.bonus_cancel(actor=None, bonus=bonus, reason="", by_player=True).end_reason == EndReason.PLAYER
