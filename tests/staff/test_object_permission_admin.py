"""ObjectPermissionAdminMixin: the changelist, the object pages and actions follow guardian grants; a role-wide
permission behaves exactly as a plain ModelAdmin does."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.test import Client
from guardian.shortcuts import assign_perm

from apps.players.models import Tag
from tests.factories import StaffUserFactory
from tests.staff.object_admin_urls import RENAMED

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.staff.object_admin_urls")]


@pytest.fixture
def tags() -> list[Tag]:
    return [Tag.objects.create(name=f"tag-{i}") for i in range(3)]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client: Client, site: str = "granted") -> set[int]:
    response = client.get(f"/{site}/players/tag/")
    assert response.status_code == 200
    return {obj.pk for obj in response.context["cl"].result_list}


def test_it_lists_only_the_rows_granted_to_the_assignee(tags: list[Tag]):
    assignee = StaffUserFactory(roles=[])
    assign_perm("players.view_tag", assignee, tags[0])
    assert listed(client_for(assignee)) == {tags[0].pk}


def test_it_answers_404_not_403_for_a_row_the_user_may_not_see(tags: list[Tag], outsider: Any):
    assignee = StaffUserFactory(roles=[])
    assign_perm("players.view_tag", assignee, tags[0])
    client = client_for(assignee)
    assert client.get(f"/granted/players/tag/{tags[0].pk}/change/").status_code == 200
    for url in (f"/granted/players/tag/{tags[1].pk}/change/", f"/granted/players/tag/{tags[1].pk}/history/"):
        assert client.get(url).status_code == 404
    assert client_for(outsider).get(f"/granted/players/tag/{tags[0].pk}/change/").status_code == 404


def test_it_runs_an_action_only_on_rows_the_action_permission_covers(tags: list[Tag]):
    assignee = StaffUserFactory(roles=[])
    for tag in tags[:2]:
        assign_perm("players.view_tag", assignee, tag)
    assign_perm("players.change_tag", assignee, tags[0])
    client = client_for(assignee)
    forged = {"action": "rename", helpers.ACTION_CHECKBOX_NAME: [tags[0].pk, tags[1].pk]}
    assert client.post("/granted/players/tag/", forged).status_code == 404
    assert not Tag.objects.filter(name__endswith=RENAMED).exists()
    unseen = {"action": "rename", helpers.ACTION_CHECKBOX_NAME: [tags[2].pk]}
    assert client.post("/granted/players/tag/", unseen).status_code == 404
    assert not Tag.objects.filter(name__endswith=RENAMED).exists()
    ok = {"action": "rename", helpers.ACTION_CHECKBOX_NAME: [tags[0].pk]}
    assert client.post("/granted/players/tag/", ok).status_code == 302
    assert list(Tag.objects.filter(name__endswith=RENAMED).values_list("pk", flat=True)) == [tags[0].pk]


def test_it_changes_nothing_for_a_role_wide_permission(tags: list[Tag]):
    role = Group.objects.create(name="Tag keepers")
    role.permissions.add(*Permission.objects.filter(content_type__app_label="players", codename__endswith="_tag"))
    keeper = StaffUserFactory(roles=[])
    keeper.groups.add(role)
    client = client_for(keeper)
    assert listed(client) == listed(client, site="plain") == set(Tag.objects.values_list("pk", flat=True))
    for site in ("granted", "plain"):
        assert client.get(f"/{site}/players/tag/{tags[1].pk}/change/").status_code == 200
    everything = {"action": "rename", helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tags]}
    assert client.post("/granted/players/tag/", everything).status_code == 302
    assert Tag.objects.filter(name__endswith=RENAMED).count() == 3


def test_it_refuses_the_changelist_to_someone_with_no_permission_at_all(tags: list[Tag], outsider: Any):
    for site in ("granted", "plain"):
        assert client_for(outsider).get(f"/{site}/players/tag/").status_code == 403
