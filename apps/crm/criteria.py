"""Segment criteria: a small registry, name -> validator + SQL fragment builder, compiled to ONE query.

A segment's ``criteria`` is a JSON object whose keys are registered criteria; every value is validated into a
normal form (``validate``) before it is stored, and each normal form builds one parameterised SQL fragment over
the player row ``p`` (``build``). The fragments are joined with AND under ``SELECT ... FROM players_player p``:
values only ever travel as parameters, never inside the SQL text. Money criteria read the per-player day
rollups (``wallet_player_day``), never the ledger: all of a segment's rollup sums come from one grouped pass over
the rollups, LEFT JOINed to the players (a player with no rollup rows reads 0: a range that includes zero
matches them), never a subquery per player. KYC levels and tags are semi-joins (``IN``/``NOT IN`` a set).

An app above the CRM adds a criterion from its ``AppConfig.ready()`` with ``register_criterion(Criterion(...))``;
an app below it (the bonuses app: the bonus count), which must not import ``apps.crm``, declares plain
``CRITERIA`` in its ``segment_criteria`` module and the CRM registers them from its own ``ready()``
(``register_declared``). A stored criterion whose app is gone is refused at the next validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MAX_DAYS = 3650  # ten years: the longest window a criterion looks back
MAX_LIST = 200  # entries of a list criterion
MAX_AMOUNT = Decimal("1000000000000")  # 10^12 in the segment's currency: above any real figure
MAX_DEPTH = 4  # nesting of the criteria JSON (an object of objects of lists is 3)
COUNTRY = re.compile(r"^[A-Z]{2}$")
JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
TAG = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
CHANNELS = ("email", "sms", "phone", "post")


class CriterionInvalid(ValueError):
    """A criterion's value is wrong; the message says how, in the CRM Manager's words."""


@dataclass(frozen=True)
class Context:
    """What a fragment may depend on besides its value: the segment's currency and the moment of the query."""

    currency: str
    now: datetime
    jurisdictions: Callable[[], tuple[set[str], set[str]]] = field(default=lambda: known_jurisdictions())


@dataclass(frozen=True)
class Fragment:
    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RollupSum:
    """An aggregate over the player's day rollups in the segment's currency (``d``, one row per day)."""

    sql: str
    params: tuple[Any, ...]
    since: date | None  # the aggregate reads only days after this (None: every day)


Rollup = Callable[[Any, Context], RollupSum]


@dataclass(frozen=True)
class Criterion:
    name: str
    label: str
    validate: Callable[[Any], Any]  # raw JSON value -> normal form; raises CriterionInvalid
    build: Callable[[Any, Context], Fragment]
    # a criterion over the rollups names its aggregate here; its ``build`` then writes ``{rollup}`` for the value
    rollup: Rollup | None = None
    money: bool = False  # amounts in the segment's currency: the segment must name one


_registry: dict[str, Criterion] = {}


def register_criterion(criterion: Criterion) -> Criterion:
    known = _registry.get(criterion.name)
    if known is not None and known is not criterion and known.build is not criterion.build:
        raise ValueError(f"criterion {criterion.name!r} is registered already")
    _registry[criterion.name] = criterion
    return criterion


def registered() -> dict[str, Criterion]:
    return dict(_registry)


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def known_jurisdictions() -> tuple[set[str], set[str]]:
    """(region codes, country codes) of the jurisdictions can() resolves a residence to."""
    from apps.geo import config as geo_config

    codes = set(geo_config.snapshot().packs)
    return {c for c in codes if "-" in c}, {c for c in codes if "-" not in c}


def register_builtins() -> None:
    from apps.crm.builtin_criteria import BUILTINS

    for criterion in BUILTINS:
        register_criterion(criterion)


_declared: dict[str, dict[str, Any]] = {}


