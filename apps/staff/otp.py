"""Staff second factor: TOTP devices (an authenticator app) and static backup codes (django-otp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

if TYPE_CHECKING:
    from django_otp.models import Device

    from apps.staff.models import StaffUser

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def has_confirmed_device(user: StaffUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def normalise_token(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()


def device_for_token(user: StaffUser, token: str) -> Device | None:
    """Six digits are an authenticator code; anything else is tried as a backup code."""
    if token.isdigit() and len(token) == 6:
        return TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def provisioning_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code (issuer from ``OTP_TOTP_ISSUER``)."""
    return str(device.config_url)


def base32_secret(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
