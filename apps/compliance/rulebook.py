"""The rulebook: creating rules, drafting versions, publishing them through a second person, retiring, snoozing.

A version is drafted and edited freely (``version_update``), then asked for publication
(``version_publish_request``): it goes ``pending`` and a maker-checker request of kind ``compliance.rule_publish``
waits for a second person holding ``compliance.publish_rule`` (apps.approvals refuses the maker himself). Approval
publishes it (``published_by`` is the checker) and retires the rule's version previously published in the same
mode, in the decision's transaction, so a rule never has two live versions nor a moment with none; rejection, or
expiry, returns it to draft. A published version is never edited: the database refuses it too (models.py), and a
change is a new version. Retiring needs ``publish_rule`` as well: switching a rule off is as much a decision as
switching one on.

Evaluation sees a publication or retirement on its next batch (apps.compliance.evaluation). Every write audits
(``compliance.rule_*``) in its transaction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.approvals.errors import ApprovalPending
from apps.approvals.models import Approval
from apps.approvals.registry import ApprovalKind, register_kind
from apps.approvals.services import approval_request
from apps.audit.services import AuditActor, audit_log
from apps.compliance import kinds
from apps.compliance.choices import CaseType, Priority, VersionMode, VersionState
from apps.compliance.errors import (
    RuleCodeTaken,
    RuleKindUnavailable,
    RuleNotPermitted,
    RuleVersionNotDraft,
    RuleVersionNotPublished,
    SnoozeInvalid,
    SnoozeNotActive,
)
from apps.compliance.models import Rule, RuleSnooze, RuleVersion
from apps.core.errors import ReasonRequired, ValidationFailed
from apps.players.models import Player
from apps.staff.models import StaffUser
from apps.staff.permissions import can_act

PUBLISH_KIND = "compliance.rule_publish"
SNOOZE_MAX_DAYS = 365
_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _require(actor: StaffUser, permission: str, what: str) -> None:
    if not can_act(actor, permission):
        raise RuleNotPermitted(f"You may not {what} ({permission}).", fields={"permission": [permission]})


def _text(value: str | None, *, field: str, maximum: int, required: bool = False) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if _CONTROL.search(text):
        raise ValidationFailed("Control characters are not allowed.", fields={field: ["Control characters."]})
    if required and not text:
        raise ValidationFailed(f"The {field} is required.", fields={field: ["Required."]})
    if len(text) > maximum:
        raise ValidationFailed(f"The {field} is too long.", fields={field: [f"At most {maximum} characters."]})
    return text


def _settings(**values: Any) -> dict[str, Any]:
    """Score, case type, priority and mode of a version, checked (the ones given)."""
    allowed = {"case_type": CaseType.values, "priority": Priority.values, "mode": VersionMode.values}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name == "score" and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100):
            errors[name] = ["A whole number from 0 to 100."]
        elif name in allowed and value not in allowed[name]:
            errors[name] = [f"One of {', '.join(allowed[name])}."]
    if errors:
        raise ValidationFailed("These settings are not valid.", fields=errors)
    return values


@transaction.atomic
def rule_create(*, actor: StaffUser, code: str, name: str, kind: str, description: str = "") -> Rule:
    """A new rule of ``kind``; it checks nothing until a version of it is published."""
    _require(actor, "compliance.add_rule", "create rules")
    kinds.kind_for(kind)
    code = (code or "").strip()
    if not _CODE.fullmatch(code) or len(code) > 64:
        raise ValidationFailed("Not a rule code.", fields={"code": ["Lower-case letters, digits and hyphens."]})
    if Rule.objects.filter(code=code).exists():
        raise RuleCodeTaken(f"A rule {code!r} exists.", fields={"code": ["Taken."]})
    rule = Rule.objects.create(
        code=code,
        name=_text(name, field="name", maximum=200, required=True),
        description=_text(description, field="description", maximum=5000),
        kind=kind,
        created_by=actor,
    )
    audit_log(actor=actor, action="compliance.rule_created", target=rule, data={"code": code, "kind": kind})
    return rule


@transaction.atomic
def version_draft(
    *,
    actor: StaffUser,
    rule: Rule,
    params: dict[str, Any],
    score: int = 50,
    case_type: str = CaseType.AML,
    priority: str = Priority.MEDIUM,
    mode: str = VersionMode.LIVE,
    note: str = "",
) -> RuleVersion:
    """A draft version of ``rule``, its parameters validated by the rule's kind (``rule_params_invalid``)."""
    _require(actor, "compliance.add_ruleversion", "draft rule versions")
    rule = Rule.objects.select_for_update().get(pk=rule.pk)  # numbers are given one at a time
    cleaned = kinds.validate(rule.kind, params)
    _settings(score=score, case_type=case_type, priority=priority, mode=mode)
    number = (rule.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = RuleVersion.objects.create(
        rule=rule,
        number=number,
        kind=rule.kind,
        params=cleaned,
        score=score,
        case_type=case_type,
        priority=priority,
        mode=mode,
        note=_text(note, field="note", maximum=500),
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="compliance.rule_version_drafted",
        target=version,
        data={"rule": rule.code, "version": number, "params": cleaned, "score": score, "mode": mode},
    )
    return version


def _draft(version: RuleVersion) -> RuleVersion:
    version = RuleVersion.objects.select_for_update().select_related("rule").get(pk=version.pk)
    if version.state != VersionState.DRAFT:
        raise RuleVersionNotDraft(
            f"Version {version.number} is {version.get_state_display().lower()}: draft a new one."
        )
    return version


@transaction.atomic
def version_update(
    *,
    actor: StaffUser,
    version: RuleVersion,
    params: dict[str, Any] | None = None,
    score: int | None = None,
    case_type: str | None = None,
    priority: str | None = None,
    mode: str | None = None,
    note: str | None = None,
) -> RuleVersion:
    """Change a draft (only a draft: ``rule_version_not_draft``). Arguments left None stay as they are."""
    _require(actor, "compliance.add_ruleversion", "edit rule versions")
    version = _draft(version)
    given = {"score": score, "case_type": case_type, "priority": priority, "mode": mode}
    changes: dict[str, Any] = _settings(**{k: v for k, v in given.items() if v is not None})
    if params is not None:
        changes["params"] = kinds.validate(version.kind, params)
    if note is not None:
        changes["note"] = _text(note, field="note", maximum=500)
    for name, value in changes.items():
        setattr(version, name, value)
    if changes:
        version.save(update_fields=list(changes))
    audit_log(
        actor=actor,
        action="compliance.rule_version_updated",
        target=version,
        data={"rule": version.rule.code, "version": version.number, "changed": changes},
    )
    return version


@transaction.atomic
def version_publish_request(*, actor: StaffUser, version: RuleVersion, reason: str) -> Approval:
    """Ask a second person to publish a draft: the version waits ``pending``; one pending version per rule."""
    _require(actor, "compliance.add_ruleversion", "ask to publish rule versions")
    version = _draft(version)
    if not kinds.kind_for(version.kind).available:
        raise RuleKindUnavailable(f"Rules of kind {version.kind} cannot run yet: {kinds.kind_for(version.kind).notes}")
    if RuleVersion.objects.filter(rule_id=version.rule_id, state=VersionState.PENDING).exists():
        raise ApprovalPending("Another version of this rule is waiting for a decision.")
    version.state = VersionState.PENDING
    version.save(update_fields=["state"])
    approval = approval_request(
        actor=actor,
        kind=PUBLISH_KIND,
        target=version,
        reason=reason,
        payload={"rule": version.rule.code, "version": version.number, "mode": version.mode},
    )
    audit_log(
        actor=actor,
        action="compliance.rule_publish_requested",
        target=version,
        data={"rule": version.rule.code, "version": version.number, "approval": approval.pk},
    )
    return approval


def _pending(approval: Approval) -> RuleVersion:
    version = RuleVersion.objects.select_for_update().select_related("rule").get(pk=approval.target_id)
    if version.state != VersionState.PENDING:
        raise RuleVersionNotDraft(f"Version {version.number} is {version.get_state_display().lower()}.")
    return version


def _retire(version: RuleVersion, actor: AuditActor, now: datetime, reason: str, **data: Any) -> None:
    version.state, version.retired_at = VersionState.RETIRED, now
    version.save(update_fields=["state", "retired_at"])
    audit_log(
        actor=actor,
        action="compliance.rule_retired",
        target=version,
        data={"rule": version.rule.code, "version": version.number, "reason": reason, **data},
    )


def _apply_publish(approval: Approval, actor: Any) -> None:
    """Approved: publish, retiring the version the rule had published in the same mode (same transaction)."""
    version = _pending(approval)
    now = timezone.now()
    previous = RuleVersion.objects.select_for_update().select_related("rule")
    for old in previous.filter(rule_id=version.rule_id, mode=version.mode, state=VersionState.PUBLISHED):
        _retire(old, actor, now, f"replaced by version {version.number}", replaced_by=version.number)
    version.state, version.published_at, version.published_by = VersionState.PUBLISHED, now, approval.checker
    version.save(update_fields=["state", "published_at", "published_by"])
    audit_log(
        actor=actor,
        action="compliance.rule_published",
        target=version,
        data={
            "rule": version.rule.code,
            "version": version.number,
            "mode": version.mode,
            "maker": approval.maker_id,
            "approval": approval.pk,
        },
    )


def _back_to_draft(approval: Approval, actor: Any, action: str) -> None:
    version = _pending(approval)
    version.state = VersionState.DRAFT
    version.save(update_fields=["state"])
    audit_log(
        actor=actor,
        action=action,
        target=version,
        data={"rule": version.rule.code, "version": version.number, "approval": approval.pk},
    )


def _reject_publish(approval: Approval, actor: Any) -> None:
    _back_to_draft(approval, actor, "compliance.rule_publish_rejected")


def _expire_publish(approval: Approval, actor: Any) -> None:
    _back_to_draft(approval, actor, "compliance.rule_publish_expired")


def register() -> None:
    """The ``compliance.rule_publish`` maker-checker kind (ComplianceConfig.ready): always a second person."""
    register_kind(
        ApprovalKind(
            code=PUBLISH_KIND,
            label="Publish an AML rule version",
            request_permission="compliance.add_ruleversion",
            decide_permission="compliance.publish_rule",
            apply=_apply_publish,
            on_reject=_reject_publish,
            on_expire=_expire_publish,
        )
    )


@transaction.atomic
def version_retire(*, actor: StaffUser, version: RuleVersion, reason: str) -> RuleVersion:
    """Switch a published version off (``compliance.publish_rule``); the rule runs no version in that mode."""
    _require(actor, "compliance.publish_rule", "retire rule versions")
    reason = _text(reason, field="reason", maximum=500)
    if not reason:
        raise ReasonRequired("A reason is required.", fields={"reason": ["Required."]})
    version = RuleVersion.objects.select_for_update().select_related("rule").get(pk=version.pk)
    if version.state != VersionState.PUBLISHED:
        raise RuleVersionNotPublished(f"Version {version.number} is {version.get_state_display().lower()}.")
    _retire(version, actor, timezone.now(), reason)
    return version


@transaction.atomic
def rule_snooze(*, actor: StaffUser, rule: Rule, player: Player, until: datetime, reason: str) -> RuleSnooze:
    """Keep ``rule`` quiet for ``player`` until ``until`` (at most 365 days ahead), with a reason."""
    _require(actor, "compliance.snooze_rule", "snooze rules")
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason or len(reason) > 500 or _CONTROL.search(reason):
        errors["reason"] = ["Required, at most 500 characters."]
    if until <= now or until > now + timedelta(days=SNOOZE_MAX_DAYS):
        errors["until"] = [f"After now and at most {SNOOZE_MAX_DAYS} days ahead."]
    if not RuleVersion.objects.filter(rule=rule, published_at__isnull=False).exists():
        errors["rule"] = ["This rule was never published."]
    if errors:
        raise SnoozeInvalid("This snooze is not valid.", fields=errors)
    snooze = RuleSnooze.objects.create(rule=rule, player=player, reason=reason, until=until, created_by=actor)
    audit_log(
        actor=actor,
        action="compliance.rule_snoozed",
        target=snooze,
        data={"rule": rule.code, "player": player.pk, "until": until, "reason": reason},
    )
    return snooze


@transaction.atomic
def snooze_lift(*, actor: StaffUser, snooze: RuleSnooze, reason: str = "") -> RuleSnooze:
    """End a snooze now: the rule evaluates the player's next postings again."""
    _require(actor, "compliance.snooze_rule", "lift snoozes")
    snooze = RuleSnooze.objects.select_for_update().select_related("rule").get(pk=snooze.pk)
    now = timezone.now()
    if snooze.lifted_at is not None or snooze.until <= now:
        raise SnoozeNotActive("This snooze has already ended.")
    snooze.lifted_at, snooze.lifted_by = now, actor
    snooze.save(update_fields=["lifted_at", "lifted_by"])
    audit_log(
        actor=actor,
        action="compliance.rule_snooze_lifted",
        target=snooze,
        data={
            "rule": snooze.rule.code,
            "player": snooze.player_id,
            "reason": _text(reason, field="reason", maximum=500),
        },
    )
    return snooze
