"""The responsible-gambling decisions on their pages (issue 12): a term that is not offered is refused when the
correction is asked, every refusal has a reason, and every message names the exclusion and the player."""

from __future__ import annotations

import re

import pytest

from apps.approvals.models import Approval
from apps.audit.models import AuditEvent
from apps.responsible import services
from apps.responsible.models import Exclusion, ExclusionCorrection, IdentityChangeRequest
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def named(exclusion: Exclusion, kind: str) -> str:
    p = exclusion.player
    return f"{kind} #{exclusion.pk} of {p.first_name} {p.last_name} ({p.external_id})"


def test_a_correction_to_a_term_not_offered_is_refused_when_asked(staff_client, support_agent, player):
    services.self_exclude(actor=None, player=player, term="6m")
    own = Exclusion.objects.get(player=player)
    client = staff_client(support_agent)
    form = client.get(f"/admin/responsible/exclusion/{own.pk}/change/").content.decode()
    offered = re.findall(r'<option value="([^"]+)"', re.search(r'<select name="term".*?</select>', form, re.S).group(0))
    assert offered == list(services.offered_terms(services.rules_for(player)))  # only what the jurisdiction offers
    response = client.post(
        f"/admin/responsible/exclusion/{own.pk}/decide/",
        {"what": "correct", "term": "99y", "reason": "typed by hand"},
        follow=True,
    )
    body = text(response)
    assert f"{named(own, 'Self-exclusion')}: The terms offered there are" in body
    assert not ExclusionCorrection.objects.exists() and not Approval.objects.exists()
    assert not AuditEvent.objects.filter(action="rg.correction_requested").exists()


def _lift_requested(staff_client, support_agent, player) -> Exclusion:
    block = services.operator_exclude(actor=support_agent, player=player, reason="RG review", capabilities=["deposit"])
    services.operator_lift_request(actor=support_agent, exclusion=block, reason="affordability shown")
    return block


def test_refusing_a_lift_needs_a_reason_and_the_message_names_the_exclusion(
    staff_client, support_agent, aml_analyst, player
):
    block = _lift_requested(staff_client, support_agent, player)
    checker, decide = staff_client(aml_analyst), f"/admin/responsible/exclusion/{block.pk}/decide/"
    body = text(checker.post(decide, {"what": "refuse_lift", "reason": " "}, follow=True))
    assert f"{named(block, 'Operator block of deposit')}: a reason is required to refuse a lift request." in body
    block.refresh_from_db()
    assert block.lift_requested_by_id is not None
    body = text(checker.post(decide, {"what": "refuse_lift", "reason": "no evidence"}, follow=True))
    assert body.count(f"{named(block, 'Operator block of deposit')}: lift request refused.") == 1
    block.refresh_from_db()
    assert block.lift_requested_by_id is None and block.in_force()


def test_a_bulk_refusal_asks_for_a_reason_and_names_each_exclusion(staff_client, support_agent, mlro, player):
    block = _lift_requested(staff_client, support_agent, player)
    checker = staff_client(mlro)
    page = checker.post("/admin/responsible/exclusion/", {"action": "refuse_lift", "_selected_action": [block.pk]})
    assert page.status_code == 200 and b'name="reason"' in page.content  # the reason page, nothing decided yet
    block.refresh_from_db()
    assert block.lift_requested_by_id is not None
    response = checker.post(
        "/admin/responsible/exclusion/",
        {"action": "refuse_lift", "_selected_action": [block.pk], "reason_given": "1", "reason": "too soon"},
        follow=True,
    )
    assert f"{named(block, 'Operator block of deposit')}: lift request refused." in text(response)


def test_refusing_an_identity_change_asks_for_a_reason_and_names_the_player(staff_client, kyc_officer, mlro):
    from datetime import date

    from apps.players.services import player_update

    person = {"first_name": "Ann", "last_name": "Smith", "date_of_birth": date(1990, 3, 4)}
    services.self_exclude(actor=None, player=PlayerFactory(**person), term="5y")
    twin = PlayerFactory(**person)
    with pytest.raises(Exception):  # noqa: B017  (held for a second person: second_person_required)
        player_update(actor=kyc_officer, player=twin, changes={"last_name": "Smyth"}, staff=True, reason="passport")
    held = IdentityChangeRequest.objects.get(player=twin)
    client = staff_client(mlro)
    url = "/admin/responsible/identitychangerequest/"
    page = client.post(url, {"action": "refuse", "_selected_action": [held.pk]})
    assert page.status_code == 200 and b'name="reason"' in page.content
    held.refresh_from_db()
    assert held.approved is None
    response = client.post(
        url,
        {"action": "refuse", "_selected_action": [held.pk], "reason_given": "1", "reason": "passport not readable"},
        follow=True,
    )
    held.refresh_from_db()
    assert held.approved is False
    assert f"Identity change #{held.pk} of Ann Smith ({twin.external_id}): refused." in text(response)
    event = AuditEvent.objects.get(action="rg.identity_change_refused")
    assert event.data["reason"] == "passport not readable"
