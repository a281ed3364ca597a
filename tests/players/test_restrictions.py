"""Restrictions name their authority; compliance and responsible-gambling ones are lifted by that authority and by
two people; compliance reasons and notes reach only staff with the compliance permission (tipping off)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.players import services
from apps.players.eligibility import can
from apps.players.models import PlayerRestriction
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/players/player/"
SECRET = "source of funds review"


def refused(code, fn, **kwargs):
    with pytest.raises(Exception) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value


def test_a_finance_officer_cannot_lift_the_mlros_withdrawal_block(mlro, finance_officer, player):
    services.player_set_block(actor=mlro, player=player, capability="withdrawal", blocked=True, reason=SECRET)
    restriction = PlayerRestriction.objects.get(player=player, what="withdrawal")
    assert (restriction.authority, restriction.visibility, restriction.placed_by) == ("compliance", "compliance", mlro)
    refused(
        "authority_required",
        services.player_set_block,
        actor=finance_officer,
        player=player,
        capability="withdrawal",
        blocked=False,
        reason="customer called",
    )
    player.refresh_from_db()
    assert player.blocked_withdrawal and "blocked_for_withdrawal" in can(player, "withdraw").reasons


def test_a_compliance_block_is_lifted_by_two_people_of_compliance(mlro, aml_analyst, player):
    services.player_set_block(actor=mlro, player=player, capability="withdrawal", blocked=True, reason=SECRET)
    after = services.player_set_block(
        actor=mlro, player=player, capability="withdrawal", blocked=False, reason="documents verified"
    )
    assert after.blocked_withdrawal  # only requested
    assert AuditEvent.objects.filter(action="player.restriction_lift_requested").count() == 1
    refused(
        "same_approver",
        services.player_set_block,
        actor=mlro,
        player=player,
        capability="withdrawal",
        blocked=False,
        reason="again",
    )
    after = services.player_set_block(
        actor=aml_analyst, player=player, capability="withdrawal", blocked=False, reason="confirmed"
    )
    assert not after.blocked_withdrawal and can(player, "withdraw").allowed
    restriction = PlayerRestriction.objects.get(player=player, what="withdrawal")
    assert (restriction.lift_requested_by, restriction.lifted_by) == (mlro, aml_analyst)
    assert AuditEvent.objects.get(action="player.unblocked_for_withdrawal").data["authority"] == "compliance"


def test_a_compliance_suspension_is_reactivated_by_two_people_and_moves_keep_the_authority(
    mlro, aml_analyst, admin_user, player
):
    services.player_set_status(actor=mlro, player=player, status="suspended", reason=SECRET)
    # an administrator closes the account: the compliance authority stays with it
    services.player_set_status(actor=admin_user, player=player, status="closed", reason="player asked")
    restriction = PlayerRestriction.objects.get(player=player, lifted_at=None)
    assert (restriction.status, restriction.authority) == ("closed", "compliance")
    refused(
        "authority_required",
        services.player_set_status,
        actor=admin_user,
        player=player,
        status="active",
        reason="reopen",
    )
    assert services.player_set_status(actor=aml_analyst, player=player, status="active", reason="ok").status == "closed"
    assert services.player_set_status(actor=mlro, player=player, status="active", reason="ok").status == "active"


def test_finance_and_support_blocks_are_lifted_by_one_person(finance_officer, player):
    services.player_set_block(
        actor=finance_officer, player=player, capability="deposit", blocked=True, reason="chargeback"
    )
    assert PlayerRestriction.objects.get(player=player).authority == "finance"
    other = StaffUserFactory(roles=["Finance Officer"])
    assert not services.player_set_block(
        actor=other, player=player, capability="deposit", blocked=False, reason="paid back"
    ).blocked_deposit


def test_staff_can_only_act_for_an_authority_they_hold(finance_officer, player):
    refused(
        "authority_required",
        services.player_set_block,
        actor=finance_officer,
        player=player,
        capability="bet",
        blocked=True,
        reason="x",
        authority="compliance",
    )
    refused(
        "authority_invalid",
        services.player_set_block,
        actor=finance_officer,
        player=player,
        capability="bet",
        blocked=True,
        reason="x",
        authority="police",
    )
    assert not PlayerRestriction.objects.exists()


def test_the_system_cannot_lift_a_protected_restriction(mlro, player):
    services.player_set_block(actor=mlro, player=player, capability="bet", blocked=True, reason=SECRET)
    refused(
        "authority_required",
        services.player_set_block,
        actor=SystemActor("job"),
        player=player,
        capability="bet",
        blocked=False,
        reason="x",
    )


def test_the_database_refuses_a_one_person_lift_and_any_rewrite(mlro, player):
    services.player_set_block(actor=mlro, player=player, capability="bet", blocked=True, reason=SECRET)
    restriction = PlayerRestriction.objects.get()
    for change in (
        {"lifted_at": timezone.now(), "lifted_by": mlro},
        {"lifted_at": timezone.now(), "lifted_by": mlro, "lift_requested_by": mlro},
        {"authority": "support"},
        {"reason": "nothing to see"},
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            PlayerRestriction.objects.filter(pk=restriction.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        PlayerRestriction.objects.filter(pk=restriction.pk).delete()


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("support_agent", False),
        ("crm_manager", False),
        ("kyc_officer", False),
        ("finance_officer", False),
        ("admin_user", False),
        ("aml_analyst", True),
        ("mlro", True),
    ],
)
def test_compliance_reasons_and_notes_reach_only_compliance_staff(request, staff_client, mlro, persona, sees):
    player = PlayerFactory()
    services.player_set_status(actor=mlro, player=player, status="suspended", reason=SECRET)
    services.player_note_add(actor=mlro, player=player, text="SAR considered", visibility="compliance")
    services.player_note_add(actor=mlro, player=player, text="Prefers e-mail")
    viewer = request.getfixturevalue(persona)
    client = staff_client(viewer)
    html = client.get(f"{LIST}{player.pk}/change/").content.decode()
    assert ("Prefers e-mail" in html) == viewer.has_perm("players.view_playernote")
    assert (SECRET in html) is sees and ("SAR considered" in html) is sees
    if not sees:
        assert "Suspended" in html  # the status itself is no secret: only its reason
    event = AuditEvent.objects.get(action="player.suspended")
    audit_page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    if audit_page.status_code == 200:
        assert (SECRET in audit_page.content.decode()) is sees
    else:
        assert audit_page.status_code in (302, 403)


def test_only_compliance_staff_write_compliance_notes(support_agent, player):
    refused(
        "visibility_not_allowed",
        services.player_note_add,
        actor=support_agent,
        player=player,
        text="x",
        visibility="compliance",
    )
    refused(
        "visibility_invalid", services.player_note_add, actor=support_agent, player=player, text="x", visibility="?"
    )
    assert not player.notes.exists()


def test_the_page_says_when_a_lift_waits_for_a_second_person(staff_client, mlro, player):
    services.player_set_block(actor=mlro, player=player, capability="bet", blocked=True, reason=SECRET)
    response = staff_client(mlro).post(
        f"{LIST}{player.pk}/block/", {"capability": "bet", "blocked": "0", "reason": "reviewed"}, follow=True
    )
    html = response.content.decode()
    assert "Lift requested: a second person" in html and "requested by" in html
    player.refresh_from_db()
    assert player.blocked_bet


RESTRICTIONS = "/admin/players/playerrestriction/"


def test_the_restrictions_list_is_the_checkers_queue_and_redacts_compliance_reasons(
    staff_client, mlro, support_agent, crm_manager, finance_officer
):
    player = PlayerFactory()
    services.player_set_block(actor=mlro, player=player, capability="bet", blocked=True, reason=SECRET)
    services.player_set_block(actor=mlro, player=player, capability="bet", blocked=False, reason="reviewed")
    services.player_set_block(
        actor=finance_officer, player=player, capability="deposit", blocked=True, reason="chargeback"
    )
    queue = staff_client(mlro).get(f"{RESTRICTIONS}?state=lift_requested").content.decode()
    assert SECRET in queue and "a second person confirms" in queue and "chargeback" not in queue
    support_view = staff_client(support_agent).get(RESTRICTIONS).content.decode()
    assert SECRET not in support_view and "[compliance only]" in support_view and "chargeback" in support_view
    restriction = PlayerRestriction.objects.get(what="bet")
    detail = staff_client(support_agent).get(f"{RESTRICTIONS}{restriction.pk}/change/")
    assert detail.status_code == 200 and SECRET not in detail.content.decode()
    assert staff_client(crm_manager).get(RESTRICTIONS).status_code == 403  # no view_playerrestriction
    assert staff_client(mlro).post(f"{RESTRICTIONS}{restriction.pk}/change/", {}).status_code == 403  # read-only


@pytest.mark.parametrize("bad", ["Ada\x1b[31m", "Ada\x07", "Ada\r\nByron", "Ada\x00"])
def test_staff_edits_refuse_control_characters_in_names(admin_user, player, bad):
    refused(
        "invalid",
        services.player_update,
        actor=admin_user,
        player=player,
        changes={"first_name": bad},
        staff=True,
        reason="KYC",
    )
    player.refresh_from_db()
    assert player.first_name != bad


def test_notes_reasons_and_addresses_keep_line_breaks_and_refuse_other_control_characters(admin_user, mlro, player):
    note = services.player_note_add(actor=mlro, player=player, text="Called.\r\nWill call back.")
    assert note.text == "Called.\nWill call back."
    refused("invalid", services.player_note_add, actor=mlro, player=player, text="beep\x07")
    refused(
        "invalid", services.player_set_block, actor=mlro, player=player, capability="bet", blocked=True, reason="\x1b"
    )
    updated = services.player_update(
        actor=admin_user, player=player, changes={"address_line": "1 High St\r\nFlat 2"}, staff=True, reason="KYC"
    )
    assert updated.address_line == "1 High St\nFlat 2"


@pytest.mark.parametrize(
    ("persona", "authority", "allowed"),
    [
        ("finance_officer", "finance", True),
        ("aml_analyst", "finance", False),
        ("aml_analyst", "support", True),
        ("finance_officer", "support", False),
        ("mlro", "responsible_gambling", True),
        ("finance_officer", "responsible_gambling", False),
        ("aml_analyst", "compliance", True),
        ("admin_user", "compliance", False),
    ],
)
def test_each_authority_is_held_by_its_roles_only(request, persona, authority, allowed):
    staff = request.getfixturevalue(persona)
    player = PlayerFactory()
    if allowed:
        services.player_set_block(
            actor=staff, player=player, capability="bonus", blocked=True, reason="x", authority=authority
        )
        assert PlayerRestriction.objects.get(player=player).authority == authority
    else:
        refused(
            "authority_required",
            services.player_set_block,
            actor=staff,
            player=player,
            capability="bonus",
            blocked=True,
            reason="x",
            authority=authority,
        )
        assert not PlayerRestriction.objects.filter(player=player).exists()
