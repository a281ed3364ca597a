"""The rule pack form: a field per rule, with its label, help text and type, and the caps as rows of fields.

The caps (deposit and stake) are lists of small dicts in the database. Staff edit them as rows, one field per
key; the same lists are offered as JSON in a collapsed "advanced" field, for what the rows cannot say at once
(pasting a whole set). Either way the values go through ``apps.geo.validation.validate_rule_pack`` (the
model's ``clean``, run by the geo service that saves), whose errors land on the field they are about; the form
only turns text into types. Editing the rows and the JSON of the same caps in one save is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import SafeString, mark_safe
from unfold.widgets import (
    BASE_INPUT_CLASSES,
    CHECKBOX_CLASSES,
    SELECT_CLASSES,
    TEXTAREA_CLASSES,
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminTextInputWidget,
)

from apps.geo.choices import GameCategory
from apps.geo.models import RulePack
from apps.geo.validation import CAP_KEYS, PERIODS, REGISTER_CHECK_POINTS

MAX_ROWS = 50  # a pack has a handful of caps; a posted count beyond this is not a form
BLANK_ROWS = 2  # empty rows offered for new caps


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # choice, decimal, currency, age, flag
    choices: tuple[tuple[str, str], ...] = ()


PERIOD_LABELS = {"day": "Day", "week": "Week", "month": "Month", "any": "Any (a rule without an amount)"}
DEPOSIT_COLUMNS = (
    Column("period", "Period", "choice", tuple((p, PERIOD_LABELS[p]) for p in ("day", "week", "month", "any"))),
    Column("amount", "Amount", "decimal"),
    Column("currency", "Currency", "currency"),
    Column("net", "Net of withdrawals", "flag"),
    Column("cross_operator", "Across operators", "flag"),
    Column("mandatory_own_limit", "Player must set a limit", "flag"),
    Column("min_age", "From age", "age"),
    Column("max_age", "Up to age", "age"),
)
STAKE_COLUMNS = (
    Column("game_category", "Game category", "choice", tuple(GameCategory.choices)),
    Column("max_stake", "Maximum stake", "decimal"),
    Column("currency", "Currency", "currency"),
    Column("min_age", "From age", "age"),
    Column("max_age", "Up to age", "age"),
)
assert {c.key for c in DEPOSIT_COLUMNS} == CAP_KEYS["deposit_caps"] and set(PERIOD_LABELS) == PERIODS
assert {c.key for c in STAKE_COLUMNS} == CAP_KEYS["stake_caps"]


def tidy_caps(caps: Any) -> Any:
    """The caps as they mean: keys in column order, no empty values, no false flags ({"net": false} is no net)."""
    if not isinstance(caps, list):
        return caps
    return [
        {k: v for k, v in cap.items() if v is not None and v is not False and v != ""} if isinstance(cap, dict) else cap
        for cap in caps
    ]


class ProjectTemplateWidget(forms.Widget):
    """Rendered by the project's template engine (templates/admin/geo/widgets/), not the forms renderer's own."""

    def _render(self, template_name: str, context: dict[str, Any], renderer: Any = None) -> SafeString:
        context["widget"]["flat_attrs"] = flatatt(context["widget"]["attrs"])
        return mark_safe(render_to_string(template_name, context))  # noqa: S308  (a template's own escaping)


class CapRowsWidget(ProjectTemplateWidget):
    """A table with a row of inputs per cap (and a few empty rows for new ones); a ticked "remove" drops a row."""

    template_name = "admin/geo/widgets/cap_rows.html"

    def __init__(self, columns: tuple[Column, ...], attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.columns = columns

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        caps = value if isinstance(value, list) else []
        rows = []
        for i, cap in enumerate([*caps, *([{}] * BLANK_ROWS)]):
            cap = cap if isinstance(cap, dict) else {}
            cells = []
            for column in self.columns:
                raw = cap.get(column.key)
                cells.append(
                    {
                        "column": column,
                        "name": f"{name}-{i}-{column.key}",
                        "id": f"id_{name}-{i}-{column.key}",
                        "value": "" if raw is None or isinstance(raw, bool) else str(raw),
                        "checked": raw is True,
                    }
                )
            rows.append({"index": i, "cells": cells, "new": i >= len(caps), "remove": f"{name}-{i}-remove"})
        context["widget"].update(
            {
                "columns": self.columns,
                "rows": rows,
                "total_name": f"{name}-TOTAL",
                "total": len(rows),
                "input_classes": " ".join([*BASE_INPUT_CLASSES, "min-w-24"]),
                "select_classes": " ".join(SELECT_CLASSES),
                "checkbox_classes": " ".join(CHECKBOX_CLASSES),
            }
        )
        return context

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-0-{self.columns[0].key}" if id_ else id_  # the label points at the first row's first input

    def value_from_datadict(self, data: Any, files: MultiValueDict[str, Any], name: str) -> Any:
        total = str(data.get(f"{name}-TOTAL", ""))
        if not total.isascii() or not total.isdigit():
            return None  # not posted by this form: the field says so
        rows: list[dict[str, Any]] = []
        for i in range(min(int(total), MAX_ROWS)):
            if data.get(f"{name}-{i}-remove"):
                continue
            row: dict[str, Any] = {}
            for column in self.columns:
                key = f"{name}-{i}-{column.key}"
                row[column.key] = key in data if column.kind == "flag" else str(data.get(key, "")).strip()
            if any(v for v in row.values()):
                rows.append(row)
        return rows

    def value_omitted_from_data(self, data: Any, files: MultiValueDict[str, Any], name: str) -> bool:
        return f"{name}-TOTAL" not in data


class CapRowsField(forms.Field):
    """Rows of text into caps: ages as whole numbers, currencies in capitals, amounts kept as decimal strings
    (as the JSON stores them); whether they are right is the validator's to say."""

    def __init__(self, columns: tuple[Column, ...], **kwargs: Any) -> None:
        self.columns = columns
        kwargs.setdefault("required", False)
        super().__init__(widget=CapRowsWidget(columns), **kwargs)

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        if value is None:
            raise forms.ValidationError("The caps were not posted: reload the page.", code="missing")
        caps, problems = [], []
        for n, row in enumerate(value, start=1):
            cap: dict[str, Any] = {}
            for column in self.columns:
                raw = row.get(column.key)
                if column.kind == "flag":
                    if raw:
                        cap[column.key] = True
                elif raw in ("", None):
                    continue
                elif column.kind == "age":
                    if not (str(raw).isascii() and str(raw).isdigit()):
                        problems.append(f"Cap {n}: {column.label.lower()} must be a whole number of years.")
                        continue
                    cap[column.key] = int(raw)
                elif column.kind == "currency":
                    cap[column.key] = str(raw).upper()
                else:
                    cap[column.key] = str(raw)
            caps.append(cap)
        if problems:
            raise forms.ValidationError(problems)
        return caps

    def has_changed(self, initial: Any, data: Any) -> bool:
        if data is None:
            return False
        try:
            return tidy_caps(initial or []) != tidy_caps(self.to_python(data))
        except forms.ValidationError:
            return True


