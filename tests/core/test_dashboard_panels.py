"""The start page's dashboard panels registry (apps.core.dashboard): a panel is shown, by order, to the members its
context function answers for, is given the work queues the page counted, and a key is registered once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import RequestFactory

from apps.core import dashboard
from apps.core.workqueues import Count, WorkItem, WorkQueue


@pytest.fixture
def own_panels() -> Iterator[list[tuple[str, Any]]]:
    """Two panels of a test's own; what their context functions were given is recorded."""
    seen: list[tuple[str, Any]] = []

    def late(request: Any, work: Any) -> dict[str, Any]:
        seen.append(("tests.late", work))
        return {"late": True}

    def members_only(request: Any, work: Any) -> dict[str, Any] | None:
        seen.append(("tests.members", work))
        return {"who": request.user} if getattr(request.user, "is_member", False) else None

    dashboard.register_panel("tests.late", "admin/tests/late.html", context=late, order=900)
    dashboard.register_panel("tests.members", "admin/tests/members.html", context=members_only, order=899)
    yield seen
    dashboard.unregister_panel("tests.late")
    dashboard.unregister_panel("tests.members")


def request_by(user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


class Member:
    """Stands for a staff member (the reports' panel asks for permissions: none are held)."""

    is_member = True
    is_active = True
    is_superuser = False

    def has_perm(self, permission: str) -> bool:
        return False


class Other(Member):
    is_member = False


def ours(shown: list[dashboard.ShownPanel]) -> list[str]:
    return [s.panel.key for s in shown if s.panel.key.startswith("tests.")]


def test_a_panel_is_shown_by_order_to_those_its_context_answers_for(own_panels):
    work = [
        WorkItem(
            queue=WorkQueue("tests.q", "Q", count=lambda u: 0, url="/", permissions=("a.b",)), count=Count(3), url="/"
        )
    ]
    member = Member()
    shown = dashboard.panels_for(request_by(member), work)
    assert ours(shown) == ["tests.members", "tests.late"]
    (members,) = [s for s in shown if s.panel.key == "tests.members"]
    assert members.template == "admin/tests/members.html" and members.context == {"who": member}
    assert ours(dashboard.panels_for(request_by(Other()), work)) == ["tests.late"]  # None: left out
    assert ("tests.members", work) in own_panels  # the page's counted queues, passed as they are


def test_a_key_is_registered_once_and_names_its_app(own_panels):
    (late,) = [p for p in dashboard.panels() if p.key == "tests.late"]
    assert dashboard.register_panel("tests.late", late.template, context=late.context, order=900) == late  # the same
    with pytest.raises(ValueError, match="already registered differently"):
        dashboard.register_panel("tests.late", "admin/tests/other.html", context=lambda r, w: None)
    with pytest.raises(ValueError, match="keys are"):
        dashboard.register_panel("late", "admin/tests/late.html", context=lambda r, w: None)


def test_the_reports_dashboard_is_registered():
    assert "reports.dashboard" in [p.key for p in dashboard.panels()]
