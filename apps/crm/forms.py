"""The segment form: a CRM Manager picks criteria from typed fields (never raw JSON); ``criteria()`` turns them
into the criteria object the services validate, and the validator's errors come back on the fields they concern.
Criteria the form does not show (another app's, e.g. the bonus count) are kept as they were."""

from __future__ import annotations

from typing import Any

import pycountry
from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from apps.core.errors import ApplicationError
from apps.crm import criteria as registry
from apps.crm import services
from apps.crm.choices import SegmentKind
from apps.crm.errors import SegmentCriteriaInvalid
from apps.crm.models import Segment
from apps.players.choices import VipTier

# criterion -> the form field its errors are shown on
ERROR_FIELDS = {
    "country": "country",
    "jurisdiction": "jurisdiction",
    "vip_tier": "vip_tier",
    "tags": "tags",
    "registered": "registered_from",
    "last_login": "last_login_days",
    "deposits": "deposits_min",
    "ggr": "ggr_min",
    "kyc_level": "kyc_min",
    "consent": "consent_email",
    "currency": "currencies",
}
SHOWN = frozenset(ERROR_FIELDS)
CONSENT = (("", "either"), ("yes", "consented"), ("no", "not consented"))
KYC = (("", "—"), *((str(level), str(level)) for level in range(4)))


def _countries() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, f"{c.alpha_2} — {c.name}") for c in pycountry.countries), key=lambda c: c[0])


