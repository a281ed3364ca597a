"""The compliance app's error codes: one class per code (docs/ERRORS.md is generated from them).

Messages never say more than the caller may know: an error answered to someone without a compliance permission
says "not found", never that a case exists (the tipping-off wall). Import only apps.core.errors here."""

from __future__ import annotations

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class RuleParamsInvalid(ValidationFailed):
    code = "rule_params_invalid"
    when = "a rule version whose parameters its kind does not accept (the fields say which and why)"


class RuleKindUnknown(ValidationFailed):
    code = "rule_kind_unknown"
    when = "a rule of a kind Pitboss does not know"


class RuleVersionNotDraft(Conflict):
    code = "rule_version_not_draft"
    when = "editing or asking to publish a rule version that is no longer a draft (publish a new version instead)"


class RuleVersionNotPublished(Conflict):
    code = "rule_version_not_published"
    when = "retiring a rule version that is not published"


class SnoozeInvalid(ValidationFailed):
    code = "snooze_invalid"
    when = "a snooze without a reason, ending in the past or more than 365 days ahead, or for a rule never published"


class CaseNotFound(NotFound):
    code = "case_not_found"
    when = "a case that does not exist or that the caller may not see (the two are not told apart)"


class CaseNotPermitted(PermissionDenied):
    code = "case_not_permitted"
    when = (
        "working a case the caller sees but may not work (not assigned to them or their inbox), or an action "
        "their role does not hold"
    )


class CaseAlreadyOpen(Conflict):
    code = "case_already_open"
    when = "opening a case by hand for a player who already has an open case of that type (work that one)"


class CaseTransitionInvalid(Conflict):
    code = "case_transition_invalid"
    when = "a case state change its state machine does not allow from the case's current state"


class CaseClosed(Conflict):
    code = "case_closed"
    when = "a note, action or change on a closed case (reopen it first, with a reason)"


class ReopenReasonTooShort(ValidationFailed):
    code = "reopen_reason_too_short"
    when = "reopening a case with a reason shorter than 20 characters"


class CaseOutcomeInvalid(ValidationFailed):
    code = "case_outcome_invalid"
    when = "closing a case without an outcome (confirmed, refuted, inconclusive) or without a closing reason"


class CaseAssigneeInvalid(ValidationFailed):
    code = "case_assignee_invalid"
    when = "assigning a case to someone who may not work cases, or who is not in the case's inbox team"


class CaseActionInvalid(ValidationFailed):
    code = "case_action_invalid"
    when = "a case action that is unknown or that needs a player the case does not have"


class RuleNotPermitted(PermissionDenied):
    code = "rule_not_permitted"
    when = "drafting, publishing, retiring or snoozing an AML rule without the compliance permission it needs"


class RuleCodeTaken(Conflict):
    code = "rule_code_taken"
    when = "creating a rule with the code of another rule (codes are the stable names alerts show)"


class RuleKindUnavailable(Conflict):
    code = "rule_kind_unavailable"
    when = "asking to publish a rule of a kind whose source does not exist yet (bonus abuse: the bonus engine)"


class SnoozeNotActive(Conflict):
    code = "snooze_not_active"
    when = "lifting a snooze that was already lifted or has ended"


class BacktestInvalid(ValidationFailed):
    code = "backtest_invalid"
    when = (
        "a backtest of a rule that reads logins or bonus flags (not postings), over a period that ends before it "
        "starts, is longer than 366 days or lies in the future, or against a version of another rule"
    )


class BacktestRunning(Conflict):
    code = "backtest_running"
    when = "starting a backtest while another one is running (one at a time; the message names it)"
