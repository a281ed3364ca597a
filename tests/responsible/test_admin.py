from __future__ import annotations

from decimal import Decimal

import pytest

from apps.approvals.models import Approval
from apps.audit.models import AuditEvent
from apps.geo.terms import term_end
from apps.responsible import services
from apps.responsible.models import Exclusion, ExclusionCorrection, Interaction, Limit

pytestmark = pytest.mark.django_db


def test_support_imposes_a_block_and_records_an_interaction_from_the_admin(staff_client, support_agent, player):
    client = staff_client(support_agent)
    assert client.get(f"/admin/responsible/exclusion/add/?player={player.external_id}").status_code == 200
    r = client.post(
        "/admin/responsible/exclusion/add/",
        {"player_external_id": player.external_id, "reason": "RG review", "capabilities": ["deposit"]},
    )
    assert r.status_code == 302, r.content[:2000]
    block = Exclusion.objects.get(player=player)
    assert (block.kind, block.capabilities, block.created_by) == ("operator", ["deposit"], support_agent)
    r = client.post(
        "/admin/responsible/interaction/add/",
        {"player_external_id": player.external_id, "channel": "call", "summary": "Talked limits", "outcome": "set"},
    )
    assert r.status_code == 302 and Interaction.objects.get().staff == support_agent
    page = client.get(f"/admin/players/player/{player.pk}/change/")
    assert page.status_code == 200 and b"Responsible gambling" in page.content and b"RG review" in page.content
    assert client.get("/admin/responsible/exclusion/").status_code == 200


def test_a_finance_officer_cannot_impose_an_exclusion(staff_client, finance_officer, player):
    client = staff_client(finance_officer)
    assert client.get("/admin/responsible/exclusion/add/").status_code == 403


def _block(client, player, reason="RG review"):
    r = client.post("/admin/responsible/exclusion/add/", {"player_external_id": player.external_id, "reason": reason})
    assert r.status_code == 302, r.content[:2000]
    return Exclusion.objects.filter(player=player).latest("id")


def test_lifting_an_operator_exclusion_takes_a_reason_and_a_second_staff_member(
    staff_client, support_agent, mlro, player
):
    maker, checker = staff_client(support_agent), staff_client(mlro)
    block = _block(maker, player)
    page = maker.get(f"/admin/responsible/exclusion/{block.pk}/change/")
    assert page.status_code == 200 and b"Ask to lift" in page.content
    decide = f"/admin/responsible/exclusion/{block.pk}/decide/"
    maker.post(decide, {"what": "request_lift", "reason": "  "})  # no reason: nothing changes
    block.refresh_from_db()
    assert block.lift_requested_by_id is None
    maker.post(decide, {"what": "request_lift", "reason": "affordability confirmed on a call"})
    block.refresh_from_db()
    assert (block.lift_requested_by, block.lift_reason) == (support_agent, "affordability confirmed on a call")
    # the maker may not decide their own request (no permission), and the service would refuse anyway
    assert maker.post(decide, {"what": "approve_lift"}).status_code == 403
    queue = checker.get("/admin/responsible/exclusion/?lift=requested")
    assert queue.status_code == 200 and f"/{block.pk}/change/".encode() in queue.content
    assert b"Approve the lift" in checker.get(f"/admin/responsible/exclusion/{block.pk}/change/").content
    r = checker.post(decide, {"what": "approve_lift"}, follow=True)
    block.refresh_from_db()
    assert block.lift_approved_by == mlro and not block.in_force()
    assert b"lifted (ends now)" in r.content
    assert AuditEvent.objects.filter(action="rg.lift_approved", actor_id=str(mlro.pk)).exists()


def test_a_lift_refused_in_the_admin_leaves_the_exclusion_in_force(staff_client, support_agent, mlro, player):
    maker, checker = staff_client(support_agent), staff_client(mlro)
    block = _block(maker, player)
    decide = f"/admin/responsible/exclusion/{block.pk}/decide/"
    maker.post(decide, {"what": "request_lift", "reason": "player asked"})
    checker.post(decide, {"what": "refuse_lift"})  # a refusal needs a reason: nothing happens without one
    block.refresh_from_db()
    assert block.lift_requested_by_id is not None
    checker.post(decide, {"what": "refuse_lift", "reason": "affordability not shown"})
    block.refresh_from_db()
    assert block.in_force() and block.lift_requested_by_id is None
    approval = Approval.objects.get(kind="responsible.lift", target_id=str(block.pk))
    assert (approval.state, approval.checker, approval.decision_reason) == ("rejected", mlro, "affordability not shown")


