"""Helpers of the persona sweep (tests/staff/test_personas.py): the ways a permission is exercised, the objects
they need (made on first use, so a case builds only its own), an admin form read back as a browser would post
it, and a test-only admin site whose admins of real models are narrowed by object grants."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from html.parser import HTMLParser
from typing import Any

from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.api.models import ApiClient
from apps.audit.admin import AuditEventAdmin
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor, audit_log
from apps.core.admin_tools import ReadOnlyAdminMixin
from apps.core.errors import ApplicationError
from apps.core.models import OutboxDelivery, OutboxEvent
from apps.geo.models import IpOverride, Jurisdiction, RulePack
from apps.players import services as players
from apps.players.admin import PlayerAdmin
from apps.players.models import Brand, Player, PlayerRestriction
from apps.responsible import services as responsible
from apps.responsible.identity_changes import identity_change_request
from apps.responsible.models import (
    Exclusion,
    ExclusionCorrection,
    Flag,
    IdentityChangeRequest,
    Interaction,
    Limit,
    LimitChange,
    RegisterCheck,
)
from apps.staff import roles
from apps.staff.admin_tools import ObjectPermissionAdminMixin
from apps.staff.models import StaffUser
from apps.staff.sites import StaffSite
from apps.wallet import posting
from apps.wallet import services as wallet
from apps.wallet.admin import AdjustmentAdmin, LedgerTransactionAdmin, WithdrawalAdmin
from apps.wallet.models import Adjustment, LedgerTransaction, Withdrawal
from tests.factories import PlayerFactory, StaffUserFactory

REFUSED = (403, 404)


class World:
    """What the cases act on, each made on first use."""

    @cached_property
    def player(self) -> Player:
        return PlayerFactory()

    def staff(self, role: str) -> StaffUser:
        return StaffUserFactory(roles=[role])

    @cached_property
    def audit_event(self) -> AuditEvent:
        audit_log(actor=SystemActor("tests"), action="tests.persona", target=self.player, data={})
        return AuditEvent.objects.latest("id")

    @cached_property
    def outbox_event(self) -> OutboxEvent:
        return OutboxEvent.objects.create(type="player.blocked", key=self.player.external_id, data={})

    @cached_property
    def dead_delivery(self) -> OutboxDelivery:
        return OutboxDelivery.objects.create(
            event=self.outbox_event, subscriber="abc", key=self.player.external_id, status="dead"
        )

    @cached_property
    def api_client(self) -> ApiClient:
        from tests.conftest import make_platform_client

        return make_platform_client(name="Persona platform").model

    @cached_property
    def jurisdiction(self) -> Jurisdiction:
        """One without rule packs: its change form has no inline rows."""
        return Jurisdiction.objects.create(code="XP", name="Persona land", time_zone="UTC")

    @cached_property
    def rule_pack(self) -> RulePack:
        return RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()  # type: ignore[return-value]

    @cached_property
    def kyc_document(self) -> Any:
        """A pending passport in an open review (rows only: making it writes no audit event)."""
        from django.utils import timezone

        from apps.kyc.models import Document, Review

        review = Review.objects.create(player=self.player, due_at=timezone.now())
        return Document.objects.create(
            player=self.player,
            review=review,
            type="passport",
            file_name=f"kyc/persona/{self.player.pk}.jpg",
            file_kind="jpeg",
            content_type="image/jpeg",
            size=1,
            sha256="0" * 64,
            source="api",
        )

    @cached_property
    def kyc_review(self) -> Any:
        """The persona document's open review, nobody assigned."""
        return self.kyc_document.review

    @cached_property
    def kyc_level_3_approval(self) -> Any:
        """A first officer's approval of enhanced due diligence, waiting for the second (rows only)."""
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone

        from apps.approvals.models import Approval

        document = self.kyc_document
        return Approval.objects.create(
            kind="kyc.level_3",
            target_ct=ContentType.objects.get_for_model(document),
            target_id=str(document.pk),
            player_id=self.player.pk,
            maker=self.staff(roles.KYC_OFFICER),
            reason="source of funds",
            payload={"document": document.pk, "level": 3},
            state="pending",
            requested_at=timezone.now(),
        )

    @cached_property
    def ip_override(self) -> IpOverride:
        return IpOverride.objects.create(network="198.51.100.0/24", action="block", reason="persona tests")

    @cached_property
    def brand(self) -> Brand:
        return Brand.objects.create(code="persona", name="Persona Casino")

    @cached_property
    def restriction(self) -> PlayerRestriction:
        players.player_set_block(
            actor=self.staff(roles.MLRO), player=self.player, capability="bonus", blocked=True, reason="persona"
        )
        return PlayerRestriction.objects.filter(player=self.player).latest("id")

    @cached_property
    def note(self) -> Any:
        return players.player_note_add(actor=self.staff(roles.SUPPORT_AGENT), player=self.player, text="Persona note")

    @cached_property
    def self_exclusion(self) -> Exclusion:
        return responsible.self_exclude(actor=SystemActor("player"), player=self.player, term="5y")

    @cached_property
    def operator_exclusion(self) -> Exclusion:
        return responsible.operator_exclude(
            actor=self.staff(roles.SUPPORT_AGENT), player=self.player, reason="RG review", capabilities=[]
        )

    @cached_property
    def lift_requested(self) -> Exclusion:
        return responsible.operator_lift_request(
            actor=self.staff(roles.SUPPORT_AGENT), exclusion=self.operator_exclusion, reason="affordability checked"
        )

    @cached_property
    def correction(self) -> ExclusionCorrection:
        return responsible.exclusion_correction_request(
            actor=self.staff(roles.SUPPORT_AGENT), exclusion=self.self_exclusion, term="1y", reason="typo"
        )

    @cached_property
    def identity_change(self) -> IdentityChangeRequest:
        diff = {"last_name": {"old": self.player.last_name, "new": "Persona"}}
        return identity_change_request(
            actor=self.staff(roles.KYC_OFFICER), player=self.player, diff=diff, reason="typo", exclusions=[]
        )

    @cached_property
    def interaction(self) -> Interaction:
        return responsible.interaction_record(
            actor=self.staff(roles.SUPPORT_AGENT), player=self.player, channel="call", summary="hi", outcome="ok"
        )

    @cached_property
    def limit(self) -> Limit:
        outcome = responsible.limit_set(
            actor=SystemActor("player"), player=self.player, kind="deposit", period="week", value="250.00"
        )
        assert outcome.limit is not None
        return outcome.limit

    @cached_property
    def limit_change(self) -> LimitChange:
        assert self.limit.pk  # the change the limit was made by
        return LimitChange.objects.filter(player=self.player).latest("id")

    @cached_property
    def flag(self) -> Flag:
        return Flag.objects.create(player=self.player, kind="limit_80", period_key="persona")

    @cached_property
    def register_check(self) -> RegisterCheck:
        return RegisterCheck.objects.create(
            player=self.player, subject=self.player.external_id, register="gamstop", point="login", outcome="miss"
        )

    @cached_property
    def other_staff(self) -> StaffUser:
        return StaffUserFactory(roles=[roles.SUPPORT_AGENT])

    @cached_property
    def deposit(self) -> LedgerTransaction:
        return self.deposit_of(self.player)

    @cached_property
    def withdrawal(self) -> Withdrawal:
        assert self.deposit.pk  # the money it is paid from
        return wallet.withdrawal_request(player=self.player, amount=Decimal("40.00"), currency="GBP")

    @cached_property
    def other_player(self) -> Player:
        return PlayerFactory()

    @cached_property
    def pending_adjustment(self) -> Adjustment:
        return self.adjustment_of(self.player)

    def adjustment_of(self, player: Player) -> Adjustment:
        maker = self.staff(roles.FINANCE_OFFICER)
        adjustment = wallet.adjustment_request(actor=maker, player=player, amount="500.00", reason="lost win")
        assert adjustment.status == "pending"  # above the default threshold (GBP 100)
        return adjustment

    def deposit_of(self, player: Player) -> LedgerTransaction:
        posting.wallet_deposit(player=player, amount=Decimal("100.00"), currency="GBP")
        return LedgerTransaction.objects.filter(player=player, type="deposit").latest("id")

    def withdrawal_of(self, player: Player) -> Withdrawal:
        self.deposit_of(player)
        return wallet.withdrawal_request(player=player, amount=Decimal("40.00"), currency="GBP")

    @cached_property
    def login(self) -> Any:
        players.player_login_record(player=self.player, ip="81.2.69.142")
        return self.player.logins.latest("id")

    @cached_property
    def approval(self) -> Any:
        """The request a pending adjustment leaves in the Approvals inbox."""
        from apps.approvals.models import Approval

        assert self.pending_adjustment.pk
        return Approval.objects.latest("id")

    @cached_property
    def periodic_task(self) -> PeriodicTask:
        every, _ = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.MINUTES)
        return PeriodicTask.objects.create(name="persona task", task="apps.audit.tasks.persona", interval=every)


