"""Segment services: create, update, preview, snapshot, the nightly refresh; each error code they raise, and the
audit row of each write."""

from __future__ import annotations

from typing import Any

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.core.errors import ApplicationError
from apps.crm import services, tasks
from apps.crm.models import Segment, SegmentMember
from apps.players.models import Player
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def refused(code: str, call: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call()
    assert caught.value.code == code
    return caught.value


def members(segment: Segment) -> set[int]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("player_id", flat=True))


def test_it_creates_a_segment_with_normalised_criteria_and_audits_it(crm_manager):
    segment = services.segment_create(
        actor=crm_manager,
        name=" Gold in GB ",
        criteria={"vip_tier": ["gold"], "country": ["gb"], "deposits": {"min": "100"}},
        currency="gbp",
    )
    assert (segment.name, segment.currency, segment.created_by) == ("Gold in GB", "GBP", crm_manager)
    assert segment.criteria == {"vip_tier": ["gold"], "country": ["GB"], "deposits": {"min": "100"}}
    event = AuditEvent.objects.get(action="crm.segment_created")
    assert event.actor_id == str(crm_manager.pk) and event.data["criteria"] == segment.criteria


def test_it_updates_and_audits_what_changed(crm_manager):
    segment = services.segment_create(actor=crm_manager, name="A", criteria={})
    services.segment_update(actor=crm_manager, segment=segment, criteria={"country": ["MT"]}, kind="static")
    segment.refresh_from_db()
    assert segment.criteria == {"country": ["MT"]} and segment.kind == "static"
    changed = AuditEvent.objects.get(action="crm.segment_updated").data["changed"]
    assert changed == {"kind": {"from": "dynamic", "to": "static"}, "criteria": {"from": {}, "to": {"country": ["MT"]}}}


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ("not an object", "criteria"),
        ({"favourite_colour": ["red"]}, "criteria"),
        ({"country": []}, "country"),
        ({"country": ["GBR"]}, "country"),
        ({"country": ["G\x00"]}, "country"),
        ({"country": ["GB"] * 201}, "country"),
        ({"jurisdiction": ["XX"]}, "jurisdiction"),
        ({"vip_tier": ["diamond"]}, "vip_tier"),
        ({"tags": {"some": ["vip"]}}, "tags"),
        ({"tags": {"any": ["vip"], "all": ["x"]}}, "tags"),
        ({"tags": {"any": ["no spaces"]}}, "tags"),
        ({"registered": {}}, "registered"),
        ({"registered": {"from": "2026-13-01"}}, "registered"),
        ({"registered": {"from": "2026-02-01", "to": "2026-01-01"}}, "registered"),
        ({"last_login": {"within_days": 0}}, "last_login"),
        ({"last_login": {"within_days": 10**30}}, "last_login"),
        ({"last_login": {"within_days": True}}, "last_login"),
        ({"deposits": {"min": 100.5}}, "deposits"),
        ({"deposits": {"min": "1e999999"}}, "deposits"),
        ({"deposits": {"min": "NaN"}}, "deposits"),
        ({"deposits": {"min": "9" * 19}}, "deposits"),
        ({"deposits": {"min": "10", "max": "5"}}, "deposits"),
        ({"deposits": {}}, "deposits"),
        ({"ggr": {"min": "1", "days": "x"}}, "ggr"),
        ({"kyc_level": {"min": 4}}, "kyc_level"),
        ({"kyc_level": {"min": 3, "max": 1}}, "kyc_level"),
        ({"kyc_level": {}}, "kyc_level"),
        ({"consent": {"email": "yes"}}, "consent"),
        ({"consent": {"pigeon": True}}, "consent"),
        ({"consent": {}}, "consent"),
        ({"currency": ["pounds"]}, "currency"),
        ({"country": [[[[["GB"]]]]]}, "criteria"),
    ],
)
def test_it_refuses_invalid_criteria_naming_the_criterion(crm_manager, criteria, field):
    error = refused(
        "segment_criteria_invalid",
        lambda: services.segment_create(actor=crm_manager, name="S", criteria=criteria, currency="GBP"),
    )
    assert field in error.fields
    assert not Segment.objects.exists()


def test_money_criteria_need_the_segment_currency(crm_manager):
    error = refused(
        "segment_criteria_invalid",
        lambda: services.segment_create(actor=crm_manager, name="S", criteria={"ggr": {"min": "1"}}),
    )
    assert "currency" in error.fields["ggr"][0]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"name": 5}, "name"),
        ({"description": "\x1b[31m"}, "description"),
        ({"kind": "forever"}, "kind"),
        ({"currency": "POUNDS"}, "currency"),
        ({"currency": "G1"}, "currency"),
    ],
)
def test_it_refuses_invalid_fields(crm_manager, fields, field):
    values = {"name": "S", "criteria": {}, **fields}
    error = refused("segment_field_invalid", lambda: services.segment_create(actor=crm_manager, **values))
    assert field in error.fields


