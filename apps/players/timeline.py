"""The player's audit history as staff read it: a label per event, field changes as old → new, and the many
``player.viewed`` rows folded into one line. Free text of compliance events is redacted for the viewer
(apps.core.visibility) before anything is worded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Subquery

from apps.audit.selectors import audit_events_for
from apps.core.visibility import visible_data

LABELS: dict[str, str] = {
    "player.registered": "Registered",
    "player.updated": "Profile changed",
    "player.note_added": "Note added",
    "player.tags_changed": "Tags changed",
    "player.suspended": "Account suspended",
    "player.blocked": "Account blocked",
    "player.closed": "Account closed",
    "player.reactivated": "Account reactivated",
    "player.restriction_lift_requested": "Lift of a restriction asked (a second person confirms)",
    "rg.self_excluded": "Self-excluded",
    "rg.timed_out": "Took a time-out",
    "rg.operator_excluded": "Excluded or blocked by the operator",
    "rg.return_requested": "Asked to return after a self-exclusion",
    "rg.lift_requested": "Lift of an operator exclusion asked",
    "rg.lift_approved": "Operator exclusion lifted",
    "rg.lift_refused": "Lift of an operator exclusion refused",
    "rg.lift_expired": "Lift request expired (nobody decided)",
    "rg.correction_requested": "Correction of an exclusion asked",
    "rg.correction_applied": "Correction of an exclusion applied",
    "rg.correction_refused": "Correction of an exclusion refused",
    "rg.correction_expired": "Correction request expired",
    "rg.coverage_recorded": "Exclusion coverage recorded",
    "rg.identity_change_requested": "Identity change held for a second person",
    "rg.identity_change_applied": "Identity change applied",
    "rg.identity_change_refused": "Identity change refused",
    "rg.interaction_recorded": "Interaction recorded",
    "rg.limit_set": "Limit set",
    "rg.limit_increase_requested": "Limit increase asked",
    "rg.limit_increase_confirmed": "Limit increase confirmed",
    "rg.limit_increase_lapsed": "Limit increase lapsed",
}
FIELD_NAMES = {
    "first_name": "first name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "address_line": "address",
    "postal_code": "postal code",
    "vip_tier": "VIP tier",
    "ends_at": "ends",
    "note_id": "note",
}
HIDDEN_KEYS = frozenset({"visibility", "length", "approval", "blocked"})
VIEWED = "player.viewed"


@dataclass
class TimelineRow:
    at: datetime
    actor: str
    label: str
    details: list[str]


@dataclass
class Timeline:
    rows: list[TimelineRow]
    views: int
    last_view: Any  # the newest player.viewed event, or None


def label(action: str) -> str:
    if action in LABELS:
        return LABELS[action]
    if action.startswith("player.blocked_for_"):
        return f"{action.removeprefix('player.blocked_for_').capitalize()} blocked"
    if action.startswith("player.unblocked_for_"):
        return f"{action.removeprefix('player.unblocked_for_').capitalize()} unblocked"
    return action.split(".", 1)[-1].replace("_", " ").capitalize()


def _value(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "none"
    return str(value)


def details(action: str, data: Any) -> list[str]:
    """The event's data as short lines: ``name: old → new`` for a change, ``name: value`` otherwise."""
    if not isinstance(data, dict):
        return [] if data in (None, "", {}) else [str(data)]
    lines = []
    if "old" in data and "new" in data:  # a status or the tags: one change
        lines.append(f"{_value(data['old'])} → {_value(data['new'])}")
    for key, value in data.items():
        if key in HIDDEN_KEYS or key in ("old", "new"):
            continue
        name = FIELD_NAMES.get(key, key.replace("_", " "))
        if isinstance(value, dict) and "old" in value and "new" in value:
            lines.append(f"{name}: {_value(value['old'])} → {_value(value['new'])}")
        elif key in ("exclusion", "replacement", "request", "restriction", "correction") and value:
            lines.append(f"{name} #{value}")
        else:
            lines.append(f"{name}: {_value(value)}")
    return lines


def player_timeline(player: Any, user: Any, *, limit: int = 50) -> Timeline:
    """The newest ``limit`` events but views, and the views as a count with the latest one."""
    events = audit_events_for(player)
    # every action but views, as two ranges of audit_target_action_idx: "action <> viewed" walked every view of the
    # player, a cost that grew with each view of the page (action is never null)
    others = events.filter(Q(action__lt=VIEWED) | Q(action__gt=VIEWED))
    rows = [
        TimelineRow(e.occurred_at, e.actor_name, label(e.action), details(e.action, visible_data(e.data, user)))
        for e in others.order_by("-id")[:limit]
    ]
    # the newest view and the number of views in one query: the count is a subquery the views' index answers alone
    # (audit_target_action_idx, an index-only scan), the newest view one probe of it
    views = events.filter(action=VIEWED)
    count = views.order_by().values("target_type").annotate(n=Count("id")).values("n")
    last_view = views.annotate(views=Subquery(count)).order_by("-id").first()
    return Timeline(rows=rows, views=last_view.views if last_view else 0, last_view=last_view)


def history_section(request: Any, player: Any) -> dict[str, Any] | None:
    """The player page's history (a deferred section, apps.players.page): audit readers only (personal data)."""
    if not request.user.has_perm("audit.view_auditevent"):
        return None
    return {"timeline": player_timeline(player, request.user)}
