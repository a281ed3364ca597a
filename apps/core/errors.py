"""Domain errors. Each has a stable ``code`` that the API, the admin and the tests all speak."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """Base of every domain error. ``status`` is the HTTP status the API answers with."""

    code = "application_error"
    status = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, code: str | None = None, fields: dict[str, Any] | None = None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "invalid"
    default_message = "The input is not valid."


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(ApplicationError):
    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403
    default_message = "You do not have permission to perform this action."