def test_a_name_is_taken_whatever_its_case(crm_manager):
    services.segment_create(actor=crm_manager, name="Lapsed", criteria={})
    refused("segment_name_taken", lambda: services.segment_create(actor=crm_manager, name="lapsed", criteria={}))
    other = services.segment_create(actor=crm_manager, name="Other", criteria={})
    refused("segment_name_taken", lambda: services.segment_update(actor=crm_manager, segment=other, name="LAPSED"))


@pytest.mark.parametrize("role_fixture", ["support_agent", "admin_user", "mlro"])
def test_other_roles_may_not_build_or_snapshot_segments(request, crm_manager, role_fixture):
    staff = request.getfixturevalue(role_fixture)
    segment = services.segment_create(actor=crm_manager, name="S", criteria={})
    refused("segment_not_permitted", lambda: services.segment_create(actor=staff, name="T", criteria={}))
    refused("segment_not_permitted", lambda: services.segment_update(actor=staff, segment=segment, name="T"))
    refused("segment_not_permitted", lambda: services.segment_snapshot(actor=staff, segment=segment))
    refused("segment_not_permitted", lambda: services.segment_preview(actor=staff, criteria={}))
    refused("segment_not_permitted", lambda: services.marketing_export(actor=staff, segment=segment, channel="email"))


def test_the_preview_counts_exactly_and_samples_twenty(crm_manager):
    for _ in range(25):
        PlayerFactory(vip_tier="gold")
    PlayerFactory()
    preview = services.segment_preview(actor=crm_manager, criteria={"vip_tier": ["gold"]})
    assert (preview.count, preview.exact, preview.label, len(preview.sample)) == (25, True, "exact", 20)
    assert not AuditEvent.objects.filter(action__startswith="crm.").exists()  # a read


def test_a_snapshot_replaces_the_members_keeping_those_who_stay(crm_manager):
    a, b, c = PlayerFactory(vip_tier="gold"), PlayerFactory(vip_tier="gold"), PlayerFactory()
    segment = services.segment_create(actor=crm_manager, name="Gold", criteria={"vip_tier": ["gold"]})
    first = services.segment_snapshot(actor=crm_manager, segment=segment)
    assert (first.members, first.added, first.removed) == (2, 2, 0) and members(segment) == {a.pk, b.pk}
    kept_since = SegmentMember.objects.get(segment=segment, player=a).added_at
    Player.objects.filter(pk=b.pk).update(vip_tier="")
    Player.objects.filter(pk=c.pk).update(vip_tier="gold")
    second = services.segment_snapshot(actor=crm_manager, segment=segment)
    assert (second.members, second.added, second.removed) == (2, 1, 1) and members(segment) == {a.pk, c.pk}
    assert SegmentMember.objects.get(segment=segment, player=a).added_at == kept_since
    segment.refresh_from_db()
    assert segment.member_count == 2 and segment.last_refreshed_at is not None
    events = AuditEvent.objects.filter(action="crm.segment_snapshotted").order_by("id")
    assert [e.data for e in events] == [
        {"members": 2, "added": 2, "removed": 0},
        {"members": 2, "added": 1, "removed": 1},
    ]


def test_the_nightly_task_sends_one_refresh_per_dynamic_segment(crm_manager, monkeypatch):
    gold = PlayerFactory(vip_tier="gold")
    dynamic = services.segment_create(actor=crm_manager, name="D", criteria={"vip_tier": ["gold"]})
    static = services.segment_create(actor=crm_manager, name="S", criteria={"vip_tier": ["gold"]}, kind="static")
    sent: list[int] = []
    monkeypatch.setattr(tasks.crm_segment_refresh, "delay", sent.append)
    assert tasks.crm_segments_refresh.apply().get() == 1
    assert sent == [dynamic.pk]
    assert tasks.crm_segment_refresh.apply(args=[dynamic.pk]).get() == 1
    assert tasks.crm_segment_refresh.apply(args=[static.pk]).get() is None  # not dynamic: left alone
    assert members(dynamic) == {gold.pk} and members(static) == set()
    event = AuditEvent.objects.get(action="crm.segment_snapshotted")
    assert (event.actor_type, event.actor_name) == ("system", "crm.nightly_refresh")


def test_the_nightly_refresh_skips_a_segment_whose_criterion_is_gone(crm_manager):
    broken = services.segment_create(actor=crm_manager, name="B", criteria={})
    Segment.objects.filter(pk=broken.pk).update(criteria={"retired_criterion": {"min": 1}})  # its app is gone
    services.segment_create(actor=crm_manager, name="OK", criteria={})
    assert services.segments_refresh(actor=SystemActor("tests")) == {"refreshed": 1, "refused": 1}