def register_declared() -> list[str]:
    """The criteria other apps declare without importing this one: an app below the CRM in the layers (the
    bonuses app, for the bonus count) cannot import ``apps.crm``, so it declares ``CRITERIA`` in its own
    ``segment_criteria`` module, each a dict of ``name``, ``label``, ``validate`` (raw JSON -> normal form, raising
    ValueError with the message to show) and ``build`` (normal form -> ``(sql over p, params)``), and optionally
    ``money``. Found here for every installed app (as the roles modules are found); returns the names."""
    import importlib

    from django.apps import apps as django_apps

    found = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps.") or config.name == "apps.crm":
            continue
        try:
            module = importlib.import_module(f"{config.name}.segment_criteria")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.segment_criteria":
                raise
            continue
        for declared in getattr(module, "CRITERIA", ()):
            if _declared.get(declared["name"]) is not declared:  # a second call (ready() twice) changes nothing
                register_criterion(declared_criterion(declared))
                _declared[declared["name"]] = declared
            found.append(declared["name"])
    return found


def declared_criterion(declared: dict[str, Any]) -> Criterion:
    """A criterion from an app's plain declaration (see ``register_declared``)."""
    validate_raw, build_raw = declared["validate"], declared["build"]

    def validate(value: Any) -> Any:
        try:
            return validate_raw(value)
        except CriterionInvalid:
            raise
        except (ValueError, TypeError) as exc:
            raise CriterionInvalid(str(exc) or "Not a valid value.") from exc

    def build(value: Any, ctx: Context) -> Fragment:
        sql, params = build_raw(value)
        return Fragment(str(sql), tuple(params))

    return Criterion(str(declared["name"]), str(declared["label"]), validate, build, money=bool(declared.get("money")))


# --- validation and compilation -----------------------------------------------------------------------------------


def validate(raw: Any, *, currency: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The criteria in normal form, and the errors by criterion name (empty when valid)."""
    if not isinstance(raw, dict):
        return {}, {"criteria": ["The criteria must be an object of criteria."]}
    if _depth(raw) > MAX_DEPTH:
        return {}, {"criteria": ["The criteria nest too deeply."]}
    known = registered()
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in raw.items():
        criterion = known.get(name) if isinstance(name, str) else None
        if criterion is None:
            errors.setdefault("criteria", []).append(f"Unknown criterion {str(name)[:40]!r}.")
            continue
        try:
            clean[name] = criterion.validate(value)
        except CriterionInvalid as exc:
            errors[name] = [str(exc)]
            continue
        if criterion.money and not currency:
            errors[name] = ["Amounts need the segment's currency: choose one."]
    return ({} if errors else clean), errors


def compile_query(criteria: dict[str, Any], ctx: Context) -> Fragment:
    """``SELECT p.id FROM players_player p ... WHERE ...`` of validated criteria, ANDed in a fixed order (the same
    criteria: the same SQL).

    Every rollup criterion's aggregate is computed in ONE pass over ``wallet_player_day`` (one scan, one hash
    aggregate, each criterion a column, windows as FILTER clauses) LEFT JOINed to the players, so a player
    without rollups reads 0 and a segment with lifetime deposits and 30-day GGR costs one aggregate, not two."""
    known = registered()
    parts: list[str] = []
    params: list[Any] = []
    sums: list[RollupSum] = []
    for name in sorted(criteria):
        criterion = known[name]
        fragment = criterion.build(criteria[name], ctx)
        sql = fragment.sql
        if criterion.rollup is not None:
            sql = sql.replace("{rollup}", f"coalesce(r.m{len(sums)}, 0)")
            sums.append(criterion.rollup(criteria[name], ctx))
        parts.append(f"({sql})")
        params.extend(fragment.params)
    where = " AND ".join(parts) or "TRUE"
    if not sums:
        return Fragment(f"SELECT p.id FROM players_player p WHERE {where}", tuple(params))  # noqa: S608
    columns = ", ".join(f"{s.sql} AS m{i}" for i, s in enumerate(sums))
    scan = "d.currency = %s"
    scan_params: list[Any] = [ctx.currency]
    if all(s.since is not None for s in sums):  # every sum is windowed: read only the widest window's days
        scan += " AND d.day > %s"
        scan_params.append(min(s.since for s in sums if s.since is not None))
    joined = (
        f"SELECT p.id FROM players_player p LEFT JOIN (SELECT d.player_id, {columns} FROM wallet_player_day d "  # noqa: S608
        f"WHERE {scan} GROUP BY d.player_id) r ON r.player_id = p.id WHERE {where}"
    )
    return Fragment(joined, (*[v for s in sums for v in s.params], *scan_params, *params))