def _select(choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(choices=choices, required=False, widget=UnfoldAdminSelectWidget)


def _money(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=False, max_digits=17, decimal_places=4, widget=UnfoldAdminDecimalFieldWidget
    )


def _days(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=registry.MAX_DAYS,
        widget=UnfoldAdminIntegerFieldWidget,
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class SegmentForm(forms.ModelForm):  # type: ignore[type-arg]
    country = forms.MultipleChoiceField(
        label="Countries of residence", required=False, widget=UnfoldAdminSelectMultipleWidget
    )
    jurisdiction = forms.MultipleChoiceField(
        label="Jurisdictions",
        required=False,
        widget=UnfoldAdminSelectMultipleWidget,
        help_text="The region's own where it has one (CA-ON), else the country's, as eligibility resolves it",
    )
    vip_tier = forms.MultipleChoiceField(
        label="VIP tiers",
        required=False,
        choices=[(value, label if value else "none") for value, label in VipTier.choices],
        widget=UnfoldAdminSelectMultipleWidget,
    )
    tags_mode = _select((("any", "any of"), ("all", "all of")))
    tags = forms.CharField(
        required=False, max_length=2000, widget=UnfoldAdminTextInputWidget, help_text="Tag names, comma-separated"
    )
    registered_from = forms.DateField(label="Registered from", required=False, widget=UnfoldAdminSingleDateWidget)
    registered_to = forms.DateField(label="Registered until", required=False, widget=UnfoldAdminSingleDateWidget)
    last_login_mode = _select(
        (("", "—"), ("within_days", "within the last"), ("not_within_days", "not within the last"))
    )
    last_login_days = _days("Last login: days")
    deposits_min = _money("Deposits at least")
    deposits_max = _money("Deposits at most")
    deposits_days = _days("Deposits: in the last N days (empty: lifetime)")
    ggr_min = _money("GGR at least")
    ggr_max = _money("GGR at most")
    ggr_days = _days("GGR: in the last N days (empty: lifetime)")
    kyc_min = _select(KYC)
    kyc_max = _select(KYC)
    consent_email = _select(CONSENT)
    consent_sms = _select(CONSENT)
    consent_phone = _select(CONSENT)
    consent_post = _select(CONSENT)
    currencies = forms.CharField(
        label="Wallet currencies",
        required=False,
        max_length=400,
        widget=UnfoldAdminTextInputWidget,
        help_text="ISO 4217 codes, comma-separated",
    )

    class Meta:
        model = Segment
        fields = ("name", "description", "kind", "currency")
        widgets = {
            "name": UnfoldAdminTextInputWidget,
            "description": UnfoldAdminTextareaWidget,
            "kind": UnfoldAdminSelectWidget(choices=SegmentKind.choices),
            "currency": UnfoldAdminTextInputWidget,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _countries()  # type: ignore[attr-defined]
        from apps.geo import config as geo_config

        snap = geo_config.snapshot()
        self.fields["jurisdiction"].choices = [  # type: ignore[attr-defined]
            (code, f"{code} — {snap.names.get(code, code)}") for code in sorted(snap.packs)
        ]
        self.fields["tags_mode"].label = "Tags: players with"
        self.fields["kyc_min"].label, self.fields["kyc_max"].label = "KYC level at least", "KYC level at most"
        for channel in registry.CHANNELS:
            self.fields[f"consent_{channel}"].label = f"Consent: {channel}"
        if self.instance.pk and not self.is_bound:
            self.initial.update(_initial(self.instance.criteria or {}))

    def criteria(self) -> dict[str, Any]:
        """The criteria object of the cleaned fields, plus the instance's criteria the form does not show."""
        data = self.cleaned_data
        found: dict[str, Any] = {
            k: v for k, v in (self.instance.criteria or {}).items() if k not in SHOWN and self.instance.pk
        }
        if data.get("country"):
            found["country"] = list(data["country"])
        if data.get("jurisdiction"):
            found["jurisdiction"] = list(data["jurisdiction"])
        if data.get("vip_tier"):
            found["vip_tier"] = list(data["vip_tier"])
        if data.get("tags"):
            found["tags"] = {data.get("tags_mode") or "any": _split(data["tags"])}
        registered = {
            key: data[field].isoformat()
            for key, field in (("from", "registered_from"), ("to", "registered_to"))
            if data.get(field)
        }
        if registered:
            found["registered"] = registered
        if data.get("last_login_mode") or data.get("last_login_days"):
            found["last_login"] = {data.get("last_login_mode") or "within_days": data.get("last_login_days")}
        for name in ("deposits", "ggr"):
            money = {key: str(data[f"{name}_{key}"]) for key in ("min", "max") if data.get(f"{name}_{key}") is not None}
            if data.get(f"{name}_days"):
                money["days"] = data[f"{name}_days"]
            if money:
                found[name] = money
        kyc = {key: int(data[f"kyc_{key}"]) for key in ("min", "max") if data.get(f"kyc_{key}")}
        if kyc:
            found["kyc_level"] = kyc
        consent = {c: data[f"consent_{c}"] == "yes" for c in registry.CHANNELS if data.get(f"consent_{c}")}
        if consent:
            found["consent"] = consent
        if data.get("currencies"):
            found["currency"] = [code.upper() for code in _split(data["currencies"])]
        return found

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            services.segment_check(
                name=cleaned.get("name", ""),
                description=cleaned.get("description", ""),
                kind=cleaned.get("kind", ""),
                currency=cleaned.get("currency", ""),
                criteria=self.criteria(),
                segment=self.instance if self.instance.pk else None,
            )
        except ApplicationError as exc:
            if not exc.fields:
                raise forms.ValidationError(exc.message) from exc
            about_criteria = isinstance(exc, SegmentCriteriaInvalid)
            for name, messages in exc.fields.items():
                field = ERROR_FIELDS.get(name) if about_criteria else (name if name in self.fields else None)
                for message in messages:
                    label = registry.registered()[name].label if name in registry.registered() else ""
                    self.add_error(field, f"{label}: {message}" if label and field is None else message)
        return cleaned


def _initial(criteria: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for key in ("country", "jurisdiction", "vip_tier"):
        if key in criteria:
            initial[key] = criteria[key]
    if "tags" in criteria:
        mode, names = next(iter(criteria["tags"].items()))
        initial["tags_mode"], initial["tags"] = mode, ", ".join(names)
    registered = criteria.get("registered", {})
    initial["registered_from"], initial["registered_to"] = registered.get("from"), registered.get("to")
    if "last_login" in criteria:
        mode, days = next(iter(criteria["last_login"].items()))
        initial["last_login_mode"], initial["last_login_days"] = mode, days
    for name in ("deposits", "ggr"):
        for key in ("min", "max", "days"):
            if key in criteria.get(name, {}):
                initial[f"{name}_{key}"] = criteria[name][key]
    for key in ("min", "max"):
        if key in criteria.get("kyc_level", {}):
            initial[f"kyc_{key}"] = str(criteria["kyc_level"][key])
    for channel, given in criteria.get("consent", {}).items():
        initial[f"consent_{channel}"] = "yes" if given else "no"
    if "currency" in criteria:
        initial["currencies"] = ", ".join(criteria["currency"])
    return initial
