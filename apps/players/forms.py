from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from apps.players.choices import BlockAuthority, Capability, Gender, PlayerStatus, VipTier, Visibility
from apps.players.models import Player

INPUT = {"class": "border rounded px-2 py-1 w-full"}


AUTHORITY = forms.TypedChoiceField(
    choices=[("", "The strongest I act for"), *BlockAuthority.choices],
    required=False,
    empty_value=None,
    help_text="Compliance and responsible-gambling restrictions are lifted only by that authority, by two people.",
    widget=forms.Select(attrs=INPUT),
)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=PlayerStatus.choices, widget=forms.Select(attrs=INPUT))
    authority = AUTHORITY
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, **INPUT}))


class BlockForm(forms.Form):
    capability = forms.ChoiceField(choices=Capability.choices, widget=forms.Select(attrs=INPUT))
    blocked = forms.TypedChoiceField(
        choices=[("1", "Block"), ("0", "Unblock")], coerce=lambda v: v == "1", widget=forms.Select(attrs=INPUT)
    )
    authority = AUTHORITY
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, **INPUT}))


class NoteForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3, **INPUT}))
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.GENERAL, required=False, widget=forms.Select(attrs=INPUT)
    )


class TagsForm(forms.Form):
    tags = forms.CharField(
        max_length=500,
        required=False,
        help_text="Comma-separated, e.g. vip, high-roller",
        widget=forms.TextInput(attrs={"placeholder": "comma-separated tags", **INPUT}),
    )


class ProfileForm(forms.Form):
    """Staff corrections of a player's profile (name and birth date after KYC, contact details, tier)."""

    first_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs=INPUT))
    last_name = forms.CharField(max_length=100, widget=forms.TextInput(attrs=INPUT))
    # a date input speaks ISO 8601 only: pre-filled in the locale's format ("13/10/2001") it shows blank and the
    # browser refuses to submit the form
    date_of_birth = forms.DateField(
        input_formats=["%Y-%m-%d"], widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", **INPUT})
    )
    gender = forms.ChoiceField(choices=Gender.choices, required=False, widget=forms.Select(attrs=INPUT))
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs=INPUT))
    phone = forms.CharField(max_length=20, required=False, widget=forms.TextInput(attrs=INPUT))
    address_line = forms.CharField(  # several lines (street, building): an <input> would drop the line breaks
        max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3, **INPUT})
    )
    city = forms.CharField(max_length=100, required=False, widget=forms.TextInput(attrs=INPUT))
    postal_code = forms.CharField(max_length=20, required=False, widget=forms.TextInput(attrs=INPUT))
    vip_tier = forms.ChoiceField(choices=VipTier.choices, required=False, widget=forms.Select(attrs=INPUT))
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2, **INPUT}))

    def clean_phone(self) -> str:
        from apps.players.validation import e164

        phone = (self.cleaned_data.get("phone") or "").strip()
        if phone and e164(phone) is None:
            raise forms.ValidationError("Not a valid international phone number (E.164).")
        return e164(phone) or "" if phone else ""

    def clean_address_line(self) -> str:
        return (self.cleaned_data.get("address_line") or "").replace("\r\n", "\n").replace("\r", "\n")

    def clean_date_of_birth(self) -> Any:
        from django.utils import timezone

        value = self.cleaned_data["date_of_birth"]
        if value > timezone.now().date() or value.year < 1900:
            raise forms.ValidationError("Impossible date of birth.")
        return value


class PlayerField(forms.CharField):
    """A player named by external id on a staff form; cleans to the ``Player``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Player (external id)")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Player:  # type: ignore[override]
        external_id = super().clean(value).strip()
        player = Player.objects.filter(external_id=external_id).first()
        if player is None:
            raise forms.ValidationError("No player with this external id.")
        return player


class PlayerPrefillMixin:
    """Add forms opened from a player's page (``?player=<external id>``) start with that player filled in."""

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"player_external_id": request.GET.get("player", "")}