def test_a_self_exclusion_cannot_be_lifted_from_the_admin(staff_client, support_agent, player):
    services.self_exclude(actor=None, player=player, term="6m")
    own = Exclusion.objects.get(player=player)
    client = staff_client(support_agent)
    assert b"Ask to lift" not in client.get(f"/admin/responsible/exclusion/{own.pk}/change/").content
    r = client.post(
        f"/admin/responsible/exclusion/{own.pk}/decide/", {"what": "request_lift", "reason": "x"}, follow=True
    )
    own.refresh_from_db()
    assert own.lift_requested_by_id is None and b"Only operator exclusions" in r.content


def test_a_data_entry_correction_is_requested_on_the_page_and_applied_by_another(
    staff_client, support_agent, mlro, player
):
    services.self_exclude(actor=None, player=player, term="6m")
    wrong = Exclusion.objects.get(player=player)
    maker, checker = staff_client(support_agent), staff_client(mlro)
    decide = f"/admin/responsible/exclusion/{wrong.pk}/decide/"
    r = maker.post(decide, {"what": "correct", "term": "forever", "reason": "typo"}, follow=True)
    assert b"Not a term" in r.content and not ExclusionCorrection.objects.exists()
    maker.post(decide, {"what": "correct", "term": "1y", "reason": "the player chose a year on the phone"})
    correction = ExclusionCorrection.objects.get()
    assert correction.ends_at == term_end("1y", wrong.starts_at) and correction.requested_by == support_agent
    # the requester cannot apply it
    maker.post("/admin/responsible/exclusioncorrection/", {"action": "apply", "_selected_action": [correction.pk]})
    correction.refresh_from_db()
    assert correction.approved is None
    assert checker.get("/admin/responsible/exclusioncorrection/?decision=pending").status_code == 200
    assert checker.get(f"/admin/responsible/exclusioncorrection/{correction.pk}/change/").status_code == 200
    checker.post("/admin/responsible/exclusioncorrection/", {"action": "apply", "_selected_action": [correction.pk]})
    wrong.refresh_from_db()
    assert wrong.superseded_by.term == "1y" and wrong.superseded_by.in_force()


def test_staff_set_and_remove_an_operator_limit_with_a_reason(staff_client, support_agent, player):
    client = staff_client(support_agent)
    assert client.get(f"/admin/responsible/limit/add/?player={player.external_id}").status_code == 200
    form = {"player_external_id": player.external_id, "kind": "deposit", "period": "week", "value": "250.00"}
    r = client.post("/admin/responsible/limit/add/", {**form, "reason": ""})
    assert r.status_code == 200 and not Limit.objects.exists()  # the form says why; nothing written
    r = client.post("/admin/responsible/limit/add/", {**form, "value": "-5", "reason": "RG review"})
    assert r.status_code == 200 and not Limit.objects.exists()
    r = client.post("/admin/responsible/limit/add/", {**form, "reason": "RG review: affordability"})
    assert r.status_code == 302, r.content[:3000]
    limit = Limit.objects.get()
    assert (limit.source, limit.amount, limit.reason) == ("operator", Decimal("250.00"), "RG review: affordability")
    assert client.get(f"/admin/responsible/limit/{limit.pk}/change/").status_code == 200  # read-only view
    page = client.get(f"/admin/players/player/{player.pk}/change/")
    assert b"250.00" in page.content
    r = client.post("/admin/responsible/limit/add/", {**form, "value": "", "reason": "review closed"})
    assert r.status_code == 302
    limit.refresh_from_db()
    assert limit.removed_at is not None


def test_a_kyc_officer_cannot_set_an_operator_limit_or_ask_a_lift(staff_client, kyc_officer, support_agent, player):
    block = _block(staff_client(support_agent), player)
    client = staff_client(kyc_officer)
    assert client.get("/admin/responsible/limit/add/").status_code == 403
    r = client.post(f"/admin/responsible/exclusion/{block.pk}/decide/", {"what": "request_lift", "reason": "x"})
    assert r.status_code == 403
