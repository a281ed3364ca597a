"""Cases: opening and routing, round-robin, who sees and works them, the state machine, closing with a second
person, reopening, actions through the owning services, and what the database refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from apps.approvals.models import Approval
from apps.approvals.services import approval_decide
from apps.audit.models import AuditEvent
from apps.compliance import cases
from apps.compliance.actions import NEUTRAL_HOLD, case_action
from apps.compliance.choices import CaseEventKind, CaseState, Outcome, Priority, VersionState
from apps.compliance.models import Alert, Case, CaseEvent, CaseInbox, CaseTransaction, Rule, RuleVersion
from apps.core.errors import ApplicationError
from apps.kyc.models import Requirement
from apps.players.choices import PlayerStatus
from apps.responsible.models import Exclusion
from apps.staff import roles
from apps.staff.permissions import can_act
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import WithdrawalHold
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


def code_of(excinfo: pytest.ExceptionInfo[ApplicationError]) -> str:
    return excinfo.value.code


@pytest.fixture
def analyst():
    return StaffUserFactory(roles=[roles.AML_ANALYST])


@pytest.fixture
def mlro():
    return StaffUserFactory(roles=[roles.MLRO])


@pytest.fixture
def player():
    return PlayerFactory()


def opened(actor, player, **kw):
    return cases.case_open(actor=actor, player=player, case_type=kw.pop("case_type", "aml"), title="Look at this", **kw)


def test_a_case_opened_by_hand_lands_in_its_inbox_assigned_round_robin(analyst, player):
    case = opened(analyst, player, text="Deposits from three cards")
    assert case.inbox == CaseInbox.objects.get(name="Compliance")
    assert case.assignee == analyst and case.state == CaseState.ASSIGNED
    assert case.due_at > case.at_risk_at > case.opened_at and case.sla_hours == 72
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [CaseEventKind.OPENED, CaseEventKind.ASSIGNED]
    assert set(AuditEvent.objects.filter(target_id=str(case.pk)).values_list("action", flat=True)) >= {
        "compliance.case_opened",
        "compliance.case_assigned",
    }
    assert can_act(analyst, cases.WORK, case)


def test_a_second_open_case_of_a_type_is_refused(analyst, player):
    opened(analyst, player)
    with pytest.raises(ApplicationError) as excinfo:
        opened(analyst, player)
    assert code_of(excinfo) == "case_already_open"
    assert Case.objects.count() == 1
    opened(analyst, player, case_type="fraud")  # another type is another case


def test_round_robin_rotates_and_skips_analysts_marked_away(analyst, player):
    second, third = StaffUserFactory(roles=[roles.AML_ANALYST]), StaffUserFactory(roles=[roles.AML_ANALYST])
    cases.analyst_set_away(actor=second, staff=second, away=True)
    got = [opened(analyst, PlayerFactory()).assignee for _ in range(3)]
    assert got == [analyst, third, analyst]
    cases.analyst_set_away(actor=second, staff=second, away=False)
    assert opened(analyst, PlayerFactory()).assignee == second


def test_marking_another_analyst_away_needs_the_permission(analyst, mlro):
    other = StaffUserFactory(roles=[roles.AML_ANALYST])
    with pytest.raises(ApplicationError) as excinfo:
        cases.analyst_set_away(actor=analyst, staff=other, away=True)
    assert code_of(excinfo) == "case_not_permitted"
    cases.analyst_set_away(actor=mlro, staff=other, away=True)


def test_who_sees_a_case_analyst_of_the_inbox_mlro_and_nobody_else(analyst, mlro, player):
    fraud_team = Group.objects.create(name="Fraud team")
    CaseInbox.objects.filter(name="Compliance").update(case_types=["aml", "kyc_edd", "sanctions"])
    CaseInbox.objects.create(name="Fraud", team=fraud_team, case_types=["fraud"], workdays=[1, 2, 3, 4, 5])
    fraud_analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    fraud_analyst.groups.add(fraud_team)
    aml = opened(analyst, player)
    fraud = opened(mlro, player, case_type="fraud")
    assert fraud.inbox.name == "Fraud" and fraud.assignee == fraud_analyst
    aml_only = StaffUserFactory(roles=[roles.AML_ANALYST])
    assert set(cases.cases_visible_to(aml_only)) == {aml}
    assert set(cases.cases_visible_to(fraud_analyst)) == {aml, fraud}  # also in the AML Analyst team
    assert set(cases.cases_visible_to(mlro)) == {aml, fraud}
    for role in (roles.SUPPORT_AGENT, roles.CRM_MANAGER, roles.FINANCE_OFFICER, roles.KYC_OFFICER, roles.ADMINISTRATOR):
        outsider = StaffUserFactory(roles=[role])
        assert not cases.cases_visible_to(outsider).exists(), role
        with pytest.raises(ApplicationError) as excinfo:
            cases.case_get(outsider, aml.pk)
        assert code_of(excinfo) == "case_not_found"  # the same answer as for a case that does not exist
        with pytest.raises(ApplicationError) as excinfo:
            cases.case_note(actor=outsider, case=aml, text="hello")
        assert code_of(excinfo) == "case_not_found"
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_get(mlro, 999999)
    assert code_of(excinfo) == "case_not_found"
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_note(actor=aml_only, case=fraud, text="not mine")
    assert code_of(excinfo) == "case_not_found"


def test_an_inbox_member_sees_but_works_only_with_the_grant(analyst, player):
    case = opened(analyst, player)
    colleague = StaffUserFactory(roles=[roles.AML_ANALYST])
    assert cases.case_visible(colleague, case)
    assert can_act(colleague, cases.WORK, case)  # the team's grant: an inbox case is the team's work
    outsider_team = Group.objects.create(name="Elsewhere")
    CaseInbox.objects.filter(pk=case.inbox_id).update(team=outsider_team)  # the case moves to another team
    case.refresh_from_db()
    assert not cases.case_visible(colleague, case)
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_note(actor=colleague, case=case, text="x")
    assert code_of(excinfo) == "case_not_found"


def test_assignment_needs_the_permission_and_an_assignee_who_can_work_it(analyst, mlro, player):
    case = opened(analyst, player)
    other = StaffUserFactory(roles=[roles.AML_ANALYST])
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_assign(actor=analyst, case=case, assignee=other)
    assert code_of(excinfo) == "case_not_permitted"
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_assign(actor=mlro, case=case, assignee=support)
    assert code_of(excinfo) == "case_assignee_invalid"
    cases.case_assign(actor=mlro, case=case, assignee=other)
    case.refresh_from_db()
    assert case.assignee == other
    from guardian.shortcuts import get_user_perms

    assert "work_case" not in get_user_perms(analyst, case)  # the previous assignee's own grant is taken back
    assert "work_case" in get_user_perms(other, case)


def test_bulk_assignment_is_all_or_nothing(analyst, mlro):
    a, b = opened(analyst, PlayerFactory()), opened(analyst, PlayerFactory())
    cases.case_close(actor=analyst, case=b, outcome=Outcome.REFUTED, reason="Salary, documented")
    other = StaffUserFactory(roles=[roles.AML_ANALYST])
    with pytest.raises(ApplicationError) as excinfo:
        cases.cases_assign_bulk(actor=mlro, cases=[a, b], assignee=other)
    assert code_of(excinfo) == "case_closed"
    a.refresh_from_db()
    assert a.assignee == analyst
    c = opened(analyst, PlayerFactory())
    assert cases.cases_assign_bulk(actor=mlro, cases=[a, c], assignee=other) == 2


def test_the_state_machine_waits_resumes_escalates_and_refuses_what_it_does_not_allow(analyst, player):
    case = opened(analyst, player)
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_resume(actor=analyst, case=case)
    assert code_of(excinfo) == "case_transition_invalid"
    case = cases.case_start(actor=analyst, case=case)
    assert case.state == CaseState.IN_PROGRESS
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_wait(actor=analyst, case=case, waiting_on="nobody", text="x")
    assert code_of(excinfo) == "invalid"
    case = cases.case_wait(actor=analyst, case=case, waiting_on="player", text="Asked for payslips")
    assert case.state == CaseState.WAITING and case.paused_at is not None
    case = cases.case_resume(actor=analyst, case=case, text="Payslips received")
    assert case.state == CaseState.IN_PROGRESS and case.paused_at is None
    case = cases.case_escalate(actor=analyst, case=case, text="Large amounts, MLRO to decide")
    assert case.state == CaseState.ESCALATED and case.escalation_level == 2
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_note(actor=analyst, case=case, text="")
    assert code_of(excinfo) == "reason_required"
    cases.case_note(actor=analyst, case=case, text="Line one\nline two")
    assert case.events.filter(kind=CaseEventKind.NOTE).get().text == "Line one\nline two"


def test_closing_refuted_is_at_once_and_needs_an_outcome_and_a_reason(analyst, player):
    case = opened(analyst, player)
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_close(actor=analyst, case=case, outcome="maybe", reason="x")
    assert code_of(excinfo) == "case_outcome_invalid"
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_close(actor=analyst, case=case, outcome=Outcome.REFUTED, reason=" ")
    assert code_of(excinfo) == "case_outcome_invalid"
    case = cases.case_close(actor=analyst, case=case, outcome=Outcome.REFUTED, reason="Winnings from a jackpot")
    assert case.state == CaseState.CLOSED and case.closed_by == analyst and case.outcome == "refuted"
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_note(actor=analyst, case=case, text="late")
    assert code_of(excinfo) == "case_closed"


def test_closing_as_confirmed_needs_a_second_person(analyst, mlro, player):
    case = cases.case_start(actor=analyst, case=opened(analyst, player))
    case = cases.case_close(actor=analyst, case=case, outcome=Outcome.CONFIRMED, reason="Structuring, three cards")
    assert case.state == CaseState.PENDING_APPROVAL
    approval = Approval.objects.get(kind=cases.CONFIRM_KIND, target_id=str(case.pk))
    with pytest.raises(ApplicationError) as excinfo:
        approval_decide(actor=analyst, approval=approval, approve=True)
    assert code_of(excinfo) == "same_approver"
    other_analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    with pytest.raises(ApplicationError) as excinfo:
        approval_decide(actor=other_analyst, approval=approval, approve=True)
    assert code_of(excinfo) == "approval_not_permitted"
    approval_decide(actor=mlro, approval=approval, approve=True, reason="Agreed")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.outcome == Outcome.CONFIRMED
    assert case.closed_by == analyst and case.closing_reason == "Structuring, three cards"
    assert case.events.filter(kind=CaseEventKind.APPROVAL).count() == 2


def test_a_rejected_confirmation_goes_back_to_work(analyst, mlro, player):
    case = cases.case_close(actor=analyst, case=opened(analyst, player), outcome=Outcome.CONFIRMED, reason="Sure")
    approval = Approval.objects.get(kind=cases.CONFIRM_KIND, target_id=str(case.pk))
    approval_decide(actor=mlro, approval=approval, approve=False, reason="Not enough evidence yet")
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.outcome == ""
    with pytest.raises(ApplicationError) as excinfo:  # pending approval: no other move
        cases.case_resume(actor=analyst, case=case)
    assert code_of(excinfo) == "case_transition_invalid"


def test_reopening_needs_a_reason_of_twenty_characters_and_no_other_open_case(analyst, player):
    case = cases.case_close(actor=analyst, case=opened(analyst, player), outcome=Outcome.INCONCLUSIVE, reason="Gone")
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_reopen(actor=analyst, case=case, reason="New deposits")
    assert code_of(excinfo) == "reopen_reason_too_short"
    case = cases.case_reopen(actor=analyst, case=case, reason="New deposits from a fourth card")
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1 and case.outcome == ""
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_reopen(actor=analyst, case=case, reason="New deposits from a fourth card")
    assert code_of(excinfo) == "case_transition_invalid"
    cases.case_close(actor=analyst, case=case, outcome=Outcome.REFUTED, reason="Explained")
    opened(analyst, player)
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_reopen(actor=analyst, case=case, reason="New deposits from a fifth card")
    assert code_of(excinfo) == "case_already_open"


def _alert(player, *, priority=Priority.MEDIUM, window="w1", transactions=()):
    rule, _ = Rule.objects.get_or_create(code="test-rule", defaults={"name": "Test rule", "kind": "amount_window"})
    version = RuleVersion.objects.filter(rule=rule, priority=priority).first() or RuleVersion.objects.create(
        rule=rule,
        number=RuleVersion.objects.filter(rule=rule).count() + 1,
        kind="amount_window",
        params={},
        priority=priority,
        state=VersionState.DRAFT,
    )
    return Alert.objects.create(
        rule=rule,
        version=version,
        player=player,
        window_key=window,
        score=60,
        evidence={"transactions": list(transactions)},
    )


def test_alerts_go_to_the_open_case_of_their_type_and_raise_its_priority(analyst, player):
    deposit = posting.wallet_deposit(player=player, amount=D("10.00"), currency="GBP")
    first = cases.case_for_alert(alert=_alert(player, transactions=[deposit.transaction.pk]))
    assert first.source == "alert" and first.priority == Priority.MEDIUM
    assert CaseTransaction.objects.filter(case=first, transaction_id=deposit.transaction.pk).exists()
    second = cases.case_for_alert(alert=_alert(player, priority=Priority.HIGH, window="w2"))
    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.priority == Priority.HIGH and second.sla_hours == 24
    assert second.alerts.count() == 2
    cases.case_close(actor=analyst, case=second, outcome=Outcome.REFUTED, reason="Explained")
    third = cases.case_for_alert(alert=_alert(player, window="w3"))
    assert third.pk != first.pk  # a closed case is not reopened by an alert: a new case opens


def funded_withdrawal(player, amount="40.00"):
    posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    return wallet.withdrawal_request(player=player, amount=D(amount), currency="GBP")


def test_actions_call_the_owning_services_on_the_compliance_authority(analyst, player):
    withdrawal = funded_withdrawal(player)
    case = opened(analyst, player)
    assert case_action(actor=analyst, case=case, action="hold_withdrawals", reason="Source of funds") == {"held": 1}
    hold = WithdrawalHold.objects.get(withdrawal=withdrawal)
    assert hold.reason == NEUTRAL_HOLD and hold.authority == "compliance"  # Finance reads a neutral reason
    case_action(actor=analyst, case=case, action="require_edd", reason="Source of funds")
    assert Requirement.objects.get(player=player, level=3).trigger == "compliance"
    case_action(actor=analyst, case=case, action="restrict_account", reason="Source of funds")
    player.refresh_from_db()
    assert player.status == PlayerStatus.SUSPENDED
    case_action(actor=analyst, case=case, action="operator_exclusion", reason="Refused to explain")
    assert Exclusion.objects.filter(player=player, kind="operator").exists()
    assert case.events.filter(kind=CaseEventKind.ACTION).count() == 4


def test_actions_refuse_unknown_actions_cases_without_a_player_and_roles_without_the_permission(analyst, player):
    with pytest.raises(ApplicationError) as excinfo:
        case_action(actor=analyst, case=opened(analyst, player), action="freeze", reason="x")
    assert code_of(excinfo) == "case_action_invalid"
    no_player = cases.case_open(actor=analyst, player=None, case_type="fraud", title="Ring of accounts")
    with pytest.raises(ApplicationError) as excinfo:
        case_action(actor=analyst, case=no_player, action="hold_withdrawals", reason="x")
    assert code_of(excinfo) == "case_action_invalid"
    worker = StaffUserFactory(roles=[roles.AML_ANALYST])
    Group.objects.get(name=roles.AML_ANALYST).permissions.remove(
        *Group.objects.get(name=roles.AML_ANALYST).permissions.filter(codename="case_actions")
    )
    with pytest.raises(ApplicationError) as excinfo:
        case_action(
            actor=StaffUserFactory._meta.model.objects.get(pk=worker.pk),
            case=no_player,
            action="hold_withdrawals",
            reason="x",
        )
    assert code_of(excinfo) == "case_not_permitted"


def test_the_database_keeps_the_timeline_and_closing_rules(analyst, player):
    case = opened(analyst, player)
    event = case.events.first()
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(text="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED)  # no outcome, no closer
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(outcome="confirmed")  # an outcome only when closed
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        Case.objects.filter(pk=case.pk)._raw_delete(Case.objects.db)
    assert Case.objects.filter(pk=case.pk, updated_at__lte=timezone.now()).exists()


MOVES = {
    "start": lambda actor, case: cases.case_start(actor=actor, case=case),
    "wait": lambda actor, case: cases.case_wait(actor=actor, case=case, waiting_on="player", text="Asked for proof"),
    "resume": lambda actor, case: cases.case_resume(actor=actor, case=case, text="Proof received"),
    "escalate": lambda actor, case: cases.case_escalate(actor=actor, case=case, text="For the MLRO"),
    "close": lambda actor, case: cases.case_close(actor=actor, case=case, outcome="refuted", reason="Explained"),
}


@pytest.mark.parametrize("state", CaseState.values)
@pytest.mark.parametrize("move", list(MOVES))
def test_every_move_from_every_state_does_what_the_machine_says(analyst, player, state, move):
    """The state machine as a table: each named move from each state lands where ``cases.TRANSITIONS`` says, or is
    refused (``case_transition_invalid``; anything on a closed case: ``case_closed``) with the case unchanged."""
    case = opened(analyst, player)
    closed = {"closed_at": timezone.now(), "closed_by": analyst, "outcome": "refuted"} if state == "closed" else {}
    Case.objects.filter(pk=case.pk).update(state=state, **closed)
    case.refresh_from_db()
    before = case.events.count()
    target = cases.TRANSITIONS[move].get(state)
    if target is not None:
        assert MOVES[move](analyst, case).state == target
        assert Case.objects.get(pk=case.pk).state == target and case.events.count() > before
        return
    with pytest.raises(ApplicationError) as excinfo:
        MOVES[move](analyst, case)
    assert code_of(excinfo) == ("case_closed" if state == CaseState.CLOSED else "case_transition_invalid")
    assert Case.objects.get(pk=case.pk).state == state and case.events.count() == before


@pytest.mark.parametrize(("reason", "reopened"), [("x" * 19, False), (" " + "x" * 19 + "  ", False), ("x" * 20, True)])
def test_a_reopening_reason_counts_from_twenty_characters(analyst, player, reason, reopened):
    case = cases.case_close(actor=analyst, case=opened(analyst, player), outcome=Outcome.REFUTED, reason="Salary")
    if reopened:
        assert cases.case_reopen(actor=analyst, case=case, reason=reason).state == CaseState.IN_PROGRESS
        return
    with pytest.raises(ApplicationError) as excinfo:
        cases.case_reopen(actor=analyst, case=case, reason=reason)
    assert code_of(excinfo) == "reopen_reason_too_short"
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED
