"""Demo data for ``make run``. Never loaded in production (``DEMO_TOOLS`` is off there)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.api.models import ApiClient
from apps.api.scopes import ALL_SCOPES
from apps.api.services import api_client_create, api_client_revoke
from apps.audit.services import AuditActor, audit_log
from apps.players.demo import demo_brand
from apps.staff import otp
from apps.staff.models import StaffUser
from apps.staff.roles import ADMINISTRATOR, ROLES
from apps.staff.services import generate_password, staff_create, staff_set_roles

DEMO_ADMIN = "demo-admin"
DEMO_API_CLIENT = "Demo platform"


@dataclass(frozen=True)
class DemoAccess:
    username: str
    password: str
    totp_secret: str
    otpauth_uri: str
    api_key: str


def seed_demo(*, actor: AuditActor | None) -> list[str]:
    """One demo staff member per role but Administrator (``demo_access`` makes that one). Idempotent.

    They have no usable password and no device: an administrator sets a password in the admin, and the member
    enrols an authenticator at first login.
    """
    created = []
    for role in ROLES:
        username = "demo-" + role.lower().replace(" ", "-")
        if role == ADMINISTRATOR or StaffUser.objects.filter(username=username).exists():
            continue
        staff_create(
            actor=actor,
            username=username,
            email=f"{username}@staff.invalid",
            roles=[role],
            with_device=False,
        )
        created.append(f"staff member {username} ({role}); set a password in the admin to use it")
    return created


@transaction.atomic
def demo_access(*, actor: AuditActor | None) -> DemoAccess:
    """The demo administrator with a fresh password (the TOTP device is kept), and a fresh demo API key."""
    user = StaffUser.objects.filter(username=DEMO_ADMIN).first()
    password = generate_password()
    if user is None:
        user, password, _device = staff_create(
            actor=actor,
            username=DEMO_ADMIN,
            email=f"{DEMO_ADMIN}@staff.invalid",
            roles=[ADMINISTRATOR],
            password=password,
        )
    else:
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        staff_set_roles(actor=actor, user=user, roles=[ADMINISTRATOR])
        audit_log(actor=actor, action="staff.password_reset", target=user, data={"reason": "demo access"})
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=otp.TOTP_DEVICE_NAME, confirmed=True)
        audit_log(actor=actor, action="staff.enrolled", target=user, data={"by": "demo access"})
    for old in ApiClient.objects.filter(name=DEMO_API_CLIENT, revoked=False):
        api_client_revoke(actor=actor, client=old, reason="replaced by a new demo key")
    _client, key = api_client_create(actor=actor, name=DEMO_API_CLIENT, scopes=ALL_SCOPES, brands=[demo_brand()])
    return DemoAccess(
        username=user.username,
        password=password,
        totp_secret=otp.base32_secret(device),
        otpauth_uri=otp.provisioning_uri(device),
        api_key=key,
    )
