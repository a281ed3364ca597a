"""Staff accounts, roles and second factors. Every change is audited in its own transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import EmailTaken, PermissionDenied, ValidationFailed
from apps.staff import otp
from apps.staff.errors import AlreadyEnrolled, InvalidToken, NoEnrolment, RolesMissing, UsernameTaken
from apps.staff.models import StaffUser
from apps.staff.roles import ROLES

# Fields whose new values are safe to copy into the audit trail.
AUDITED_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def _role_groups(roles: Iterable[str]) -> list[Group]:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValidationFailed(
            f"Unknown role(s): {', '.join(unknown)}.", fields={"role": [f"Choose from: {', '.join(ROLES)}."]}
        )
    groups = list(Group.objects.filter(name__in=roles))
    if len(groups) != len(roles):
        raise RolesMissing("A role's group is missing: run migrations.")
    return groups


@transaction.atomic
def staff_create(
    *,
    actor: AuditActor | None,
    username: str,
    email: str,
    roles: Iterable[str],
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    with_device: bool = True,
) -> tuple[StaffUser, str, TOTPDevice | None]:
    """Create a staff member (optionally with a confirmed TOTP device, for scripts); returns the password."""
    groups = _role_groups(roles)
    if StaffUser.objects.filter(username=username).exists():
        raise UsernameTaken(f"A staff member named {username!r} exists.")
    if StaffUser.objects.filter(email__iexact=email).exists():
        raise EmailTaken(f"A staff member with e-mail {email!r} exists.")
    user = StaffUser(username=username, email=email, first_name=first_name, last_name=last_name, is_staff=True)
    password = password or generate_password()
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed("The password is too weak.", fields={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save()
    user.groups.set(groups)
    device = None
    if with_device:
        device = TOTPDevice.objects.create(user=user, name=otp.TOTP_DEVICE_NAME, confirmed=True)
    audit_log(
        actor=actor,
        action="staff.created",
        target=user,
        data={"roles": sorted(g.name for g in groups), "with_device": with_device},
    )
    return user, password, device


@transaction.atomic
def staff_save(*, actor: AuditActor | None, user: StaffUser, created: bool, changed: Iterable[str]) -> StaffUser:
    """Save a staff member edited in the admin and audit which fields changed (never the password)."""
    changed = [f for f in changed if f != "groups"]
    if created:
        user.is_staff = True  # this model holds staff only
    user.save()
    data: dict[str, Any] = {f: getattr(user, f) for f in changed if f in AUDITED_FIELDS}
    if "password" in changed or "password1" in changed:
        data["password"] = "changed"  # noqa: S105  (a marker, never the password)
    audit_log(actor=actor, action="staff.created" if created else "staff.updated", target=user, data=data)
    return user


@transaction.atomic
def staff_set_roles(*, actor: AuditActor | None, user: StaffUser, roles: Iterable[str]) -> StaffUser:
    groups = _role_groups(roles)
    before = sorted(user.groups.values_list("name", flat=True))
    after = sorted(g.name for g in groups)
    if before != after:
        user.groups.set(groups)
        audit_log(actor=actor, action="staff.roles_changed", target=user, data={"old": before, "new": after})
    return user


@transaction.atomic
def staff_reset_second_factor(*, actor: AuditActor | None, user: StaffUser, reason: str) -> StaffUser:
    """Remove a staff member's devices (a lost phone): they must enrol again at their next login. A staff member
    asking needs ``staff.reset_second_factor`` (the system and scripts, as ``None`` or a system actor, need none)."""
    if isinstance(actor, StaffUser) and not actor.has_perm("staff.reset_second_factor"):
        raise PermissionDenied("Resetting a second factor needs the permission to (Administrators).")
    if not reason.strip():
        raise ValidationFailed("A reason is required.", fields={"reason": ["A reason is required."]})
    totp_count, _ = TOTPDevice.objects.filter(user=user).delete()
    static_count, _ = StaticDevice.objects.filter(user=user).delete()
    audit_log(
        actor=actor,
        action="staff.second_factor_reset",
        target=user,
        data={"reason": reason, "devices_removed": totp_count + static_count},
    )
    return user


@transaction.atomic
def staff_enrolment_start(*, user: StaffUser) -> TOTPDevice:
    """The staff member's unconfirmed authenticator device, made on the first call and the same one after: the
    secret stays put until a code confirms it (a reload of the page must not break a code already scanned).
    Only an administrator's reset (``staff_reset_second_factor``) discards it."""
    if otp.has_confirmed_device(user):
        raise AlreadyEnrolled("A second factor is already enrolled.")
    # the user row is the lock: two tabs opening the page at once make one device, not two
    StaffUser.objects.select_for_update().filter(pk=user.pk).first()
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id")
    device = pending.first()
    if device is not None:
        pending.exclude(pk=device.pk).delete()  # strays from before this rule: one secret only
        return device
    device = TOTPDevice.objects.create(user=user, name=otp.TOTP_DEVICE_NAME, confirmed=False)
    audit_log(actor=user, action="staff.enrolment_started", target=user)
    return device


@transaction.atomic
def staff_enrolment_confirm(*, request: HttpRequest, user: StaffUser, token: str) -> list[str]:
    """Confirm the pending device with a code from it, verify the session, and issue backup codes."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise NoEnrolment("There is no enrolment in progress; reload the page.")
    if not device.verify_token(otp.normalise_token(token)):
        raise InvalidToken(
            "That code is not right. Check the time on your phone.",
            fields={"token": ["That code is not right."]},
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=otp.BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.STAFF_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    otp_login(request, device)
    audit_log(actor=user, action="staff.enrolled", target=user, data={"backup_codes": len(codes)})
    return codes


def staff_password_changed(*, actor: AuditActor | None, user: StaffUser) -> None:
    """Record a password change made by Django's password forms (they save the hash themselves).

    Callers wrap the form's save and this call in one transaction.
    """
    audit_log(actor=actor, action="staff.password_changed", target=user, data={"by_self": actor == user})


def staff_logged_in(*, user: StaffUser, verified: bool) -> None:
    audit_log(actor=user, action="staff.logged_in", target=user, data={"otp_verified": verified})
