"""Reads for the compliance dashboard: open cases by SLA state and priority (what the viewer may see), and each
rule's precision on history (its alerts by their case's outcome). Two grouped queries, no per-row work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from apps.compliance.cases import cases_visible_to, sees_cases
from apps.compliance.choices import OPEN_STATES, CaseState, Outcome, Priority, SlaState
from apps.compliance.models import Alert, Rule


@dataclass(frozen=True)
class RulePrecision:
    rule: Rule
    alerts: int
    confirmed: int
    refuted: int
    inconclusive: int
    open: int

    @property
    def precision(self) -> float | None:
        """confirmed / (confirmed + refuted): how often the rule's alerts turned out right, once decided."""
        decided = self.confirmed + self.refuted
        return self.confirmed / decided if decided else None


def open_cases_by_sla(user: Any) -> dict[str, dict[str, int]]:
    """SLA state -> priority -> open cases the user may see (every cell present, zeros included)."""
    grid = {state: dict.fromkeys(Priority.values, 0) for state in SlaState.values}
    if not sees_cases(user):
        return grid
    rows = cases_visible_to(user).filter(state__in=OPEN_STATES).values("sla_state", "priority").annotate(n=Count("id"))
    for row in rows:
        grid[row["sla_state"]][row["priority"]] = row["n"]
    return grid


def rule_precision(user: Any) -> list[RulePrecision]:
    """Every rule with alerts, with its alerts by outcome: for the MLRO and analysts (who hold view_alert)."""
    if not sees_cases(user) or not user.has_perm("compliance.view_alert"):
        return []
    closed = Q(case__state=CaseState.CLOSED)
    rows = (
        Alert.objects.values("rule_id")
        .annotate(
            alerts=Count("id"),
            confirmed=Count("id", filter=closed & Q(case__outcome=Outcome.CONFIRMED)),
            refuted=Count("id", filter=closed & Q(case__outcome=Outcome.REFUTED)),
            inconclusive=Count("id", filter=closed & Q(case__outcome=Outcome.INCONCLUSIVE)),
        )
        .order_by("rule_id")
    )
    rules = Rule.objects.in_bulk([row["rule_id"] for row in rows])
    return [
        RulePrecision(
            rule=rules[row["rule_id"]],
            alerts=row["alerts"],
            confirmed=row["confirmed"],
            refuted=row["refuted"],
            inconclusive=row["inconclusive"],
            open=row["alerts"] - row["confirmed"] - row["refuted"] - row["inconclusive"],
        )
        for row in rows
    ]