class ListTextField(forms.CharField):
    """A list of short codes typed as "GBP, EUR" (commas or spaces between)."""

    def __init__(self, *, upper: bool = False, **kwargs: Any) -> None:
        self.upper = upper
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        items = [item for item in text.replace(",", " ").split() if item]
        return [item.upper() if self.upper else item.lower() for item in items]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return list(initial or []) != self.to_python(data)


class CollapsedJSONWidget(ProjectTemplateWidget, forms.Textarea):
    """The advanced view: a JSON textarea inside a closed <details> (opened when it carries an error)."""

    template_name = "admin/geo/widgets/collapsed_json.html"

    def __init__(self) -> None:
        super().__init__(attrs={"rows": 8, "class": " ".join([*TEXTAREA_CLASSES, "font-mono"])})
        self.open = False

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["open"] = self.open
        return context


class CapsJSONField(forms.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(widget=CollapsedJSONWidget(), **kwargs)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value if value is not None else [], indent=2, ensure_ascii=False)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            posted = self.to_python(data)
        except forms.ValidationError:
            return True
        return tidy_caps(initial or []) != tidy_caps(posted if posted is not None else [])


LABELS = {
    "jurisdiction": "Jurisdiction",
    "effective_from": "In effect from",
    "licensed": "Licensed market",
    "registration_blocked": "Registration closed",
    "visiting_blocked": "Visitors blocked",
    "high_risk": "High-risk country (AML)",
    "require_presence": "Play only from inside the market",
    "min_age": "Minimum age",
    "allowed_currencies": "Currencies allowed",
    "kyc_level_to_deposit": "Verification level to deposit",
    "kyc_level_to_play": "Verification level to play",
    "kyc_level_to_withdraw": "Verification level to withdraw",
    "cdd_threshold": "Customer due diligence from",
    "cdd_currency": "Currency of the thresholds",
    "cdd_window_days": "Deposits counted over (days)",
    "cdd_grace_days": "Days to complete due diligence",
    "edd_threshold": "Enhanced due diligence from",
    "self_exclusion_register": "National self-exclusion register",
    "self_exclusion_terms": "Self-exclusion terms offered",
    "timeout_min_hours": "Shortest time-out (hours)",
    "timeout_max_hours": "Longest time-out (hours)",
    "limit_increase_cooling_off_hours": "Cooling-off before a limit increase (hours)",
    "limit_confirmation_hours": "Window to confirm an increase (hours)",
    "self_exclusion_return_hours": "Cooling-off before reopening after self-exclusion (hours)",
    "register_check_points": "Ask the register at",
    "register_fail_open": "Allow when the register cannot be asked",
    "deposit_caps": "Deposit caps",
    "stake_caps": "Stake caps",
    "min_spin_seconds": "Minimum spin time (seconds)",
    "reality_check_minutes": "Reality check every (minutes)",
    "session_break_after_minutes": "Break after playing (minutes)",
    "session_break_minutes": "Length of the break (minutes)",
    "bonus_wagering_cap": "Maximum bonus wagering (times)",
    "bonus_single_product": "One product per bonus",
    "bonus_first_occasion_only": "Bonus only on the first occasion",
    "bonus_min_days_to_wager": "Minimum days to meet the wagering",
    "bonus_wagering_order": "Wagering order",
}
HELP = {
    "effective_from": "The pack applies from this moment until a newer pack of the jurisdiction starts. "
    "To change rules from a date, add a new pack rather than editing one already in effect.",
    "registration_blocked": "No new accounts with residence here.",
    "min_age": "18 or more.",
    "allowed_currencies": "ISO 4217 codes, separated by commas (GBP, EUR). Empty: any currency.",
    "kyc_level_to_deposit": "0 none, 1 identity and age verified, 2 full (identity and address), 3 enhanced due "
    "diligence (source of funds or wealth).",
    "kyc_level_to_play": "The level needed before any bet or game launch (same scale).",
    "kyc_level_to_withdraw": "The level needed before a withdrawal (same scale; 2 in every market we know).",
    "cdd_threshold": "Deposits totalling this amount (in the currency below) need full verification (level 2); "
    "until then withdrawals stay locked.",
    "cdd_window_days": "Empty: every deposit since registration counts (accrued). Malta: 180 (rolling).",
    "cdd_grace_days": "Days from reaching the threshold before deposits and play stop too (UK remote: 1).",
    "edd_threshold": "Deposits totalling this amount need enhanced due diligence (level 3). Empty: the "
    "installation's default (KYC_EDD_THRESHOLD_EUR).",
    "self_exclusion_terms": "Separated by commas: 24h, 7d, 6w, 6m, 1y, 5y or permanent.",
    "timeout_min_hours": "Empty: no minimum.",
    "timeout_max_hours": "Empty: no maximum. Not below the shortest time-out.",
    "register_check_points": "Only with a national register chosen above.",
    "deposit_caps": "One row per cap. Leave the amount empty for a rule without one (e.g. the player must set "
    "their own limit, period Any). Ages bound the players the cap applies to. Tick Remove to drop a row.",
    "stake_caps": "One row per cap: the tightest cap that applies to the player's age wins.",
    "min_spin_seconds": "Empty: no minimum. One decimal place.",
    "session_break_after_minutes": "With the length of the break below; empty: no break.",
    "bonus_wagering_cap": "Empty: no cap.",
    "bonus_single_product": "UK from 19 Jan 2026: casino, betting, bingo or lottery, not a mix.",
    "bonus_first_occasion_only": "Sweden: a bonus only before the player's first bet, and only once.",
    "bonus_min_days_to_wager": "Sweden: 60. Empty: no minimum.",
    "bonus_wagering_order": "Which balance a stake takes first while a bonus is active.",
}


