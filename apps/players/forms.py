from __future__ import annotations

from django import forms

from apps.players.choices import Capability, PlayerStatus

INPUT = {"class": "border rounded px-2 py-1 w-full"}


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=PlayerStatus.choices, widget=forms.Select(attrs=INPUT))
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, **INPUT}))


class BlockForm(forms.Form):
    capability = forms.ChoiceField(choices=Capability.choices, widget=forms.Select(attrs=INPUT))
    blocked = forms.TypedChoiceField(
        choices=[("1", "Block"), ("0", "Unblock")], coerce=lambda v: v == "1", widget=forms.Select(attrs=INPUT)
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, **INPUT}))


class NoteForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3, **INPUT}))


class TagsForm(forms.Form):
    tags = forms.CharField(
        max_length=500,
        required=False,
        help_text="Comma-separated, e.g. vip, high-roller",
        widget=forms.TextInput(attrs={"placeholder": "comma-separated tags", **INPUT}),
    )
