"""Domain errors. Each has a stable ``code`` that the API, the admin and the tests all speak.

Every code is a class: a subclass of one of the bases below declares ``code`` (and ``when``, the one line the
public list in docs/ERRORS.md shows) and registers itself in ``CATALOGUE`` when its module is imported. The
domain is the app of the defining module (``apps.wallet.errors`` -> ``wallet``) unless the class names one. A
service raises the class (``raise WithdrawalNotOpen("...")``); ``manage.py error_catalogue`` prints the public
list from the catalogue, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Documented:
    """One public code: its status, the domain it is listed under, and when it is answered."""

    code: str
    status: int
    domain: str | None
    when: str
    source: str  # the class (module.Name) or declaration that answers it


# code -> its entry; the public list is the entries with a domain (classes outside ``apps`` have none).
CATALOGUE: dict[str, Documented] = {}


class UndeclaredErrorCode(UserWarning):
    """A raise passed ``code=`` with a code no class declares (an error in the test suite, see pyproject)."""


def _register(entry: Documented) -> None:
    known = CATALOGUE.get(entry.code)
    if known is not None and known.status != entry.status:
        raise TypeError(
            f"Error code {entry.code!r} is declared with status {entry.status} by {entry.source}"
            f" and with status {known.status} by {known.source}."
        )
    if known is None or (known.domain is None and entry.domain is not None):
        CATALOGUE[entry.code] = entry


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "apps" else None


def declare(*, code: str, status: int, when: str, domain: str) -> None:
    """A code answered without an ``ApplicationError`` class (the API plumbing: DRF and the exception handler)."""
    _register(Documented(code=code, status=status, domain=domain, when=when, source=f"declare({code!r})"))


class ApplicationError(Exception):
    """Base of every domain error. ``status`` is the HTTP status the API answers with."""

    code: ClassVar[str] = "application_error"
    status: ClassVar[int] = 400
    default_message = "The request could not be completed."
    domain: ClassVar[str | None] = "api"
    when: ClassVar[str] = "a refusal of a service that names no code of its own"
    # A class whose raise sites pass codes that are not error classes (the posting refused by eligibility answers
    # its first reason, listed in docs/ERRORS.md's "Eligibility reasons").
    dynamic_code: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            return  # an intermediate base that answers its parent's code
        domain = cls.__dict__.get("domain", _domain_of(cls.__module__))
        if _domain_of(cls.__module__) is None:
            domain = None  # classes outside apps (tests) are checked but never listed
        when = cls.__dict__.get("when") or (cls.__doc__ or "").strip().split("\n")[0]
        _register(
            Documented(
                code=cls.code, status=cls.status, domain=domain, when=when, source=f"{cls.__module__}.{cls.__name__}"
            )
        )

    def __init__(self, message: str | None = None, *, code: str | None = None, fields: dict[str, Any] | None = None):
        self.message = message or self.default_message
        if code and code != type(self).code:
            if code not in CATALOGUE and not self.dynamic_code:
                warnings.warn(
                    f"{type(self).__name__} raised with code {code!r}, which no error class declares:"
                    " declare a subclass with this code (docs/ERRORS.md lists the classes).",
                    UndeclaredErrorCode,
                    stacklevel=2,
                )
            self.code = code  # type: ignore[misc]
        self.fields = fields or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "invalid"
    domain = "api"  # listed with the API plumbing
    default_message = "The input is not valid."
    when = "a field is wrong: `fields` names each one"


class NotFound(ApplicationError):
    code = "not_found"
    domain = "api"  # listed with the API plumbing
    status = 404
    default_message = "Not found."
    when = "no such route under `/api/` (any method), or no such object"


class Conflict(ApplicationError):
    code = "conflict"
    domain = "api"  # listed with the API plumbing
    status = 409
    default_message = "The request conflicts with the current state."
    when = "a refusal of the current state that names no code of its own"


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    domain = "api"  # listed with the API plumbing
    status = 403
    default_message = "You do not have permission to perform this action."
    when = "the staff member or client may not do this, and no narrower code says why"


class ServiceUnavailable(ApplicationError):
    code = "service_unavailable"
    domain = "api"  # listed with the API plumbing
    status = 503
    default_message = "A service this request needs is unavailable; retry after the number of seconds in Retry-After."
    when = (
        "PostgreSQL, Redis or the task broker cannot serve the request right now (down, restarting, read-only);"
        " retry after `Retry-After` seconds, with the same `Idempotency-Key` (a posting that did commit is then"
        " answered as the replay it is)"
    )

    def __init__(self, message: str | None = None, *, dependency: str = "", retry_after: int = 5) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.retry_after = retry_after


# ApplicationError registers itself (``__init_subclass__`` runs for subclasses only).
_register(
    Documented(
        code=ApplicationError.code,
        status=ApplicationError.status,
        domain="api",
        when=ApplicationError.when,
        source="apps.core.errors.ApplicationError",
    )
)


def public_catalogue() -> dict[str, list[Documented]]:
    """The listed codes by domain, each domain's codes by status, then code (after every errors module loaded)."""
    by_domain: dict[str, list[Documented]] = {}
    for entry in CATALOGUE.values():
        if entry.domain is not None:
            by_domain.setdefault(entry.domain, []).append(entry)
    return {d: sorted(entries, key=lambda e: (e.status, e.code)) for d, entries in sorted(by_domain.items())}


# Classes shared by several apps (generated by the error codemod) follow.


class AmountInvalid(ValidationFailed):
    code = "amount_invalid"
    domain = "wallet"
    when = "not a plain decimal string in the currency's minor unit (no JSON numbers, exponents, NaN, separators)"


class EmailTaken(Conflict):
    code = "email_taken"
    domain = "players"
    when = "another player of the same brand has this e-mail (also: another staff member, for staff)"


class PlayerNotFound(NotFound):
    code = "player_not_found"
    domain = "players"
    when = "no such player in the client's brands"


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    domain = "players"
    when = "a staff decision without a reason"


class SameApprover(Conflict):
    code = "same_approver"
    domain = "players"
    when = (
        "the second person of a maker-checker pair is the first one (lifts, corrections, approvals, identity changes)"
    )
