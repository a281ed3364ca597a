"""The SAR pages' forms: they only shape what was posted (lengths, choices, no NUL bytes); apps/sars/services
decides everything else, and its refusals become one message on the page."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.sars.choices import ReportCode
from apps.sars.services import TEXT_MAX

FIELD = "border border-base-200 rounded-default px-3 py-2 w-full bg-white dark:bg-base-900"


def _text(label: str, *, required: bool = True, rows: int = 3, max_length: int = TEXT_MAX) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "class": FIELD}),
    )


class ContentForm(forms.Form):
    """A draft's content (the add page asks for the case as well)."""

    report_code = forms.ChoiceField(
        label="Report", choices=ReportCode.choices, widget=forms.Select(attrs={"class": FIELD})
    )
    reason = _text("Reason (why this is suspicious)", rows=5)
    action = _text("Action taken", required=False)
    indicators = forms.CharField(
        label="Indicators (the FIU's codes, separated by spaces or commas)",
        max_length=500,
        widget=forms.TextInput(attrs={"class": FIELD}),
    )
    occupation = forms.CharField(
        label="The subject's occupation", required=False, max_length=255, widget=forms.TextInput(attrs={"class": FIELD})
    )
    transaction_ids = forms.TypedMultipleChoiceField(
        label="Transactions (an STR)", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, transactions: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        kwargs.setdefault("auto_id", "sar-%s")
        super().__init__(*args, **kwargs)
        self.fields["transaction_ids"].choices = [  # type: ignore[attr-defined]
            (t.pk, f"#{t.pk} {t.get_type_display()} {t.amount} {t.currency} {t.created_at:%Y-%m-%d %H:%M}")
            for t in transactions
        ]


class DraftForm(ContentForm):
    case = forms.IntegerField(label="Case number", min_value=1, widget=forms.NumberInput(attrs={"class": FIELD}))

    field_order = ["case", "report_code", "reason", "action", "indicators", "occupation", "transaction_ids"]


class NoteForm(forms.Form):
    note = forms.CharField(
        label="Note for the second person",
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"class": FIELD}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Why", max_length=500, widget=forms.Textarea(attrs={"rows": 2, "class": FIELD}))


class FileForm(forms.Form):
    fiu_reference = forms.CharField(
        label="The FIU's reference", max_length=255, widget=forms.TextInput(attrs={"class": FIELD})
    )
    filed_on = forms.DateField(label="Filed on", widget=forms.DateInput(attrs={"type": "date", "class": FIELD}))


class CorrectForm(forms.Form):
    reason = _text("Reason of the corrected report (what changed, and why)", rows=4)


FORMS: dict[str, type[forms.Form]] = {
    "update": ContentForm,
    "submit": NoteForm,
    "reopen": ReasonForm,
    "retry": forms.Form,
    "file": FileForm,
    "correct": CorrectForm,
}
