"""The players app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed


class AuthorityInvalid(ValidationFailed):
    code = "authority_invalid"
    when = "unknown restriction authority"


class AuthorityRequired(PermissionDenied):
    code = "authority_required"
    when = (
        "the staff member does not act for the restriction's authority (compliance, responsible gambling, finance, "
        "support), or the system tried to lift a protected restriction"
    )


class BlockUnchanged(Conflict):
    code = "block_unchanged"
    when = "the capability is already (un)blocked"


class BrandNotAllowed(ValidationFailed):
    code = "brand_not_allowed"
    when = "the registration names a brand the client does not serve"


class BrandRequired(ValidationFailed):
    code = "brand_required"
    when = "the client serves several brands and the registration names none"


class ExternalIdTaken(Conflict):
    code = "external_id_taken"
    when = "another player has this external id (unique across brands)"


class FieldReadOnly(ValidationFailed):
    code = "field_read_only"
    when = "the platform tried to change a staff-only field (name, birth date, residence, currency)"


class PlayerExists(Conflict):
    code = "player_exists"
    when = "a concurrent registration won the race for the same key"


class RegistrationRefused(ValidationFailed):
    code = "registration_refused"
    when = (
        "residence unlicensed or closed to registrations, IP blocked, under age, currency not allowed, or a "
        "national register says excluded (`fields` gives each reason)"
    )


class StatusUnchanged(Conflict):
    code = "status_unchanged"
    when = "the account already has this status"


class VisibilityInvalid(ValidationFailed):
    code = "visibility_invalid"
    when = "unknown note visibility"


class VisibilityNotAllowed(PermissionDenied):
    code = "visibility_not_allowed"
    when = "only staff with `players.view_compliance` write compliance notes"