Url = Callable[[World], str]
Data = Callable[[World], dict[str, Any]]
Check = Callable[[World], bool]


def audit_count() -> int:
    return AuditEvent.objects.count()


# The ways a permission is exercised. ``granted`` runs as a staff member holding it, ``refused`` as one without.
@dataclass(frozen=True)
class Get:
    """An admin page: 200 with the permission, 403 or 404 without."""

    url: Url

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        response = client.get(self.url(world))
        assert response.status_code == 200, response.status_code

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        response = client.get(self.url(world))
        assert response.status_code in REFUSED, response.status_code


@dataclass(frozen=True)
class Post:
    """A form or an action posted to the admin: with the permission it redirects and the change is there;
    without, 403 or 404, the change is not there and no audit row was written."""

    url: Url
    data: Data
    done: Check

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        response = client.post(self.url(world), self.data(world))
        assert response.status_code == 302, response.status_code
        assert self.done(world), "the page redirected but the change is not there"

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        url, data = self.url(world), self.data(world)
        before = audit_count()
        response = client.post(url, data)
        assert response.status_code in REFUSED, response.status_code
        assert not self.done(world)
        assert audit_count() == before


@dataclass(frozen=True)
class Change:
    """An admin change form, read back as the page renders it, with ``edits``, and posted."""

    url: Url
    edits: dict[str, Any]
    done: Check

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        url = self.url(world)
        page = client.get(url)
        assert page.status_code == 200, page.status_code
        response = client.post(url, {**form_data(page), **self.edits})
        assert response.status_code == 302, errors_of(response)
        assert self.done(world), "the form was saved but the change is not there"

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        url = self.url(world)
        before = audit_count()
        response = client.post(url, self.edits)
        assert response.status_code in REFUSED, response.status_code
        assert not self.done(world)
        assert audit_count() == before


