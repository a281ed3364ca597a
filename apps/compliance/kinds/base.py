"""Rule kinds' values, typed parameters and registry (the package docstring explains the kinds)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.compliance.choices import RuleKind
from apps.compliance.errors import RuleKindUnknown, RuleParamsInvalid
from apps.core.money import quantize
from apps.wallet import rollups
from apps.wallet.events import PostingEvent

DEPOSIT, WITHDRAWAL = "deposit", "withdrawal"
_WINDOW = re.compile(r"([1-9][0-9]{0,3})([hd])")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
IDENTIFIERS = ("device", "ip", "instrument")
EVIDENCE_LIST_MAX = 20  # transactions or logins listed in one hit's evidence


# --- values ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return money(self.amount, self.currency)


@dataclass(frozen=True)
class Window:
    length: int
    unit: str  # "h" (hours, from the ledger) or "d" (local days, from the rollups)

    def __str__(self) -> str:
        return f"{self.length}{self.unit}"

    @property
    def hours(self) -> int:
        return self.length if self.unit == "h" else self.length * 24


@dataclass(frozen=True)
class Hit:
    """What a rule found: the dedup key of its alert (see the package docstring) and JSON-safe evidence."""

    window_key: str
    evidence: dict[str, Any]
    transaction_id: int | None = None


@dataclass(frozen=True)
class Subject:
    """Whom an evaluation looks at: the player's facts, the posting (None in the sweep) and the time."""

    player_id: int
    currency: str
    country: str
    zone: str
    now: datetime
    event: PostingEvent | None = None
    # What the kinds read for this subject, read once: the rules of one posting share their day rows and ledger
    # windows (``reading.day_sums``, ``reading.postings``)
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def today(self) -> date:
        return rollups.day_of(self.now, self.zone)


