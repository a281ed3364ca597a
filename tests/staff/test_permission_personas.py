"""Six permissions that only guarded a screen, each tried through the admin by a role without it (403, nothing
changed) and by a role with it (the change, and its audit row). Sessions have passed password and 2FA, as staff's
do. The personas' permissions are those the migrations gave their roles (apps/<app>/roles.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.core.models import OutboxDelivery, OutboxEvent
from apps.players.models import Player, PlayerNote
from apps.responsible import services as responsible
from apps.responsible.models import Exclusion, ExclusionCorrection
from apps.staff import roles
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.models import Adjustment, Withdrawal, WithdrawalHold
from tests.conftest import verified_client
from tests.factories import PlayerFactory, StaffUserFactory
from tests.refusals import snapshot

pytestmark = pytest.mark.django_db


@dataclass
class Attempt:
    url: str
    data: dict[str, object]
    done: Callable[[], bool]  # the change a granted persona makes is there
    audit: str  # the action of its audit row


def tags(player: Player) -> Attempt:
    return Attempt(
        url=f"/admin/players/player/{player.pk}/tags/",
        data={"tags": "vip, high-roller"},
        done=lambda: sorted(player.tags.values_list("name", flat=True)) == ["high-roller", "vip"],
        audit="player.tags_changed",
    )


def note(player: Player) -> Attempt:
    return Attempt(
        url=f"/admin/players/player/{player.pk}/note/",
        data={"text": "Called about a payment.", "visibility": "general"},
        done=lambda: PlayerNote.objects.filter(player=player, text="Called about a payment.").exists(),
        audit="player.note_added",
    )


def withdrawal_hold(player: Player) -> Attempt:
    posting.wallet_deposit(player=player, amount=Decimal("100.00"), currency="GBP")
    withdrawal = wallet.withdrawal_request(player=player, amount=Decimal("40.00"), currency="GBP")
    return Attempt(
        url=f"/admin/wallet/withdrawal/{withdrawal.pk}/decide/",
        data={"what": "hold", "reason": "source of funds"},
        done=lambda: WithdrawalHold.objects.filter(withdrawal=withdrawal, reason="source of funds").exists(),
        audit="withdrawal.hold_placed",
    )


def adjustment_approval(player: Player) -> Attempt:
    maker = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
    assert adjustment.status == "pending"  # above the default threshold (GBP 100)
    return Attempt(
        url="/admin/wallet/adjustment/",
        data={"action": "approve", "_selected_action": [adjustment.pk]},
        done=lambda: Adjustment.objects.get(pk=adjustment.pk).status == "posted",
        audit="adjustment.approved",
    )


def exclusion_correction(player: Player) -> Attempt:
    exclusion = responsible.self_exclude(actor=SystemActor("player"), player=player, term="5y")
    return Attempt(
        url=f"/admin/responsible/exclusion/{exclusion.pk}/decide/",
        data={"what": "correct", "term": "1y", "reason": "the player chose 1y on the phone"},
        done=lambda: ExclusionCorrection.objects.filter(exclusion=exclusion, term="1y").exists(),
        audit="rg.correction_requested",
    )


def outbox_redelivery(player: Player) -> Attempt:
    event = OutboxEvent.objects.create(type="player.blocked", key=player.external_id, data={})
    delivery = OutboxDelivery.objects.create(event=event, subscriber="abc", key=player.external_id, status="dead")
    return Attempt(
        url="/admin/core/outboxdelivery/",
        data={"action": "redeliver", "_selected_action": [delivery.pk]},
        done=lambda: OutboxDelivery.objects.get(pk=delivery.pk).status == "pending",
        audit="outbox.redelivered",
    )


TABLES = (
    Player,
    Player.tags.through,
    PlayerNote,
    Withdrawal,
    WithdrawalHold,
    Adjustment,
    Exclusion,
    ExclusionCorrection,
    OutboxEvent,
    OutboxDelivery,
    AuditEvent,
)
# permission, a role without it that sees the screen, a role with it, the attempt
CASES = [
    ("players.change_player_tags", roles.SUPPORT_AGENT, roles.CRM_MANAGER, tags),
    ("players.add_playernote", roles.CRM_MANAGER, roles.SUPPORT_AGENT, note),
    ("wallet.hold_withdrawal", roles.ADMINISTRATOR, roles.MLRO, withdrawal_hold),
    ("wallet.approve_adjustment", roles.ADMINISTRATOR, roles.FINANCE_OFFICER, adjustment_approval),
    ("responsible.correct_exclusion", roles.KYC_OFFICER, roles.SUPPORT_AGENT, exclusion_correction),
    # no role reads the outbox without redelivering (staff/0006): support, refused the page as well
    ("core.change_outboxdelivery", roles.SUPPORT_AGENT, roles.ADMINISTRATOR, outbox_redelivery),
]
IDS = [permission for permission, *_ in CASES]


@pytest.mark.parametrize(("permission", "denied", "granted", "attempt"), CASES, ids=IDS)
def test_it_refuses_the_role_without_the_permission_and_changes_nothing(permission, denied, granted, attempt):
    staff = StaffUserFactory(roles=[denied])
    assert not staff.has_perm(permission)
    tried = attempt(PlayerFactory())
    before = snapshot(TABLES)
    response = verified_client(staff).post(tried.url, tried.data)
    assert response.status_code == 403
    assert snapshot(TABLES) == before
    assert not tried.done()


@pytest.mark.parametrize(("permission", "denied", "granted", "attempt"), CASES, ids=IDS)
def test_it_lets_the_role_with_the_permission_make_the_change_and_audits_it(permission, denied, granted, attempt):
    staff = StaffUserFactory(roles=[granted])
    assert staff.has_perm(permission)
    tried = attempt(PlayerFactory())
    response = verified_client(staff).post(tried.url, tried.data)
    assert response.status_code == 302
    assert tried.done()
    event = AuditEvent.objects.filter(action=tried.audit).latest("id")
    assert (event.actor_type, event.actor_id) == ("staff", str(staff.pk))


def test_the_correction_queue_refuses_a_role_without_correct_exclusion():
    """The checker's side of correct_exclusion: applying a correction from the queue."""
    player, maker = PlayerFactory(), StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    exclusion = responsible.self_exclude(actor=SystemActor("player"), player=player, term="5y")
    correction = responsible.exclusion_correction_request(actor=maker, exclusion=exclusion, term="1y", reason="typo")
    data = {"action": "apply", "_selected_action": [correction.pk]}
    before = snapshot(TABLES)
    finance = StaffUserFactory(roles=[roles.FINANCE_OFFICER])  # sees exclusions and corrections, may not correct
    assert verified_client(finance).post("/admin/responsible/exclusioncorrection/", data).status_code == 403
    assert snapshot(TABLES) == before
    checker = StaffUserFactory(roles=[roles.MLRO])
    assert verified_client(checker).post("/admin/responsible/exclusioncorrection/", data).status_code == 302
    correction.refresh_from_db()
    assert correction.approved is True and correction.decided_by == checker
    assert AuditEvent.objects.filter(action="rg.correction_applied", actor_id=str(checker.pk)).exists()
