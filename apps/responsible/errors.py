"""The responsible app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed


class AlreadyCorrected(Conflict):
    code = "already_corrected"
    when = "the exclusion was already superseded by a correction"


class AlreadyDecided(Conflict):
    code = "already_decided"
    domain = "players"
    when = "a correction or identity change that was already applied or refused"


class ChangeLapsed(Conflict):
    code = "change_lapsed"
    when = "the confirmation window has passed"


class ChangeNotPending(Conflict):
    code = "change_not_pending"
    when = "confirm a limit change that is applied, cancelled or lapsed"


class CoolingOffPending(Conflict):
    code = "cooling_off_pending"
    when = "the cooling-off of a return or a limit increase is still running"


class CorrectionEndsInPast(ValidationFailed):
    code = "correction_ends_in_past"
    when = "the corrected term, from the original start, has already ended: a correction never ends an exclusion"


class ExclusionActive(Conflict):
    code = "exclusion_active"
    when = "a longer time-out or self-exclusion is in force; a return before the term ended"


class LiftPending(Conflict):
    code = "lift_pending"
    when = "a lift is already requested"


class LimitInvalid(ValidationFailed):
    code = "limit_invalid"
    when = "an unknown kind or period, or a value that is not a positive decimal string (too precise, too big)"


class NoExclusion(Conflict):
    code = "no_exclusion"
    when = "a return request without a self-exclusion in force"


class NoLiftRequest(Conflict):
    code = "no_lift_request"
    when = "a lift decision without a request"


class NotCorrectable(Conflict):
    code = "not_correctable"
    when = "operator exclusions are lifted, not corrected"


class NotInForce(Conflict):
    code = "not_in_force"
    when = "the exclusion has ended"


class NotLiftable(PermissionDenied):
    code = "not_liftable"
    when = "only operator exclusions are lifted (never a player's own time-out or self-exclusion)"


class NothingToChange(ValidationFailed):
    code = "nothing_to_change"
    domain = "players"
    when = "an identity change request that changes nothing"


class StaffOnly(PermissionDenied):
    code = "staff_only"
    domain = "players"
    when = "only staff members correct a player's identity"


class TermNotAllowed(ValidationFailed):
    code = "term_not_allowed"
    when = "a time-out or self-exclusion term the jurisdiction does not offer (corrections included)"
