"""can_act and visible_to with real django-guardian grants: the assignee sees and acts, someone else does not,
a role-wide permission sees everything."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from apps.players.models import Player
from apps.staff.permissions import can_act, visible_to
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
VIEW = "players.view_player"
CHANGE = "players.change_player"


@pytest.fixture
def players() -> list[Any]:
    return [PlayerFactory(), PlayerFactory(), PlayerFactory()]


def test_it_lets_the_assignee_see_and_act_on_the_granted_object_only(outsider: Any, players: list[Any]):
    assignee = StaffUserFactory(roles=[])
    assign_perm(VIEW, assignee, players[0])
    assert can_act(assignee, VIEW, players[0])
    assert not can_act(assignee, VIEW, players[1])
    assert not can_act(assignee, VIEW)  # no role-wide permission
    assert list(visible_to(assignee, VIEW, Player.objects.all())) == [players[0]]


def test_it_refuses_someone_else(outsider: Any, players: list[Any]):
    assign_perm(VIEW, StaffUserFactory(roles=[]), players[0])
    assert not can_act(outsider, VIEW, players[0])
    assert not visible_to(outsider, VIEW, Player.objects.all()).exists()


def test_it_does_not_widen_one_permission_into_another(players: list[Any]):
    assignee = StaffUserFactory(roles=[])
    assign_perm(VIEW, assignee, players[0])
    assert not can_act(assignee, CHANGE, players[0])
    assert not visible_to(assignee, CHANGE, Player.objects.all()).exists()


def test_it_lets_a_team_see_what_its_group_was_granted(players: list[Any]):
    team = Group.objects.create(name="Case team A")
    member, other = StaffUserFactory(roles=[]), StaffUserFactory(roles=[])
    member.groups.add(team)
    assign_perm(VIEW, team, players[1])
    assert can_act(member, VIEW, players[1])
    assert list(visible_to(member, VIEW, Player.objects.all())) == [players[1]]
    assert not can_act(other, VIEW, players[1])


def test_it_lets_a_role_wide_permission_see_everything(support_agent: Any, players: list[Any]):
    assert can_act(support_agent, VIEW)
    assert can_act(support_agent, VIEW, players[2])
    qs = Player.objects.filter(pk__in=[p.pk for p in players])
    assert visible_to(support_agent, VIEW, qs).count() == 3


def test_it_grants_nothing_to_an_inactive_account(players: list[Any]):
    assignee = StaffUserFactory(roles=[])
    assign_perm(VIEW, assignee, players[0])
    assignee.is_active = False
    assignee.save()
    assert not can_act(assignee, VIEW, players[0])
    assert not visible_to(assignee, VIEW, Player.objects.all()).exists()
