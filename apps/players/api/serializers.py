"""Input serializers only validate; output is a plain dict (``player_dict``): cheap on hot paths."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from apps.geo.choices import GameCategory
from apps.players import validation
from apps.players.choices import Action, Gender, PlayerStatus
from apps.players.models import Player


class TextField(serializers.CharField):
    """A one-line text (names, references, tags): control characters are refused (400 with the field named).
    ``multiline=True`` keeps line breaks (normalised to "\\n") for text meant to span lines."""

    compiles_as_text = True  # apps.api.commands.CommandInput applies the same rule without running this field

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data))
        if self.multiline:
            value = validation.normalise_line_breaks(value)
        if validation.has_control_characters(value, multiline=self.multiline):
            raise serializers.ValidationError(validation.CONTROL_MESSAGE, code="control_characters")
        return value


class CountryField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=2, max_length=2, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data)).upper()
        if not validation.country_ok(value):
            raise serializers.ValidationError("Unknown country: use an ISO 3166-1 alpha-2 code (e.g. GB).")
        return value


class CurrencyField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=3, max_length=3, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data)).upper()
        if not validation.currency_ok(value):
            raise serializers.ValidationError("Unknown currency: use an ISO 4217 code (e.g. EUR).")
        return value


class PhoneField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data)).strip()
        if not value:
            return ""
        normalised = validation.e164(value)
        if normalised is None:
            raise serializers.ValidationError("Not a valid international phone number (E.164, e.g. +447911123456).")
        return normalised


class IpField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data)).strip()
        if not validation.ip_ok(value):
            raise serializers.ValidationError("Not an IPv4 or IPv6 address.")
        return value


def _validate_birth_date(value: date) -> None:
    today = timezone.now().date()
    if value > today:
        raise serializers.ValidationError("The date of birth is in the future.")
    if value.year < 1900:
        raise serializers.ValidationError("The date of birth is impossibly early.")


class PlayerRegisterInput(serializers.Serializer):
    brand = serializers.SlugField(
        max_length=40,
        required=False,
        help_text="The brand's code; required when the API client serves more than one brand",
    )
    external_id = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,64}$", help_text="The platform's id")
    username = TextField(max_length=64)
    email = serializers.EmailField(max_length=254)
    first_name = TextField(max_length=100)
    last_name = TextField(max_length=100)
    date_of_birth = serializers.DateField(validators=[_validate_birth_date])
    gender = serializers.ChoiceField(
        choices=Gender.choices, required=False, default="", help_text="female, male, other, or empty: not recorded"
    )
    phone = PhoneField(required=False, allow_blank=True, default="")
    address_line = TextField(max_length=200, required=False, allow_blank=True, default="", multiline=True)
    city = TextField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = TextField(max_length=20, required=False, allow_blank=True, default="")
    country = CountryField(help_text="Residence, ISO 3166-1 alpha-2")
    region = TextField(max_length=6, required=False, allow_blank=True, default="")
    currency = CurrencyField()
    language = serializers.RegexField(r"^[a-z]{2}(-[A-Za-z]{2})?$", required=False, default="en")
    affiliate_tag = TextField(max_length=64, required=False, allow_blank=True, default="")
    terms_version = TextField(max_length=20, required=False, allow_blank=True, default="")
    marketing_email = serializers.BooleanField(required=False, default=False)
    marketing_sms = serializers.BooleanField(required=False, default=False)
    marketing_phone = serializers.BooleanField(required=False, default=False)
    marketing_post = serializers.BooleanField(required=False, default=False)
    registration_ip = IpField(required=False, help_text="The player's IP at sign-up (not the platform's)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        region = (attrs.get("region") or "").upper()
        if region and not validation.region_ok(region, attrs["country"]):
            raise serializers.ValidationError({"region": ["Unknown region for this country (ISO 3166-2, e.g. CA-ON)."]})
        attrs["region"] = region
        attrs["email"] = attrs["email"].strip()
        return attrs


class PlayerPatchInput(serializers.Serializer):
    username = TextField(max_length=64, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, help_text="female, male, other or empty")
    email = serializers.EmailField(max_length=254, required=False)
    phone = PhoneField(required=False, allow_blank=True)
    address_line = TextField(max_length=200, required=False, allow_blank=True, multiline=True)
    city = TextField(max_length=100, required=False, allow_blank=True)
    postal_code = TextField(max_length=20, required=False, allow_blank=True)
    language = serializers.RegexField(r"^[a-z]{2}(-[A-Za-z]{2})?$", required=False)
    affiliate_tag = TextField(max_length=64, required=False, allow_blank=True)
    terms_version = TextField(max_length=20, required=False, allow_blank=True)
    marketing_email = serializers.BooleanField(required=False)
    marketing_sms = serializers.BooleanField(required=False)
    marketing_phone = serializers.BooleanField(required=False)
    marketing_post = serializers.BooleanField(required=False)


class EligibilityQuery(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    ip = IpField(required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    game_category = serializers.ChoiceField(choices=GameCategory.choices, required=False)


class LoginInput(serializers.Serializer):
    ip = IpField()
    user_agent = TextField(max_length=400, required=False, allow_blank=True, default="")
    device_id = TextField(max_length=128, required=False, allow_blank=True, default="")


class GeoCheckQuery(serializers.Serializer):
    country = CountryField(required=False)
    region = serializers.CharField(max_length=6, required=False, allow_blank=True, default="")
    ip = IpField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("country") and not attrs.get("ip"):
            raise serializers.ValidationError({"country": ["Give a country, an ip, or both."]})
        region = (attrs.get("region") or "").upper()
        if region and (not attrs.get("country") or not validation.region_ok(region, attrs["country"])):
            raise serializers.ValidationError({"region": ["Unknown region for this country."]})
        attrs["region"] = region
        return attrs


PLAYER_FIELDS = (
    "external_id",
    "username",
    "email",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "phone",
    "address_line",
    "city",
    "postal_code",
    "country",
    "region",
    "currency",
    "language",
    "registration_ip",
    "registration_ip_country",
    "created_at",
    "updated_at",
    "last_login_at",
    "last_login_ip",
    "vip_tier",
    "affiliate_tag",
    "marketing_email",
    "marketing_email_at",
    "marketing_sms",
    "marketing_sms_at",
    "marketing_phone",
    "marketing_phone_at",
    "marketing_post",
    "marketing_post_at",
    "terms_version",
    "terms_accepted_at",
    "status",
    "blocked_deposit",
    "blocked_bet",
    "blocked_withdrawal",
    "blocked_bonus",
    "blocked_marketing",
)


def player_dict(player: Player) -> dict[str, Any]:
    """What the platform sees of a player: never staff notes, reasons or identity hashes."""
    out: dict[str, Any] = {}
    for name in PLAYER_FIELDS:
        value = getattr(player, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


class PlayerOutput(serializers.Serializer):
    """For the schema only (responses are built by ``player_dict``, whose fields these are)."""

    external_id = serializers.CharField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    gender = serializers.CharField(allow_blank=True, help_text="female, male, other, or empty: not recorded")
    phone = serializers.CharField(allow_blank=True, help_text="E.164, or empty")
    address_line = serializers.CharField(allow_blank=True, help_text="May hold line breaks (\\n)")
    city = serializers.CharField(allow_blank=True)
    postal_code = serializers.CharField(allow_blank=True)
    country = serializers.CharField()
    region = serializers.CharField(allow_blank=True)
    currency = serializers.CharField()
    language = serializers.CharField()
    registration_ip = serializers.IPAddressField(allow_null=True)
    registration_ip_country = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_login_at = serializers.DateTimeField(allow_null=True)
    last_login_ip = serializers.IPAddressField(allow_null=True)
    vip_tier = serializers.CharField(allow_blank=True)
    affiliate_tag = serializers.CharField(allow_blank=True)
    marketing_email = serializers.BooleanField()
    marketing_email_at = serializers.DateTimeField(allow_null=True)
    marketing_sms = serializers.BooleanField()
    marketing_sms_at = serializers.DateTimeField(allow_null=True)
    marketing_phone = serializers.BooleanField()
    marketing_phone_at = serializers.DateTimeField(allow_null=True)
    marketing_post = serializers.BooleanField()
    marketing_post_at = serializers.DateTimeField(allow_null=True)
    terms_version = serializers.CharField(allow_blank=True)
    terms_accepted_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=PlayerStatus.choices)
    blocked_deposit = serializers.BooleanField()
    blocked_bet = serializers.BooleanField()
    blocked_withdrawal = serializers.BooleanField()
    blocked_bonus = serializers.BooleanField()
    blocked_marketing = serializers.BooleanField()


class EligibilityOutput(serializers.Serializer):
    allowed = serializers.BooleanField()
    action = serializers.ChoiceField(choices=Action.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    restrictions = serializers.DictField()
    jurisdiction = serializers.CharField(allow_null=True)


class LoginOutput(EligibilityOutput):
    login_id = serializers.IntegerField()


class GeoDecisionOutput(serializers.Serializer):
    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    jurisdiction = serializers.CharField(allow_null=True)
    ip_country = serializers.CharField(allow_null=True)
    ip_source = serializers.CharField(allow_null=True)
    explanation = serializers.ListField(child=serializers.CharField())


class GeoCheckOutput(serializers.Serializer):
    registration = GeoDecisionOutput()
    play = GeoDecisionOutput()
    min_age = serializers.IntegerField(allow_null=True)
    allowed_currencies = serializers.ListField(child=serializers.CharField())


REGISTER_EXAMPLE = OpenApiExample(
    "A player in Great Britain",
    request_only=True,
    value={
        "external_id": "demo-1001",
        "username": "ada",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-12-10",
        "address_line": "Flat 2\n10 Downing Street",
        "city": "London",
        "postal_code": "SW1A 2AA",
        "country": "GB",
        "currency": "GBP",
        "registration_ip": "81.2.69.160",
        "marketing_email": True,
    },
)
