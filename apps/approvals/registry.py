"""The kinds of change that go through maker-checker, registered at start-up by the apps that own them.

apps.approvals imports no feature app: each app registers its kinds at start-up (:func:`register_kind`, from
code its ``AppConfig.ready`` runs) with their permissions and callbacks. ``apply(approval, actor)`` makes the
change once approved (or at once when the amount is below the threshold); ``on_reject(approval, actor)`` puts the
owning app's rows in their refused state; ``on_expire(approval, actor)``, if given, puts them where a request
nobody decided in time leaves them (the actor is the system; a kind without it never expires). Each runs inside
the decision's transaction: raising an ``ApplicationError`` there refuses the decision and rolls it back, so a
checker can never approve what the owning app's rules would refuse now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.approvals.choices import RollingScope

if TYPE_CHECKING:
    from apps.approvals.models import Approval

Callback = Callable[["Approval", Any], None]


@dataclass(frozen=True)
class ApprovalKind:
    code: str  # "<app_label>.<what>", stored on the row
    label: str  # in the operator's words, for the inbox
    request_permission: str  # "app_label.codename": who may ask (the maker)
    decide_permission: str  # who may decide (the checker), re-checked at decision time
    apply: Callback
    on_reject: Callback
    # The setting holding the threshold in EUR from which a second person is needed; None: always needed.
    threshold_setting: str | None = None
    rolling_scope: str = RollingScope.MAKER_AND_PLAYER
    on_expire: Callback | None = None
    # Where the inbox links the target when it has no admin page of its own (a KYC document: its review page)
    target_url: Callable[[Approval], str | None] | None = None


_KINDS: dict[str, ApprovalKind] = {}


def register_kind(kind: ApprovalKind) -> None:
    """Called from the owning app's ``ready()``. Registering the same code twice with other callbacks is a bug."""
    known = _KINDS.get(kind.code)
    if known is not None and known != kind:
        raise ValueError(f"approval kind {kind.code!r} is already registered differently")
    if kind.rolling_scope not in RollingScope.values:
        raise ValueError(f"approval kind {kind.code!r}: unknown rolling scope {kind.rolling_scope!r}")
    _KINDS[kind.code] = kind


def kind_for(code: str) -> ApprovalKind:
    try:
        return _KINDS[code]
    except KeyError as exc:
        raise LookupError(f"no approval kind {code!r} is registered") from exc


def kinds() -> list[ApprovalKind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)
