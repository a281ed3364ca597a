"""The marketing export: consent for the channel AND can(player, "marketing"), both at the moment of export; the
static segment's snapshot or the dynamic one's current players; the audit of who exported what, and how many."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.crm import services
from apps.players import services as players
from apps.responsible import services as responsible
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db


def export(actor, segment, channel="email") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    text = "".join(services.marketing_export(actor=actor, segment=segment, channel=channel))
    return list(csv.DictReader(io.StringIO(text)))


def ids(rows: list[dict[str, str]]) -> list[str]:
    return [row["external_id"] for row in rows]


@pytest.fixture
def segment(crm_manager):  # type: ignore[no-untyped-def]
    return services.segment_create(actor=crm_manager, name="Everyone", criteria={})


def test_it_exports_the_consenting_players_with_the_channel_contact(crm_manager, segment):
    yes = PlayerFactory(marketing_email=True, first_name="Ann", language="en")
    PlayerFactory(marketing_email=False)
    sms = PlayerFactory(marketing_sms=True, phone="+447911123456")
    PlayerFactory(marketing_sms=True, phone="")  # consent but nowhere to send it
    rows = export(crm_manager, segment)
    assert rows == [
        {"external_id": yes.external_id, "email": yes.email, "first_name": "Ann", "country": "GB", "language": "en"}
    ]
    assert [(r["external_id"], r["phone"]) for r in export(crm_manager, segment, "sms")] == [
        (sms.external_id, "+447911123456")
    ]


def test_a_self_excluded_player_with_consent_is_not_exported(crm_manager, segment):
    kept = PlayerFactory(marketing_email=True)
    excluded = PlayerFactory(marketing_email=True)
    responsible.self_exclude(actor=None, player=excluded, term="6m")
    assert ids(export(crm_manager, segment)) == [kept.external_id]


def test_a_timed_out_player_is_not_exported_until_the_time_out_ends(crm_manager, segment):
    player = PlayerFactory(marketing_email=True)
    responsible.time_out(actor=None, player=player, hours=24)
    assert ids(export(crm_manager, segment)) == []
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert ids(export(crm_manager, segment)) == [player.external_id]


def test_a_national_register_hit_blocked_or_closed_player_is_not_exported(crm_manager, segment, registers):
    on_register = PlayerFactory(marketing_email=True, last_name="Excluded")
    registers.excluded.add("Excluded")
    blocked = PlayerFactory(marketing_email=True)
    players.player_set_block(
        actor=SystemActor("tests"),
        player=blocked,
        capability="marketing",
        blocked=True,
        reason="complaint",
        authority="support",
    )
    PlayerFactory(marketing_email=True, status="closed")
    kept = PlayerFactory(marketing_email=True)
    assert ids(export(crm_manager, segment)) == [kept.external_id]
    assert on_register.pk


def test_a_fully_used_limit_stops_marketing(crm_manager, segment):
    from apps.wallet import posting

    player = PlayerFactory(marketing_email=True)
    responsible.limit_set(actor=None, player=player, kind="deposit", period="day", value="50.00")
    posting.wallet_deposit(player=player, amount=Decimal("50.00"), currency="GBP")
    assert ids(export(crm_manager, segment)) == []


def test_a_static_segment_exports_its_snapshot_and_needs_one(crm_manager):
    first = PlayerFactory(marketing_email=True, vip_tier="gold")
    segment = services.segment_create(actor=crm_manager, name="Gold", criteria={"vip_tier": ["gold"]}, kind="static")
    with pytest.raises(Exception) as caught:
        services.marketing_export(actor=crm_manager, segment=segment, channel="email")
    assert getattr(caught.value, "code", "") == "segment_not_snapshotted"
    services.segment_snapshot(actor=crm_manager, segment=segment)
    PlayerFactory(marketing_email=True, vip_tier="gold")  # after the snapshot: not a member
    assert ids(export(crm_manager, segment)) == [first.external_id]


def test_an_unknown_channel_is_refused(crm_manager, segment):
    with pytest.raises(Exception) as caught:
        services.marketing_export(actor=crm_manager, segment=segment, channel="pigeon")
    assert getattr(caught.value, "code", "") == "export_channel_invalid"


def test_the_export_is_audited_with_who_what_channel_and_rows(crm_manager, segment):
    PlayerFactory(marketing_post=True, address_line="1 High St", city="Leeds", postal_code="LS1 1AA")
    PlayerFactory(marketing_post=True, address_line="=HYPERLINK(1)", city="York", postal_code="YO1")
    rows = export(crm_manager, segment, "post")
    assert [(r["address_line"], r["city"]) for r in rows] == [("1 High St", "Leeds"), ("'=HYPERLINK(1)", "York")]
    started = AuditEvent.objects.get(action="crm.export_started")
    done = AuditEvent.objects.get(action="crm.export_completed")
    assert started.actor_id == done.actor_id == str(crm_manager.pk)
    assert started.data == {"segment": "Everyone", "channel": "post", "kind": "dynamic"}
    assert done.data == {"segment": "Everyone", "channel": "post", "rows": 2}


def test_a_formula_in_a_name_is_written_as_text(crm_manager, segment):
    PlayerFactory(marketing_email=True, first_name="=cmd|' /C calc'!A0")
    assert export(crm_manager, segment)[0]["first_name"] == "'=cmd|' /C calc'!A0"


def test_it_reads_the_eligibility_facts_once_per_batch_not_per_player(crm_manager, segment):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_an_export() -> tuple[int, int]:
        lines = services.marketing_export(actor=crm_manager, segment=segment, channel="email")
        with CaptureQueriesContext(connection) as captured:
            rows = len(list(lines)) - 1
        return rows, len(captured)

    for _ in range(5):
        PlayerFactory(marketing_email=True, country="MT", currency="EUR")  # MT asks no register before marketing
    rows, few = queries_for_an_export()
    for _ in range(40):
        PlayerFactory(marketing_email=True, country="MT", currency="EUR")
    more_rows, many = queries_for_an_export()
    assert (rows, more_rows) == (5, 45)
    assert many == few  # the same queries for 45 players as for 5: per batch, never per player


@pytest.mark.parametrize("kind", ["dynamic", "static"])
def test_it_exports_every_member_across_batches(crm_manager, monkeypatch, kind):
    monkeypatch.setattr(services, "EXPORT_BATCH", 2)
    wanted = [PlayerFactory(marketing_email=True, vip_tier="gold") for _ in range(5)]
    PlayerFactory(marketing_email=True)
    segment = services.segment_create(actor=crm_manager, name="Gold", criteria={"vip_tier": ["gold"]}, kind=kind)
    services.segment_snapshot(actor=crm_manager, segment=segment)
    assert ids(export(crm_manager, segment)) == [p.external_id for p in wanted]
