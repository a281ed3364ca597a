"""The case page's one-click forms and the page that opens a case by hand. Each form only shapes what was posted
(lengths, choices, no NUL bytes: Django's CharField refuses them); the services in apps/compliance/cases.py and
actions.py decide everything else, and their refusals become one message on the page (apps/compliance/admin)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.compliance.cases import REOPEN_MIN, TEXT_MAX
from apps.compliance.choices import CaseAction, CaseType, Outcome, Priority, WaitingOn
from apps.staff.models import StaffUser

FIELD = "border border-base-200 rounded-default px-3 py-2 w-full bg-white dark:bg-base-900"


def _text(label: str, *, required: bool = True, rows: int = 2, min_length: int | None = None) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        min_length=min_length,
        widget=forms.Textarea(attrs={"rows": rows, "class": FIELD}),
    )


def _choice(label: str, choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=choices, widget=forms.Select(attrs={"class": FIELD}))


class CaseForm(forms.Form):
    """A case page form: its id prefix is its name, so two forms on one page never share an element id."""

    name = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"case-{self.name}-%s")
        super().__init__(*args, **kwargs)


class StartForm(CaseForm):
    name = "start"


class NoteForm(CaseForm):
    name = "note"
    text = _text("Note (kept on the timeline; a note is corrected by another note)", rows=3)


class WaitForm(CaseForm):
    name = "wait"
    waiting_on = _choice("Waiting for", WaitingOn.choices)
    text = _text("What was asked, of whom")


class ResumeForm(CaseForm):
    name = "resume"
    text = _text("What came back (optional)", required=False)


class EscalateForm(CaseForm):
    name = "escalate"
    text = _text("Why the MLRO should decide")


class CloseForm(CaseForm):
    name = "close"
    outcome = forms.ChoiceField(label="Outcome", choices=Outcome.choices, widget=forms.RadioSelect)
    reason = _text("Closing reason", rows=3)


class ReopenForm(CaseForm):
    name = "reopen"
    reason = _text(f"Why reopen (at least {REOPEN_MIN} characters)", min_length=REOPEN_MIN)


class AssignForm(CaseForm):
    name = "assign"
    assignee = forms.ModelChoiceField(
        label="Assign to",
        queryset=StaffUser.objects.none(),
        required=False,
        empty_label="— nobody (back to the inbox) —",
        widget=forms.Select(attrs={"class": FIELD}),
    )

    def __init__(self, *args: Any, assignees: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if assignees is not None:
            self.fields["assignee"].queryset = assignees  # type: ignore[attr-defined]


class ActionForm(CaseForm):
    name = "action"
    action = _choice("Action", CaseAction.choices)
    reason = _text("Reason (kept on the case; the player and other teams read a neutral one)")


class AttachForm(CaseForm):
    """A file for the case: validated as KYC documents are by the service (JPEG, PNG or PDF, at most 10 MB)."""

    name = "attach"
    file = forms.FileField(label="File (JPEG, PNG or PDF, at most 10 MB)")


class OpenCaseForm(forms.Form):
    """A case opened by hand (``compliance.add_case``), for a player found by external id (or from their page)."""

    player_external_id = forms.CharField(
        label="Player (external id)", max_length=64, widget=forms.TextInput(attrs={"class": FIELD})
    )
    case_type = _choice("Type", CaseType.choices)
    priority = _choice("Priority", Priority.choices)
    title = forms.CharField(label="Title", max_length=200, widget=forms.TextInput(attrs={"class": FIELD}))
    text = _text("What you saw (the first entry of the timeline)", required=False, rows=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "case-open-%s")
        kwargs.setdefault("initial", {"priority": Priority.MEDIUM})
        super().__init__(*args, **kwargs)


FORMS: dict[str, type[CaseForm]] = {
    f.name: f
    for f in (
        StartForm,
        NoteForm,
        WaitForm,
        ResumeForm,
        EscalateForm,
        CloseForm,
        ReopenForm,
        AssignForm,
        ActionForm,
        AttachForm,
    )
}
