"""Who may read a reason or a note. Compliance reasons (an AML review, a source-of-funds question) are shown only
to staff with ``players.view_compliance``: anyone else could tip the player off, a criminal offence.

Records written with ``visibility="compliance"`` (restrictions, notes, the audit data of their events) are
filtered or redacted through these helpers wherever staff read them: the player page, lists, audit views.
"""

from __future__ import annotations

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
