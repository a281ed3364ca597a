"""Player protection: every change in this package is one service, audited, and told to the platform through
the outbox.

Rules per jurisdiction come from the player's rule pack (apps.geo): time-out range, self-exclusion terms,
cooling-off of a limit increase and its confirmation window, the cooling-off before a self-excluded player
returns. Nothing here can shorten a player's own time-out or self-exclusion; the database refuses it too.

The services, by domain: ``exclusions`` (time-outs, self-exclusion and the return, operator exclusions and their
lifts, corrections), ``limit_changes`` (limits set, confirmed, lapsed; the usage and caps are apps.responsible.limits),
``interactions``; ``_common`` holds what they share. Every name is re-exported here, so callers keep writing
``from apps.responsible import services; services.self_exclude(...)``.
"""

from __future__ import annotations

from apps.responsible.services._common import (
    DEFAULT_TERMS,
    DEFAULT_TIMEOUT_HOURS,
    models_q_person,
    offered_terms,
    rules_for,
    timeout_range,
)
from apps.responsible.services.exclusions import (
    exclusion_correction_decide,
    exclusion_correction_request,
    operator_exclude,
    operator_lift_decide,
    operator_lift_request,
    self_exclude,
    self_exclusion_return_request,
    time_out,
)
from apps.responsible.services.interactions import interaction_record
from apps.responsible.services.limit_changes import (
    LimitOutcome,
    limit_changes_lapse,
    limit_confirm,
    limit_set,
    parse_limit_value,
)

__all__ = [
    "DEFAULT_TERMS",
    "DEFAULT_TIMEOUT_HOURS",
    "LimitOutcome",
    "exclusion_correction_decide",
    "exclusion_correction_request",
    "interaction_record",
    "limit_changes_lapse",
    "limit_confirm",
    "limit_set",
    "models_q_person",
    "offered_terms",
    "operator_exclude",
    "operator_lift_decide",
    "operator_lift_request",
    "parse_limit_value",
    "rules_for",
    "self_exclude",
    "self_exclusion_return_request",
    "time_out",
    "timeout_range",
]
