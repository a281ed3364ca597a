"""Who may read a reason or a note. Compliance reasons (an AML review, a source-of-funds question) are shown only
to staff with ``players.view_compliance``: anyone else could tip the player off, a criminal offence.

Records written with ``visibility="compliance"`` (restrictions, notes, the audit data of their events) are
filtered or redacted through these helpers wherever staff read them: the player page, lists, audit views.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

COMPLIANCE = "compliance"
PERMISSION = "players.view_compliance"
REDACTED = "[compliance only]"
# the free-text keys of audit data that may carry a compliance reason
TEXT_KEYS = frozenset({"reason", "lift_reason", "text", "summary", "note"})


def sees_compliance(user: Any) -> bool:
    return bool(user is not None and user.has_perm(PERMISSION))


def visible_text(text: str, visibility: str, user: Any) -> str:
    return text if visibility != COMPLIANCE or sees_compliance(user) else REDACTED


def visible_data(data: Any, user: Any) -> Any:
    """Audit data as ``user`` may read it: the free text of a compliance event is redacted."""
    if not isinstance(data, dict) or data.get("visibility") != COMPLIANCE or sees_compliance(user):
        return data
    return {k: (REDACTED if k in TEXT_KEYS else v) for k, v in data.items()}


_viewer: ContextVar[Any] = ContextVar("viewer", default=None)


def viewer() -> Any:
    """The staff member an admin page is being rendered for (see ``ViewerAdminMixin``), or None."""
    return _viewer.get()


class ViewerAdminMixin:
    """Admin display methods get no request: this mixin renders the changelist and the change page with the
    viewer known to ``viewer()``, so a column can redact what that staff member may not read."""

    def _as_viewer(self, request: Any, view: Any, *args: Any, **kwargs: Any) -> Any:
        token = _viewer.set(request.user)
        try:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response
        finally:
            _viewer.reset(token)

    def changelist_view(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self._as_viewer(request, super().changelist_view, *args, **kwargs)  # type: ignore[misc]

    def change_view(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self._as_viewer(request, super().change_view, *args, **kwargs)  # type: ignore[misc]
