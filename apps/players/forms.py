from __future__ import annotations

from django import forms

from apps.players.choices import Capability, PlayerStatus


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=PlayerStatus.choices)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class BlockForm(forms.Form):
    capability = forms.ChoiceField(choices=Capability.choices)
    blocked = forms.TypedChoiceField(choices=[("1", "Block"), ("0", "Unblock")], coerce=lambda v: v == "1")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class TagsForm(forms.Form):
    tags = forms.CharField(max_length=500, required=False, help_text="Comma-separated, e.g. vip, high-roller")