class RulePackForm(forms.ModelForm):
    allowed_currencies = ListTextField(upper=True, widget=UnfoldAdminTextInputWidget)
    self_exclusion_terms = ListTextField(widget=UnfoldAdminTextInputWidget)
    register_check_points = forms.TypedMultipleChoiceField(
        choices=[(p, p.replace("_", " ")) for p in sorted(REGISTER_CHECK_POINTS)],
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        required=False,
    )
    deposit_caps = CapRowsField(DEPOSIT_COLUMNS)
    stake_caps = CapRowsField(STAKE_COLUMNS)
    deposit_caps_json = CapsJSONField(label="Deposit caps as JSON")
    stake_caps_json = CapsJSONField(label="Stake caps as JSON")
    JSON_OF = {"deposit_caps_json": "deposit_caps", "stake_caps_json": "stake_caps"}

    class Meta:
        model = RulePack
        fields = list(LABELS)
        labels = LABELS
        help_texts = HELP

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for json_name, name in self.JSON_OF.items():
            self.fields[json_name].initial = getattr(self.instance, name)
            self.fields[json_name].help_text = (
                f"The {LABELS[name].lower()} above, as the database keeps them. Edit here or in the rows, not both; "
                "checked by the same rules."
            )
            self.fields[json_name].widget = CollapsedJSONWidget()
        for name in ("deposit_caps", "stake_caps", "allowed_currencies", "self_exclusion_terms"):
            self.fields[name].label, self.fields[name].help_text = LABELS[name], HELP.get(name, "")
        self.fields["register_check_points"].label = LABELS["register_check_points"]
        self.fields["register_check_points"].help_text = HELP["register_check_points"]
        self.from_json: set[str] = set()
        if self.instance.pk is not None:  # the time input shows whole seconds: so does the initial value
            self.initial["effective_from"] = self.instance.effective_from.replace(microsecond=0)

    def clean_effective_from(self) -> Any:
        """The same second as the stored start is the stored start (the input cannot carry its microseconds)."""
        value = self.cleaned_data.get("effective_from")
        stored = self.instance.effective_from if self.instance.pk is not None else None
        return stored if stored is not None and value == stored.replace(microsecond=0) else value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for json_name, name in self.JSON_OF.items():
            if json_name not in self.changed_data or json_name not in data:
                continue
            if name in self.changed_data:
                self.add_error(json_name, "Edit either the rows or the JSON, not both: nothing was applied.")
                continue
            data[name] = data[json_name] if data[json_name] is not None else []
            self.from_json.add(name)
        return data

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # the model's clean: validate_rule_pack, its errors on the fields they name
        for json_name, name in self.JSON_OF.items():
            if name in self.from_json and name in self.errors:
                self.errors[json_name] = self.error_class(self.errors[name])
            if json_name in self.errors:
                widget = self.fields[json_name].widget
                assert isinstance(widget, CollapsedJSONWidget)
                widget.open = True
