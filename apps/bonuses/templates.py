"""Bonus templates: the one way in for the admin, the API and the campaigns (docs/BONUSES.md).

A template is written as a draft, checked field by field (``bonus_template_invalid``) and against the bonus rules
of every jurisdiction it names over its validity window (``bonus_rule_violation``, apps/bonuses/rules.py), then
published: at once when its budget is below ``BONUS_PUBLISH_SECOND_APPROVAL_THRESHOLD`` (the approvals threshold,
in EUR), otherwise by a second person (maker-checker ``bonuses.template_publish``; a template without a budget
always needs one). Only a draft's terms change; a published template may change its name, description,
priority and end of validity, and may be retired. Every change is a ``TemplateChange`` row and an audit event."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.approvals.registry import ApprovalKind, register_kind
from apps.audit.services import AuditActor, audit_log
from apps.bonuses.choices import (
    DEPOSIT_TYPES,
    BonusType,
    MaxBetPolicy,
    Product,
    TemplateState,
    Trigger,
    WageringBase,
    WithdrawalPolicy,
)
from apps.bonuses.errors import BonusNotPermitted, BonusRuleViolation, BonusTemplateInvalid, BonusTemplateState
from apps.bonuses.models import BonusTemplate, TemplateChange, default_contributions
from apps.bonuses.rules import template_problems
from apps.core.iso import CURRENCIES
from apps.geo import config as geo_config
from apps.geo.choices import GameCategory

PUBLISH_KIND = "bonuses.template_publish"
CHANGE = "bonuses.change_bonustemplate"
ADD = "bonuses.add_bonustemplate"
PUBLISH = "bonuses.publish_bonustemplate"
APPROVE = "bonuses.approve_bonustemplate"

TERMS = (
    "type",
    "trigger",
    "products",
    "currency",
    "percent",
    "amount",
    "min_deposit",
    "spins_count",
    "spin_stake",
    "games",
    "cashback_days",
    "wagering_multiplier",
    "wagering_base",
    "contributions",
    "excluded_games",
    "max_bet",
    "max_bet_policy",
    "days_to_claim",
    "days_to_wager",
    "max_conversion",
    "per_player_limit",
    "budget",
    "max_recipients",
    "jurisdictions",
    "bonus_code",
    "valid_from",
    "valid_until",
    "withdrawal_policy",
)
PRESENTATION = ("name", "description", "priority")
AFTER_PUBLISHING = ("name", "description", "priority", "valid_until")  # what a published template may still change
FIELDS = ("code", *PRESENTATION, *TERMS)
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
BONUS_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
GAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_MONEY = Decimal("1000000000")  # one billion: above any bonus, below the column's 14 digits


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)


def _text(errors: _Errors, data: dict[str, Any], name: str, *, limit: int, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, "Text.")
        return ""
    value = value.strip()
    if "\x00" in value or any(ord(c) < 32 and c not in "\n\t" for c in value):
        errors.add(name, "No control characters.")
        return ""
    if required and not value:
        errors.add(name, "Required.")
    if len(value) > limit:
        errors.add(name, f"At most {limit} characters.")
    return value


def _money(errors: _Errors, data: dict[str, Any], name: str, *, required: bool = False) -> Decimal | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, "Required.")
        return None
    if isinstance(value, float | bool):
        errors.add(name, "An exact amount (a decimal string), never a float.")
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.add(name, "An amount like 10.00.")
        return None
    if not amount.is_finite() or amount <= 0 or amount >= MAX_MONEY:
        errors.add(name, "More than 0 and less than 1,000,000,000.")
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.add(name, "At most two decimal places.")
        return None
    return amount


def _number(
    errors: _Errors, data: dict[str, Any], name: str, *, low: int, high: int, required: bool = False
) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, "Required.")
        return None
    if isinstance(value, bool):
        errors.add(name, "A whole number.")
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.add(name, "A whole number.")
        return None
    if not low <= number <= high:
        errors.add(name, f"From {low} to {high}.")
        return None
    return number


def _percent(errors: _Errors, value: Any, name: str, *, high: Decimal) -> Decimal | None:
    if isinstance(value, float | bool) or value is None or value == "":
        errors.add(name, "A percentage like 100 or 12.5.")
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.add(name, "A percentage like 100 or 12.5.")
        return None
    if not number.is_finite() or number < 0 or number > high or number != number.quantize(Decimal("0.01")):
        errors.add(name, f"From 0 to {high}, at most two decimal places.")
        return None
    return number


def _choice(errors: _Errors, data: dict[str, Any], name: str, choices: Any, default: str | None = None) -> str:
    value = data.get(name, default)
    if value not in choices.values:
        errors.add(name, f"One of: {', '.join(choices.values)}.")
        return default or ""
    return str(value)


def _list(errors: _Errors, data: dict[str, Any], name: str, *, pattern: re.Pattern[str], limit: int = 200) -> list[str]:
    value = data.get(name) or []
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,]+", value) if v]
    if not isinstance(value, list | tuple) or len(value) > limit:
        errors.add(name, f"A list of at most {limit}.")
        return []
    out = []
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            errors.add(name, f"Not a valid entry: {str(item)[:40]!r}.")
            continue
        out.append(item)
    return list(dict.fromkeys(out))


def _when(errors: _Errors, data: dict[str, Any], name: str, *, required: bool) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors.add(name, "Required.")
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            errors.add(name, "A date and time (ISO 8601).")
            return None
        value = parsed
    if not isinstance(value, datetime):
        errors.add(name, "A date and time.")
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def clean_terms(data: dict[str, Any]) -> dict[str, Any]:
    """Every field checked, all errors at once (``bonus_template_invalid`` with the fields). Returns the values a
    template row takes."""
    e = _Errors()
    out: dict[str, Any] = {}
    out["code"] = _text(e, data, "code", limit=64, required=True)
    if out["code"] and not CODE.match(out["code"]):
        e.add("code", "Lower-case letters, digits, - and _ (2 to 64).")
    out["name"] = _text(e, data, "name", limit=200, required=True)
    out["description"] = _text(e, data, "description", limit=4000)
    out["priority"] = _number(e, data, "priority", low=-1000, high=1000) or 0
    kind = out["type"] = _choice(e, data, "type", BonusType)
    trigger = {"trigger": data.get("trigger") or Trigger.MANUAL}
    out["trigger"] = _choice(e, trigger, "trigger", Trigger, Trigger.MANUAL)
    if out["trigger"] != Trigger.MANUAL and kind and kind not in DEPOSIT_TYPES:
        e.add("trigger", "Only a deposit match or a reload is awarded on a deposit.")
    products = _list(e, data, "products", pattern=re.compile(r"^[a-z]+$"), limit=4)
    bad = [p for p in products if p not in Product.values]
    if bad or not products:
        e.add("products", f"At least one of: {', '.join(Product.values)}.")
    out["products"] = [p for p in products if p in Product.values]
    currency = _text(e, data, "currency", limit=3, required=True).upper()
    if currency and currency not in CURRENCIES:
        e.add("currency", "An ISO 4217 code (GBP, EUR, SEK).")
    out["currency"] = currency
    for name in ("percent",):
        raw = data.get(name)
        out[name] = None if raw in (None, "") else _percent(e, raw, name, high=Decimal("1000"))
    for name in ("amount", "min_deposit", "spin_stake", "max_bet", "max_conversion", "budget"):
        out[name] = _money(e, data, name)
    out["spins_count"] = _number(e, data, "spins_count", low=1, high=10000)
    out["cashback_days"] = _number(e, data, "cashback_days", low=1, high=90)
    out["games"] = _list(e, data, "games", pattern=GAME)
    out["excluded_games"] = _list(e, data, "excluded_games", pattern=GAME, limit=1000)
    multiplier = data.get("wagering_multiplier", "0")
    out["wagering_multiplier"] = _percent(e, multiplier, "wagering_multiplier", high=Decimal("200")) or Decimal("0")
    out["wagering_base"] = _choice(e, data, "wagering_base", WageringBase, WageringBase.BONUS)
    contributions = data.get("contributions")
    if contributions in (None, ""):
        contributions = default_contributions()
    if not isinstance(contributions, dict) or len(contributions) > 20:
        e.add("contributions", "Percent per game category.")
        contributions = {}
    cleaned: dict[str, str] = {}
    for category, value in contributions.items():
        if category not in GameCategory.values:
            e.add("contributions", f"Not a game category: {str(category)[:20]!r}.")
            continue
        percent = _percent(e, value, "contributions", high=Decimal("100"))
        if percent is not None:
            cleaned[category] = str(percent)
    out["contributions"] = cleaned
    out["max_bet_policy"] = _choice(e, data, "max_bet_policy", MaxBetPolicy, MaxBetPolicy.REFUSE)
    out["withdrawal_policy"] = _choice(e, data, "withdrawal_policy", WithdrawalPolicy, WithdrawalPolicy.FORFEIT)
    out["days_to_claim"] = _number(e, data, "days_to_claim", low=1, high=365) or 7
    out["days_to_wager"] = _number(e, data, "days_to_wager", low=1, high=365) or 30
    out["per_player_limit"] = _number(e, data, "per_player_limit", low=1, high=1000) or 1
    out["max_recipients"] = _number(e, data, "max_recipients", low=1, high=100_000_000)
    known = set(geo_config.snapshot().packs)
    jurisdictions = _list(e, data, "jurisdictions", pattern=re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"), limit=50)
    unknown = [j for j in jurisdictions if j not in known]
    if unknown:
        e.add("jurisdictions", f"No rule pack for: {', '.join(unknown[:5])}.")
    if not jurisdictions:
        e.add("jurisdictions", "At least one jurisdiction (its bonus rules apply).")
    out["jurisdictions"] = jurisdictions
    code = _text(e, data, "bonus_code", limit=32).upper()
    if code and not BONUS_CODE.match(code):
        e.add("bonus_code", "3 to 32 letters, digits and -.")
    out["bonus_code"] = code
    out["valid_from"] = _when(e, data, "valid_from", required=False) or timezone.now()
    out["valid_until"] = _when(e, data, "valid_until", required=False)
    if out["valid_until"] is not None and out["valid_until"] <= out["valid_from"]:
        e.add("valid_until", "After the start of validity.")
    # what each type needs
    if kind in DEPOSIT_TYPES:
        if out["percent"] is None or out["percent"] <= 0:
            e.add("percent", "A deposit match names its percent (more than 0).")
        if out["amount"] is None:
            e.add("amount", "A deposit match names its cap.")
    if kind in (BonusType.CASH, BonusType.FREE_BET) and out["amount"] is None:
        e.add("amount", "The bonus amount (a free bet: its stake).")
    if kind == BonusType.FREE_SPINS:
        if out["spins_count"] is None:
            e.add("spins_count", "Free spins name their number.")
        if out["spin_stake"] is None:
            e.add("spin_stake", "Free spins name the stake per spin.")
        if not out["games"]:
            e.add("games", "Free spins name their games.")
    if kind == BonusType.CASHBACK:
        if out["percent"] is None or out["percent"] <= 0 or out["percent"] > 100:
            e.add("percent", "Cashback: a percent of the net losses, more than 0 and at most 100.")
        if out["amount"] is None:
            e.add("amount", "Cashback names its cap.")
        if out["cashback_days"] is None:
            e.add("cashback_days", "Cashback names its period in days.")
    if kind == BonusType.FREE_BET and out["products"] != [Product.BETTING]:
        e.add("products", "A free bet is for betting only.")
    if e.fields:
        raise BonusTemplateInvalid("The template is not valid.", fields=e.fields)
    return out


def clean_reason(value: Any, *, least: int = 1) -> str:
    """A reason given for a retirement or a cancellation: one line of text, ``least`` to 500 characters."""
    from apps.players.validation import has_control_characters

    text = value.strip() if isinstance(value, str) else ""
    if has_control_characters(text):
        raise BonusTemplateInvalid("The reason may not hold control characters.", fields={"reason": ["Plain text."]})
    if len(text) < least:
        raise BonusTemplateInvalid(f"Say why (at least {least} characters).", fields={"reason": ["Required."]})
    if len(text) > 500:
        raise BonusTemplateInvalid("The reason is at most 500 characters.", fields={"reason": ["At most 500."]})
    return text


def check_rules(terms: dict[str, Any]) -> None:
    problems = template_problems(terms)
    if problems:
        first = problems[0]
        raise BonusRuleViolation(
            first.message,
            fields={
                "rule": first.rule,
                "jurisdiction": first.jurisdiction,
                first.field: [p.message for p in problems if p.field == first.field],
                "problems": [p.as_dict() for p in problems],
            },
        )


def _require(actor: Any, permission: str) -> None:
    if actor is None or not getattr(actor, "has_perm", None) or not actor.has_perm(permission):
        raise BonusNotPermitted(f"Not permitted ({permission}).")


def _staff(actor: Any) -> Any:
    return actor if hasattr(actor, "has_perm") and getattr(actor, "pk", None) else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def _record(actor: Any, template: BonusTemplate, action: str, changes: dict[str, Any], note: str = "") -> None:
    staff = actor if getattr(actor, "pk", None) and hasattr(actor, "has_perm") else None
    TemplateChange.objects.create(template=template, actor=staff, action=action, changes=changes, note=note[:500])
    audit_log(
        actor=actor,
        action=f"bonuses.template_{action}",
        target=template,
        data={"code": template.code, "state": template.state, "changes": sorted(changes), "note": note[:500]},
    )


@transaction.atomic
def template_create(*, actor: AuditActor, data: dict[str, Any]) -> BonusTemplate:
    _require(actor, ADD)
    terms = clean_terms(data)
    check_rules(terms)
    if BonusTemplate.objects.filter(code=terms["code"]).exists():
        raise BonusTemplateInvalid("The template is not valid.", fields={"code": ["Another template has this code."]})
    _code_free(terms["bonus_code"], None)
    now = timezone.now()
    template = BonusTemplate.objects.create(**terms, created_by=_staff(actor), created_at=now, updated_at=now)
    _record(actor, template, "created", {k: [None, _jsonable(v)] for k, v in terms.items()})
    return template


def _code_free(code: str, template: BonusTemplate | None) -> None:
    if not code:
        return
    taken = BonusTemplate.objects.filter(
        bonus_code__iexact=code, state__in=[TemplateState.DRAFT, TemplateState.PENDING, TemplateState.PUBLISHED]
    )
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if taken.exists():
        raise BonusTemplateInvalid("The template is not valid.", fields={"bonus_code": ["Another template uses it."]})


@transaction.atomic
def template_update(
    *, actor: AuditActor, template: BonusTemplate, data: dict[str, Any], note: str = ""
) -> BonusTemplate:
    """Change a draft's terms (or a published template's name, description, priority and end of validity)."""
    _require(actor, CHANGE)
    template = BonusTemplate.objects.select_for_update().get(pk=template.pk)
    if template.state in (TemplateState.PENDING, TemplateState.RETIRED):
        raise BonusTemplateState(f"A template {template.get_state_display().lower()} does not change.")
    current = {name: getattr(template, name) for name in FIELDS}
    merged = {**current, **{k: v for k, v in data.items() if k in FIELDS}}
    merged["code"] = template.code  # the code is the template's identity
    terms = clean_terms(merged)
    changes = {
        k: [_jsonable(current[k]), _jsonable(v)] for k, v in terms.items() if _jsonable(current[k]) != _jsonable(v)
    }
    if template.state == TemplateState.PUBLISHED:
        frozen = sorted(set(changes) - set(AFTER_PUBLISHING))
        if frozen:
            raise BonusTemplateState(
                "A published template keeps its terms: retire it and publish a new one.",
                fields={name: ["Fixed once published."] for name in frozen},
            )
    check_rules(terms)
    _code_free(terms["bonus_code"], template)
    if not changes:
        return template
    for name in changes:
        setattr(template, name, terms[name])
    template.updated_at = timezone.now()
    template.save()
    _record(actor, template, "updated", changes, note)
    return template


@transaction.atomic
def template_publish(*, actor: AuditActor, template: BonusTemplate, reason: str) -> BonusTemplate:
    """Ask for publication: applied at once below the threshold, else waiting for a second person. The rules are
    checked again now (a pack may have changed since the draft was written)."""
    from apps.approvals.services import approval_request

    _require(actor, PUBLISH)
    template = BonusTemplate.objects.select_for_update().get(pk=template.pk)
    if template.state != TemplateState.DRAFT:
        raise BonusTemplateState(f"Only a draft is published; this one is {template.get_state_display().lower()}.")
    check_rules({name: getattr(template, name) for name in FIELDS})
    template.state = TemplateState.PENDING
    template.save(update_fields=["state"])
    approval_request(
        actor=actor,  # type: ignore[arg-type]
        kind=PUBLISH_KIND,
        target=template,
        reason=reason,
        amount=template.budget,
        currency=template.currency,
    )
    template.refresh_from_db()
    return template


def _publish_apply(approval: Any, actor: Any) -> None:
    template = BonusTemplate.objects.select_for_update().get(pk=int(approval.target_id))
    if template.state != TemplateState.PENDING:
        raise BonusTemplateState("The template is not waiting for publication.")
    check_rules({name: getattr(template, name) for name in FIELDS})
    template.state = TemplateState.PUBLISHED
    template.published_at = timezone.now()
    template.published_by = approval.checker or approval.maker
    template.save(update_fields=["state", "published_at", "published_by"])
    _record(actor, template, "published", {"state": [TemplateState.PENDING, TemplateState.PUBLISHED]}, approval.reason)


def _publish_reject(approval: Any, actor: Any) -> None:
    template = BonusTemplate.objects.select_for_update().get(pk=int(approval.target_id))
    if template.state == TemplateState.PENDING:
        template.state = TemplateState.DRAFT
        template.save(update_fields=["state"])
        _record(actor, template, "rejected", {"state": [TemplateState.PENDING, TemplateState.DRAFT]})


@transaction.atomic
def template_retire(*, actor: AuditActor, template: BonusTemplate, reason: str) -> BonusTemplate:
    """No new award from it; bonuses already given run their course."""
    _require(actor, PUBLISH)
    template = BonusTemplate.objects.select_for_update().get(pk=template.pk)
    if template.state == TemplateState.RETIRED:
        raise BonusTemplateState("The template is already retired.")
    reason = clean_reason(reason)
    before = template.state
    template.state = TemplateState.RETIRED
    template.save(update_fields=["state"])
    _record(actor, template, "retired", {"state": [before, TemplateState.RETIRED]}, reason)
    return template


def _template_url(approval: Any) -> str | None:
    try:
        return reverse("admin:bonuses_bonustemplate_change", args=[approval.target_id])
    except NoReverseMatch:
        return None


def register() -> None:
    register_kind(
        ApprovalKind(
            code=PUBLISH_KIND,
            label="Publish a bonus template",
            request_permission=PUBLISH,
            decide_permission=APPROVE,
            apply=_publish_apply,
            on_reject=_publish_reject,
            threshold_setting="BONUS_PUBLISH_SECOND_APPROVAL_THRESHOLD",
            target_url=_template_url,
        )
    )
