from __future__ import annotations

import pytest

from apps.responsible.models import Exclusion, Interaction

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