@dataclass(frozen=True)
class Shown:
    """A page both may open; what the permission guards is on it for one and not for the other."""

    url: Url
    shows: Callable[[HttpResponse, World], bool]
    prepare: Callable[[World], object] = lambda w: None  # what must be there before the page is read

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        self.prepare(world)
        response = client.get(self.url(world))
        assert response.status_code == 200, response.status_code
        assert self.shows(response, world)

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        self.prepare(world)
        response = client.get(self.url(world))
        assert response.status_code == 200, response.status_code
        assert not self.shows(response, world)


@dataclass(frozen=True)
class Service:
    """A service that checks the permission itself: it returns for a holder and refuses anyone else with
    ``code`` (a PermissionDenied), writing nothing."""

    call: Callable[[World, StaffUser], object]
    code: str

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        self.call(world, staff)

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        before = audit_count()
        try:
            self.call(world, staff)
        except ApplicationError as exc:
            assert exc.code == self.code, exc.code
            assert exc.status == 403, exc.status
        else:
            raise AssertionError(f"the service did not refuse (expected {self.code})")
        assert audit_count() == before


@dataclass(frozen=True)
class Unchecked:
    """Nothing checks this permission: its model has no admin and no code names it (the sweep verifies both),
    so holding it or not changes nothing a user can reach. ``why`` says what stands in for it."""

    why: str = ""

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        pass

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        pass


