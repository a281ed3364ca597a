"""Bonus templates: every field checked, the jurisdictions' rules (GB from 19 Jan 2026, SE) over the validity
window, publication below and above the second-person threshold, the frozen terms of a published template, the
append-only history, retiring, and who may do it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from apps.approvals.models import Approval
from apps.approvals.services import approval_decide
from apps.audit.models import AuditEvent
from apps.bonuses import templates
from apps.bonuses.choices import TemplateState
from apps.bonuses.errors import BonusNotPermitted, BonusRuleViolation, BonusTemplateInvalid, BonusTemplateState
from apps.bonuses.models import TemplateChange
from apps.core.errors import ApplicationError
from apps.staff import roles
from tests.bonuses.conftest import gb_match, published, se_welcome
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def rule_of(excinfo: pytest.ExceptionInfo[BonusRuleViolation]) -> str:
    return str(excinfo.value.fields["rule"])


def test_a_uk_compliant_deposit_match_is_saved_as_a_draft_with_its_history(crm):
    template = templates.template_create(actor=crm, data=gb_match(code="gb-welcome"))
    assert template.state == TemplateState.DRAFT and template.percent == Decimal("100.00")
    assert template.amount == Decimal("100.00") and template.contributions["slots"] == "100"
    change = TemplateChange.objects.get(template=template)
    assert change.action == "created" and change.actor == crm and change.changes["percent"] == [None, "100"]
    assert AuditEvent.objects.filter(action="bonuses.template_created", target_id=str(template.pk)).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "Bad Code!"}, "code"),
        ({"name": ""}, "name"),
        ({"name": "x\x00y"}, "name"),
        ({"type": "lottery_ticket"}, "type"),
        ({"products": []}, "products"),
        ({"products": ["casino", "poker"]}, "products"),
        ({"currency": "XXQ"}, "currency"),
        ({"percent": "0"}, "percent"),
        ({"percent": 12.5}, "percent"),  # a float is never money or a rate
        ({"amount": None}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"budget": "99999999999999"}, "budget"),
        ({"wagering_multiplier": "500"}, "wagering_multiplier"),
        ({"contributions": {"slots": "150"}}, "contributions"),
        ({"contributions": {"roulette-ish": "10"}}, "contributions"),
        ({"contributions": "all"}, "contributions"),
        ({"days_to_wager": 0}, "days_to_wager"),
        ({"days_to_claim": "x"}, "days_to_claim"),
        ({"jurisdictions": []}, "jurisdictions"),
        ({"jurisdictions": ["ZZ"]}, "jurisdictions"),
        ({"bonus_code": "a b"}, "bonus_code"),
        ({"valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"}, "valid_until"),
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"excluded_games": ["ok", "not ok!"]}, "excluded_games"),
    ],
)
def test_every_field_is_checked_and_nothing_is_saved(crm, change, field):
    with pytest.raises(BonusTemplateInvalid) as excinfo:
        templates.template_create(actor=crm, data=gb_match(**change))
    assert field in excinfo.value.fields and excinfo.value.code == "bonus_template_invalid"
    assert not TemplateChange.objects.exists()


def test_each_type_names_what_it_needs(crm):
    with pytest.raises(BonusTemplateInvalid) as spins:
        templates.template_create(actor=crm, data=gb_match(type="free_spins", percent=None, amount=None))
    assert {"spins_count", "spin_stake", "games"} <= set(spins.value.fields)
    with pytest.raises(BonusTemplateInvalid) as cashback:
        templates.template_create(actor=crm, data=gb_match(type="cashback", percent="150"))
    assert {"percent", "cashback_days"} <= set(cashback.value.fields)
    with pytest.raises(BonusTemplateInvalid) as free_bet:
        templates.template_create(actor=crm, data=gb_match(type="free_bet", products=["casino"]))
    assert "products" in free_bet.value.fields


# --- the jurisdictions' rules -------------------------------------------------------------------------------


def test_gb_wagering_above_10x_is_refused(crm):
    with pytest.raises(BonusRuleViolation) as excinfo:
        templates.template_create(actor=crm, data=gb_match(wagering_multiplier="11"))
    assert rule_of(excinfo) == "wagering_cap" and excinfo.value.status == 422
    assert "at most 10x" in excinfo.value.message


def test_gb_a_bonus_covers_one_product(crm):
    with pytest.raises(BonusRuleViolation) as excinfo:
        templates.template_create(actor=crm, data=gb_match(products=["casino", "betting"]))
    assert rule_of(excinfo) == "single_product"


def test_gb_a_casino_bonus_names_a_max_bet_within_the_slot_cap(crm):
    with pytest.raises(BonusRuleViolation) as missing:
        templates.template_create(actor=crm, data=gb_match(max_bet=None))
    assert rule_of(missing) == "max_bet_stake_cap"
    with pytest.raises(BonusRuleViolation) as above:
        templates.template_create(actor=crm, data=gb_match(max_bet="5.01"))
    assert rule_of(above) == "max_bet_stake_cap" and "5.00 GBP" in above.value.message
    assert templates.template_create(actor=crm, data=gb_match(max_bet="5.00")).max_bet == Decimal("5.00")


def test_gb_a_window_across_19_january_2026_must_meet_the_later_pack(crm):
    """Before 19 Jan 2026 GB had no cap; a template valid across that date meets the 10x cap all the same."""
    before = {"valid_from": datetime(2026, 1, 1, tzinfo=UTC), "valid_until": datetime(2026, 1, 10, tzinfo=UTC)}
    early = templates.template_create(
        actor=crm, data=gb_match(wagering_multiplier="20", products=["casino", "bingo"], **before)
    )
    assert early.wagering_multiplier == Decimal("20")  # wholly before: the old pack's rules only
    across = {"valid_from": datetime(2026, 1, 1, tzinfo=UTC), "valid_until": datetime(2026, 2, 1, tzinfo=UTC)}
    with pytest.raises(BonusRuleViolation) as excinfo:
        templates.template_create(actor=crm, data=gb_match(wagering_multiplier="20", **across))
    assert rule_of(excinfo) == "wagering_cap"


def test_gb_the_currency_is_the_market_s(crm):
    with pytest.raises(BonusRuleViolation) as excinfo:
        templates.template_create(actor=crm, data=gb_match(currency="EUR", max_bet="2.00"))
    rules = {p["rule"] for p in excinfo.value.fields["problems"]}
    assert "currency" in rules and "max_bet_stake_cap" in rules  # the caps are in GBP: fail closed


def test_se_no_reload_or_cashback_and_at_least_60_days(crm):
    with pytest.raises(BonusRuleViolation) as reload:
        templates.template_create(actor=crm, data=se_welcome(type="reload"))
    assert rule_of(reload) == "first_occasion"
    with pytest.raises(BonusRuleViolation) as days:
        templates.template_create(actor=crm, data=se_welcome(days_to_wager=59))
    assert rule_of(days) == "min_days_to_wager"
    assert templates.template_create(actor=crm, data=se_welcome()).days_to_wager == 60


def test_mt_has_no_bonus_rule_beyond_the_fields(crm):
    template = templates.template_create(
        actor=crm,
        data=gb_match(
            currency="EUR", jurisdictions=["MT"], wagering_multiplier="35", products=["casino", "betting"], max_bet=None
        ),
    )
    assert template.wagering_multiplier == Decimal("35")


# --- publishing ---------------------------------------------------------------------------------------------


def test_a_budget_below_the_threshold_is_published_at_once(crm, settings):
    settings.BONUS_PUBLISH_SECOND_APPROVAL_THRESHOLD = Decimal("10000")
    template = published(crm, gb_match(budget="5000.00"))
    assert template.state == TemplateState.PUBLISHED and template.published_by == crm
    assert TemplateChange.objects.filter(template=template, action="published").exists()


def test_a_big_budget_waits_for_a_second_crm_manager(crm, crm2, settings):
    settings.BONUS_PUBLISH_SECOND_APPROVAL_THRESHOLD = Decimal("10000")
    template = published(crm, gb_match(budget="20000.00"))
    assert template.state == TemplateState.PENDING
    approval = Approval.objects.get(kind=templates.PUBLISH_KIND, state="pending")
    with pytest.raises(ApplicationError):  # the maker never approves their own request
        approval_decide(actor=crm, approval=approval, approve=True)
    approval_decide(actor=crm2, approval=approval, approve=True)
    template.refresh_from_db()
    assert template.state == TemplateState.PUBLISHED and template.published_by == crm2


def test_a_template_without_a_budget_always_needs_a_second_person(crm, crm2):
    template = published(crm, gb_match(budget=None))
    assert template.state == TemplateState.PENDING
    approval = Approval.objects.get(kind=templates.PUBLISH_KIND, state="pending")
    approval_decide(actor=crm2, approval=approval, approve=False, reason="No budget: set one")
    template.refresh_from_db()
    assert template.state == TemplateState.DRAFT


def test_only_a_draft_is_published_and_a_published_one_keeps_its_terms(crm):
    template = published(crm, gb_match())
    with pytest.raises(BonusTemplateState):
        templates.template_publish(actor=crm, template=template, reason="again")
    with pytest.raises(BonusTemplateState) as frozen:
        templates.template_update(actor=crm, template=template, data={"wagering_multiplier": "5"})
    assert "wagering_multiplier" in frozen.value.fields
    renamed = templates.template_update(actor=crm, template=template, data={"name": "Welcome (ends soon)"}, note="Copy")
    assert renamed.name == "Welcome (ends soon)"
    change = TemplateChange.objects.filter(template=template, action="updated").get()
    assert change.changes == {"name": ["Welcome 100% up to GBP 100", "Welcome (ends soon)"]} and change.note == "Copy"


def test_a_draft_update_is_checked_like_a_new_one(crm):
    template = templates.template_create(actor=crm, data=gb_match())
    with pytest.raises(BonusRuleViolation):
        templates.template_update(actor=crm, template=template, data={"wagering_multiplier": "12"})
    with pytest.raises(BonusTemplateInvalid):
        templates.template_update(actor=crm, template=template, data={"percent": "abc"})
    template.refresh_from_db()
    assert template.wagering_multiplier == Decimal("10.00")


def test_retire_needs_a_reason_and_happens_once(crm):
    template = published(crm, gb_match())
    with pytest.raises(BonusTemplateInvalid):
        templates.template_retire(actor=crm, template=template, reason=" ")
    retired = templates.template_retire(actor=crm, template=template, reason="Campaign over")
    assert retired.state == TemplateState.RETIRED
    with pytest.raises(BonusTemplateState):
        templates.template_retire(actor=crm, template=retired, reason="again")
    with pytest.raises(BonusTemplateState):
        templates.template_update(actor=crm, template=retired, data={"name": "x"})


def test_two_live_templates_never_share_a_bonus_code(crm):
    templates.template_create(actor=crm, data=gb_match(bonus_code="WELCOME100"))
    with pytest.raises(BonusTemplateInvalid) as excinfo:
        templates.template_create(actor=crm, data=gb_match(bonus_code="welcome100"))
    assert "bonus_code" in excinfo.value.fields


def test_the_history_is_append_only_in_the_database(crm):
    template = templates.template_create(actor=crm, data=gb_match())
    change = TemplateChange.objects.get(template=template)
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE bonuses_templatechange SET note = 'x' WHERE id = %s", [change.pk])
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bonuses_bonustemplate WHERE id = %s", [template.pk])


@pytest.mark.parametrize("role", [roles.SUPPORT_AGENT, roles.FINANCE_OFFICER, roles.ADMINISTRATOR, roles.MLRO])
def test_only_crm_managers_write_and_publish_templates(role, crm):
    staff = StaffUserFactory(roles=[role])
    with pytest.raises(BonusNotPermitted):
        templates.template_create(actor=staff, data=gb_match())
    template = templates.template_create(actor=crm, data=gb_match())
    with pytest.raises(BonusNotPermitted):
        templates.template_update(actor=staff, template=template, data={"name": "x"})
    with pytest.raises(BonusNotPermitted):
        templates.template_publish(actor=staff, template=template, reason="x")
    with pytest.raises(BonusNotPermitted):
        templates.template_retire(actor=staff, template=template, reason="x")