def money(amount: Decimal, currency: str) -> str:
    return f"{quantize(amount, currency)} {currency}"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- parameters -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One typed parameter. ``type``: decimal, int, bool, money, window, countries, identifiers, strings."""

    name: str
    type: str
    required: bool = True
    default: Any = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    units: str = "hd"  # the window units accepted
    help: str = ""
    choices: tuple[str, ...] = ()  # a list's allowed items (``strings``), when it is a closed set


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return Decimal(value.strip())
    raise ValueError


def _clean(param: Param, value: Any) -> tuple[Any, str | None]:
    """(canonical JSON value, error message or None)."""
    try:
        if param.type in ("decimal", "int"):
            number = _decimal(value)
            if param.type == "int" and number != number.to_integral_value():
                return None, "A whole number."
            if param.minimum is not None and number < param.minimum:
                return None, f"At least {param.minimum}."
            if param.maximum is not None and number > param.maximum:
                return None, f"At most {param.maximum}."
            return (int(number) if param.type == "int" else str(number)), None
        if param.type == "bool":
            return (value, None) if isinstance(value, bool) else (None, "true or false.")
        if param.type == "money":
            if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
                return None, 'An object {"amount": "2000.00", "currency": "EUR"}.'
            if isinstance(value["amount"], float):
                return None, "Write the amount as a decimal string, not a number."
            amount = _decimal(value["amount"])
            currency = str(value["currency"]).upper()
            if not _CURRENCY.fullmatch(currency):
                return None, "The currency is an ISO 4217 code."
            if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e15"):
                return None, "A positive amount."
            return {"amount": str(quantize(amount, currency)), "currency": currency}, None
        if param.type == "window":
            match = _WINDOW.fullmatch(str(value).strip()) if isinstance(value, str) else None
            if match is None or match.group(2) not in param.units:
                units = " or ".join({"h": "hours ('24h')", "d": "days ('30d')"}[u] for u in param.units)
                return None, f"A window in {units}."
            length = int(match.group(1))
            if (match.group(2) == "h" and length > 744) or (match.group(2) == "d" and length > 400):
                return None, "At most 744 hours or 400 days."
            return f"{length}{match.group(2)}", None
        if param.type in ("countries", "identifiers", "strings"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return None, "A list of strings."
            items = sorted({v.strip().upper() if param.type == "countries" else v.strip() for v in value})
            if param.type == "countries" and not all(_COUNTRY.fullmatch(v) for v in items):
                return None, "ISO 3166-1 alpha-2 country codes."
            if param.type == "identifiers" and (not items or not set(items) <= set(IDENTIFIERS)):
                return None, f"One or more of {', '.join(IDENTIFIERS)}."
            if param.choices and not set(items) <= set(param.choices):
                return None, f"Only {', '.join(param.choices)}."
            if len(items) > 300 or any(not v or len(v) > 64 for v in items):
                return None, "At most 300 items of 1 to 64 characters."
            return items, None
    except (ValueError, InvalidOperation):
        return None, "Not a number." if param.type in ("decimal", "int", "money") else "Not valid."
    raise AssertionError(f"unknown parameter type {param.type}")


def _typed(param: Param, value: Any) -> Any:
    if value is None:
        return None
    if param.type == "decimal":
        return Decimal(value)
    if param.type == "money":
        return Money(Decimal(value["amount"]), value["currency"])
    if param.type == "window":
        return Window(int(value[:-1]), value[-1])
    if param.type in ("countries", "identifiers", "strings"):
        return frozenset(value)
    return value


# --- the registry ---------------------------------------------------------------------------------------------

Evaluate = Callable[[Subject, dict[str, Any]], list[Hit]]


@dataclass(frozen=True)
class Kind:
    code: str
    params: tuple[Param, ...]
    evaluate: Evaluate
    triggers: frozenset[str] = frozenset()  # posting types that evaluate it
    sweep: bool = False  # evaluated by the scheduled sweep
    available: bool = True  # False: what it reads does not exist yet; drafts only, never published
    notes: str = ""

    @property
    def label(self) -> str:
        return str(RuleKind(self.code).label)


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.code not in RuleKind.values:
        raise ValueError(f"{kind.code!r} is not a RuleKind")
    KINDS[kind.code] = kind
    return kind


def kind_for(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise RuleKindUnknown(f"No rule kind {code!r}.", fields={"kind": [f"One of {', '.join(KINDS)}."]}) from None


def posting_types() -> frozenset[str]:
    """Every posting type some available kind is evaluated on: what the rules' consumer is queued for."""
    return frozenset(t for kind in KINDS.values() if kind.available for t in kind.triggers)


def validate(code: str, params: Any) -> dict[str, Any]:
    """The canonical form of ``params`` for kind ``code``, or ``RuleParamsInvalid`` naming every wrong field."""
    kind = kind_for(code)
    if not isinstance(params, dict):
        raise RuleParamsInvalid("The parameters are an object.", fields={"params": ["An object."]})
    known = {p.name: p for p in kind.params}
    errors: dict[str, list[str]] = {name: ["Unknown parameter."] for name in params if name not in known}
    cleaned: dict[str, Any] = {}
    for param in kind.params:
        if params.get(param.name) is None:
            if param.required:
                errors[param.name] = ["Required."]
            elif param.default is not None:
                cleaned[param.name] = param.default
            continue
        value, error = _clean(param, params[param.name])
        if error:
            errors[param.name] = [error]
        else:
            cleaned[param.name] = value
    if errors:
        raise RuleParamsInvalid(f"These parameters do not fit a {code} rule.", fields=errors)
    return cleaned


def parse(code: str, params: dict[str, Any]) -> dict[str, Any]:
    """Typed values of canonical parameters (a stored version's), defaults filled in."""
    kind = kind_for(code)
    return {p.name: _typed(p, params.get(p.name, p.default)) for p in kind.params}


def evaluate(code: str, subject: Subject, params: dict[str, Any]) -> list[Hit]:
    """Run kind ``code`` with typed ``params`` (``parse``) for ``subject``."""
    return kind_for(code).evaluate(subject, params)
