"""The audit trail's admin list: a search that finds events by name, object, actor and request id, five columns
that fit the screen with the data cut to one line, and the whole event (its changes as a table) on its page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q

from apps.audit.admin import search_filter
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor, audit_log
from apps.core import context
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/audit/auditevent/"
REQUEST = "3f2a9c1e-77aa-4e0b-9d1d-0c5e2b7a1f00"


def shown(response: Any) -> list[str]:
    assert response.status_code == 200
    return [event.action for event in response.context["cl"].result_list]


@pytest.fixture
def trail(admin_user: Any) -> dict[str, Any]:
    player, other = PlayerFactory(), PlayerFactory()
    officer = StaffUserFactory(username="fiona.finance", email="fiona@staff.invalid", roles=["Finance Officer"])
    audit_log(actor=officer, action="player.blocked", target=player, data={"capability": "bet"})
    with context.bound(request_id=REQUEST):
        audit_log(actor=SystemActor("beat"), action="player.unblocked", target=other, data={})
    audit_log(
        actor=SystemActor("tests"),
        action="staff.updated",
        target=officer,
        data={"email": {"old": "f@staff.invalid", "new": "fiona@staff.invalid"}, "note": "x" * 400},
    )
    return {"player": player, "other": other, "officer": officer}


def test_it_finds_an_event_by_its_name_and_an_area_by_its_prefix(admin_user, trail):
    client = verified_client(admin_user)
    assert shown(client.get(LIST, {"q": "player.blocked"})) == ["player.blocked"]
    assert shown(client.get(LIST, {"q": "player."})) == ["player.unblocked", "player.blocked"]


def test_it_finds_what_happened_to_an_object(admin_user, trail):
    client = verified_client(admin_user)
    assert shown(client.get(LIST, {"q": f"players.player:{trail['other'].pk}"})) == ["player.unblocked"]


def test_it_finds_what_a_staff_member_did_by_username_or_email(admin_user, trail):
    client = verified_client(admin_user)
    assert shown(client.get(LIST, {"q": "fiona.finance"})) == ["player.blocked"]
    assert shown(client.get(LIST, {"q": "FIONA@staff.invalid"})) == ["player.blocked"]


def test_it_finds_a_request_and_an_actor_by_name(admin_user, trail):
    client = verified_client(admin_user)
    assert shown(client.get(LIST, {"q": REQUEST})) == ["player.unblocked"]
    assert shown(client.get(LIST, {"q": "beat"})) == ["player.unblocked"]
    assert shown(client.get(LIST, {"q": "nobody at all"})) == []


def test_an_object_or_event_search_reads_only_indexed_columns():
    """The shapes that use the trail's indexes ask nothing else (an OR with a scanned column would scan)."""
    assert search_filter("players.player:42") == Q(target_type="players.player", target_id="42")
    assert search_filter("player.blocked") == Q(action="player.blocked")
    assert search_filter("rg.") == Q(action__startswith="rg.")


def test_the_list_has_five_columns_and_cuts_the_data_to_one_line(admin_user, trail):
    response = verified_client(admin_user).get(LIST)
    columns = [c for c in response.context["cl"].list_display if c != "action_checkbox"]
    assert columns == ["occurred", "event", "actor_display", "target_display", "summary"]
    page = response.content.decode()
    assert "x" * 400 not in page and "x" * 20 + "…" in page  # cut to SUMMARY_CHARS
    assert "email: f@staff.invalid → fiona@staff.invalid" in page
    assert 'name="q"' in page  # the search box


def test_the_event_page_shows_the_whole_data_and_its_changes_as_a_table(admin_user, trail):
    event = AuditEvent.objects.get(action="staff.updated")
    page = verified_client(admin_user).get(f"{LIST}{event.pk}/change/").content.decode()
    assert "x" * 400 in page
    assert 'id="audit-changes"' in page
    assert "<td" in page and "f@staff.invalid" in page and "fiona@staff.invalid" in page


def test_compliance_text_is_redacted_in_the_list_for_staff_without_the_permission(admin_user, mlro):
    player = PlayerFactory()
    secret = "source of funds: SAR drafted"
    audit_log(actor=mlro, action="player.note_added", target=player, data={"visibility": "compliance", "text": secret})
    assert secret not in verified_client(admin_user).get(LIST).content.decode()  # administrators read the trail
    assert secret in verified_client(mlro).get(LIST).content.decode()


def test_staff_without_the_audit_permission_cannot_search_the_trail(support_agent, trail):
    assert verified_client(support_agent).get(LIST, {"q": "player."}).status_code == 403
