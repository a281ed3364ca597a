"""The staff app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, ValidationFailed


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"
    when = "the staff member already has a second factor"


class InvalidToken(ValidationFailed):
    code = "invalid_token"
    when = "a wrong one-time code"


class NoEnrolment(Conflict):
    code = "no_enrolment"
    when = "no second-factor enrolment in progress"


class RolesMissing(ValidationFailed):
    code = "roles_missing"
    when = "a role's group is missing (run migrations)"


class UsernameTaken(Conflict):
    code = "username_taken"
    when = "another staff member has this username"
