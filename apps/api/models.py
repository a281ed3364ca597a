from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from apps.api.scopes import ALL_SCOPES, Scope
from apps.audit.choices import ActorType
from apps.core.net import ip_in_networks


def _validate_scopes(value: list[str]) -> None:
    unknown = sorted(set(value) - set(ALL_SCOPES))
    if unknown:
        raise ValidationError(f"Unknown scopes: {', '.join(unknown)}")


def _validate_networks(value: list[str]) -> None:
    import ipaddress

    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValidationError(f"{network!r} is not a CIDR network") from exc


class ApiClient(AbstractAPIKey):
    """A platform client (game platform, payment page, lobby) and its hashed key.

    Only the key's prefix and SHA-512 hash are stored: the key itself is shown once, at creation.
    """

    scopes = ArrayField(
        models.CharField(max_length=32, choices=Scope.choices),
        default=list,
        blank=True,
        validators=[_validate_scopes],
    )
    allowed_networks = ArrayField(
        models.CharField(max_length=49),
        default=list,
        blank=True,
        validators=[_validate_networks],
        help_text="CIDR networks the client may call from; empty means anywhere.",
    )
    throttle_rate = models.CharField(
        max_length=20,
        blank=True,
        help_text="Requests per period, e.g. 6000/min; empty means the default (API_DEFAULT_THROTTLE_RATE).",
    )
    brands = models.ManyToManyField(
        "players.Brand",
        related_name="api_clients",
        blank=True,
        help_text="The brands whose players this client may see and register; every other player is a 404.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_url = models.URLField(
        blank=True, help_text="Where player events (exclusions, blocks, limit changes) are POSTed; empty: none."
    )
    webhook_secret = models.CharField(
        max_length=64, blank=True, editable=False, help_text="Signs the webhooks (HMAC-SHA256); set with the URL."
    )

    class Meta(AbstractAPIKey.Meta):
        db_table = "api_client"
        verbose_name = "API client"
        verbose_name_plural = "API clients"

    @property
    def audit_pk(self) -> str:
        """The primary key embeds the key's hash; the trail names the client by its prefix instead."""
        return self.prefix

    def audit_identity(self) -> tuple[str, str, str]:
        return (ActorType.API_CLIENT, self.prefix, self.name)

    def allows_ip(self, ip: str | None) -> bool:
        return not self.allowed_networks or ip_in_networks(ip, self.allowed_networks)

    def has_scopes(self, required: set[str]) -> bool:
        return required.issubset(self.scopes)
