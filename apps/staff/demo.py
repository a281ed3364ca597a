"""The staff's demo data: one member per role, and the demo administrator's credentials (``make run``).

Registered with ``apps.core.demo`` from ``StaffConfig.ready()``; never used in production (``DEMO_TOOLS``)."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.services import AuditActor, audit_log
from apps.core.demo import DemoCredentials
from apps.staff import otp
from apps.staff.models import StaffUser
from apps.staff.roles import ADMINISTRATOR, ROLES
from apps.staff.services import generate_password, staff_create, staff_set_roles

DEMO_ADMIN = "demo-admin"


def seed_staff(*, actor: AuditActor | None, count: int | None = None) -> list[str]:
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


def demo_administrator(*, actor: AuditActor | None) -> DemoCredentials:
    """The demo administrator with a fresh password (the TOTP device is kept). Runs in ``demo_access``'s
    transaction."""
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
    secret, uri = otp.base32_secret(device), otp.provisioning_uri(device)
    return DemoCredentials(
        lines=[
            "Demo administrator (role Administrator) at http://127.0.0.1:8000/admin/",
            f"  username:    {user.username}",
            f"  password:    {password}",
            f"  TOTP secret: {secret}",
            f"  otpauth URI: {uri}",
            f"  (add the secret to an authenticator app, or: .venv/bin/python manage.py totp_code {user.username})",
        ],
        values={"username": user.username, "password": password, "totp_secret": secret, "otpauth_uri": uri},
    )
