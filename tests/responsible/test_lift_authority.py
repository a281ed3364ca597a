"""Lifting an operator exclusion (a responsible-gambling block) needs two people acting for responsible gambling."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from apps.players.eligibility import can
from apps.responsible import services
from apps.responsible.models import Exclusion
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_a_lift_needs_the_responsible_gambling_authority_on_both_sides(support_agent, mlro, player):
    block = services.operator_exclude(actor=support_agent, player=player, reason="chasing losses")
    finance = StaffUserFactory(roles=["Finance Officer"])
    with pytest.raises(Exception) as exc:
        services.operator_lift_request(actor=finance, exclusion=block, reason="customer asked")
    assert exc.value.code == "authority_required"
    # a checker with decide_lift but no responsible-gambling authority
    checker = StaffUserFactory()
    checker.user_permissions.add(Permission.objects.get(codename="decide_lift"))
    services.operator_lift_request(actor=support_agent, exclusion=block, reason="affordability checked")
    with pytest.raises(Exception) as exc:
        services.operator_lift_decide(
            actor=StaffUserFactory._meta.model.objects.get(pk=checker.pk), exclusion=block, approve=True
        )
    assert exc.value.code == "authority_required"
    assert Exclusion.objects.get(pk=block.pk).released_at is None and not can(player, "login").allowed
    services.operator_lift_decide(actor=mlro, exclusion=block, approve=True)
    assert can(player, "login").allowed
