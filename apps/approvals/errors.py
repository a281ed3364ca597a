"""The approvals app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, PermissionDenied


class ApprovalNotPending(Conflict):
    code = "approval_not_pending"
    when = (
        "decide a request that is already approved, rejected, cancelled or went through below the threshold (two "
        "checkers at once: the second one gets this)"
    )


class ApprovalNotPermitted(PermissionDenied):
    code = "approval_not_permitted"
    when = (
        "the maker lacks the kind's permission to ask, or the checker lacks the permission to decide at the moment "
        "of the decision (a role taken away since the request counts)"
    )


class ApprovalPending(Conflict):
    code = "approval_pending"
    when = "a request of this kind for this target is already waiting for a decision"