Exercise = Get | Post | Change | Shown | Service | Unchecked


@dataclass(frozen=True)
class Case:
    """A permission's row: a role that holds it (None: no role does), a role that does not (``NO_ROLE``: a
    staff member with no role at all, for what every role holds), and how to exercise it."""

    granted: str | None
    denied: str | None
    how: Exercise = field(default_factory=Unchecked)


NO_ROLE = ""


def persona(role: str | None) -> StaffUser:
    return StaffUserFactory(roles=[role] if role else [])


# Admin forms read back as a browser would post them ----------------------------------------------------------
class _FormReader(HTMLParser):
    """The fields of the admin's change form (``<form id="<model>_form">``) with their current values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self.inside = False
        self.select: tuple[str, bool] | None = None
        self.first_option: str | None = None
        self.selected = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id", "").endswith("_form"):
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select" and name:
            self.select, self.first_option, self.selected = (name, "multiple" in a), None, False
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in a:
                self.selected = True
                self.data.setdefault(self.select[0], []).append(value)
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            name, multiple = self.select
            if not self.selected and not multiple and self.first_option is not None:
                self.data[name] = [self.first_option]
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.data[self.textarea] = [self.text.removeprefix("\n")]
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data


def form_data(page: HttpResponse) -> dict[str, Any]:
    reader = _FormReader()
    reader.feed(page.content.decode())
    assert reader.data, "no admin change form on the page"
    return {k: v if len(v) > 1 else v[0] for k, v in reader.data.items()}


def errors_of(response: HttpResponse) -> Any:
    context = getattr(response, "context", None)
    if context and "adminform" in context:
        return {"status": response.status_code, "errors": context["adminform"].form.errors}
    return response.status_code


# A test-only admin site: real admins of real models, narrowed by object grants -------------------------------
class _StillReadOnly:
    """ReadOnlyAdminMixin's refusals, placed before the mixin (the base already has ReadOnlyAdminMixin, behind it)."""

    has_add_permission = ReadOnlyAdminMixin.has_add_permission
    has_change_permission = ReadOnlyAdminMixin.has_change_permission
    has_delete_permission = ReadOnlyAdminMixin.has_delete_permission


def narrowed(base: type, *, read_only: bool = False) -> type:
    """``base`` with ObjectPermissionAdminMixin first (a refusing mixin before it, as the mixin asks)."""
    bases = (_StillReadOnly, ObjectPermissionAdminMixin, base) if read_only else (ObjectPermissionAdminMixin, base)
    return type(f"Narrowed{base.__name__}", bases, {})


granted_site = StaffSite(name="admin")
granted_site.register(Withdrawal, narrowed(WithdrawalAdmin))
granted_site.register(Adjustment, narrowed(AdjustmentAdmin))
granted_site.register(LedgerTransaction, narrowed(LedgerTransactionAdmin, read_only=True))
granted_site.register(AuditEvent, narrowed(AuditEventAdmin, read_only=True))
granted_site.register(Player, PlayerAdmin)  # the narrowed lists link their rows' players to the player page

urlpatterns = [path("admin/", granted_site.urls)]

__all__ = ["NO_ROLE", "REFUSED", "Case", "Change", "Get", "Post", "Service", "Shown", "Unchecked", "World"]
