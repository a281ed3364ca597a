"""The dashboard's reads: open cases by SLA state and priority as the viewer may see them, rules' precision."""

from __future__ import annotations

import pytest

from apps.compliance import cases, selectors
from apps.compliance.choices import Outcome, VersionState
from apps.compliance.models import Alert, Case, Rule, RuleVersion
from apps.staff import roles
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


def _alert(rule, version, n):
    alert = Alert.objects.create(rule=rule, version=version, player=PlayerFactory(), window_key=f"w{n}", score=50)
    return cases.case_for_alert(alert=alert)


def test_dashboard_counts_what_the_viewer_sees_and_rule_precision():
    analyst, mlro = StaffUserFactory(roles=[roles.AML_ANALYST]), StaffUserFactory(roles=[roles.MLRO])
    rule = Rule.objects.create(code="dash", name="Dash", kind="amount_window")
    version = RuleVersion.objects.create(
        rule=rule, number=1, kind="amount_window", params={}, state=VersionState.DRAFT, priority="high"
    )
    made = [_alert(rule, version, n) for n in range(4)]
    Case.objects.filter(pk=made[0].pk).update(sla_state="breached")
    for case, outcome in zip(made[1:], (Outcome.REFUTED, Outcome.REFUTED, Outcome.INCONCLUSIVE), strict=True):
        cases.case_close(actor=mlro, case=case, outcome=outcome, reason="Reviewed")
    grid = selectors.open_cases_by_sla(mlro)
    assert grid["breached"]["high"] == 1 and sum(sum(row.values()) for row in grid.values()) == 1
    assert selectors.open_cases_by_sla(analyst)["breached"]["high"] == 1  # assigned to them round-robin
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    assert sum(sum(row.values()) for row in selectors.open_cases_by_sla(support).values()) == 0
    assert selectors.rule_precision(support) == []
    (row,) = [r for r in selectors.rule_precision(mlro) if r.rule == rule]
    assert (row.alerts, row.confirmed, row.refuted, row.inconclusive, row.open) == (4, 0, 2, 1, 1)
    assert row.precision == 0.0


def test_the_dashboard_page_shows_compliance_roles_their_grid_and_nobody_else_anything():
    from tests.conftest import verified_client

    mlro = StaffUserFactory(roles=[roles.MLRO])
    rule = Rule.objects.create(code="dash2", name="Dash two", kind="amount_window")
    version = RuleVersion.objects.create(rule=rule, number=1, kind="amount_window", params={}, priority="high")
    _alert(rule, version, 1)
    page = verified_client(mlro).get("/admin/compliance/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="sla-grid"' in html and "Dash two" in html and "sla_state=on_track&amp;priority=high" in html
    for role in (roles.SUPPORT_AGENT, roles.CRM_MANAGER, roles.FINANCE_OFFICER, roles.KYC_OFFICER, roles.ADMINISTRATOR):
        refused = verified_client(StaffUserFactory(roles=[role])).get("/admin/compliance/dashboard/")
        assert refused.status_code == 404, role
        assert "Dash two" not in refused.content.decode()
