"""The persona sweep: every permission that exists today, one role that holds it and succeeds, one that does not
and is refused (403 or 404, a service's permission error, or what it guards left off the page; never a 500).

``CASES`` has a row for every permission of our apps (the database's ``auth_permission``) and every permission a
role holds (``apps.staff.roles.defined_role_permissions``), with how it is exercised: an admin page, a form or an
action posted through the admin, a service that checks it, or nothing at all (``Unchecked``: its model has no
admin and no code names it, which the sweep verifies). A permission no role holds is tried by a role and refused.
A new permission without a row fails ``test_every_permission_has_a_row`` by name. Sessions have passed password
and 2FA, as staff's do; the personas hold what the migrations gave their roles.

Object grants (django-guardian) are tried at the end on real models' admins narrowed by
ObjectPermissionAdminMixin: the assignee and a colleague of the same role, neither holding the permission
role-wide."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_celery_beat.models import PeriodicTask
from guardian.shortcuts import assign_perm

from apps.api.models import ApiClient
from apps.audit.services import SystemActor
from apps.core.models import OutboxDelivery
from apps.geo.models import IpOverride, Jurisdiction, RulePack
from apps.kyc.models import Document, Requirement, Review, Vendor
from apps.players import services as players
from apps.players.models import Brand, Player, PlayerNote
from apps.responsible.models import Exclusion, ExclusionCorrection, IdentityChangeRequest, Interaction, Limit
from apps.staff import roles
from apps.staff.models import StaffUser
from apps.staff.permissions import can_act, visible_to
from apps.wallet.models import Adjustment, Withdrawal
from tests.bonuses.personas import BONUS_CASES
from tests.conftest import verified_client
from tests.crm.personas import CRM_CASES
from tests.factories import PlayerFactory, StaffUserFactory
from tests.kyc import documents as kyc_files
from tests.reports.personas import REPORT_CASES
from tests.staff.personas import NO_ROLE, Case, Change, Get, Post, Service, Shown, Unchecked, World, persona

pytestmark = pytest.mark.django_db

SA, KYC, AML, MLRO = roles.SUPPORT_AGENT, roles.KYC_OFFICER, roles.AML_ANALYST, roles.MLRO
CRM, FO, ADM = roles.CRM_MANAGER, roles.FINANCE_OFFICER, roles.ADMINISTRATOR
OUR_APPS = sorted({c.label for c in django_apps.get_app_configs() if c.name.startswith("apps.")})


@pytest.fixture(autouse=True)
def _quiet_refusals() -> Iterator[None]:
    """Django logs every 403 and 404 as a warning with its traceback, which the test settings' console
    renderer draws with its locals (about 2 s each): the sweep asserts the status itself. Errors still log."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


# Ways in, by URL ---------------------------------------------------------------------------------------------
def _base(label: str) -> str:
    app, model = label.split(".")
    return f"/admin/{app}/{model}/"


def changelist(label: str) -> Get:
    return Get(lambda w: _base(label))


def add_page(label: str) -> Get:
    return Get(lambda w: f"{_base(label)}add/")


def _object(label: str, obj: str, page: str) -> Any:
    return lambda w: f"{_base(label)}{getattr(w, obj).pk}/{page}/"


def delete_page(label: str, obj: str) -> Get:
    return Get(_object(label, obj, "delete"))


def change_post(label: str, obj: str) -> Post:
    """Posting the change form of a row: refused before the form is even read."""
    return Post(_object(label, obj, "change"), lambda w: {}, lambda w: False)


def action(label: str, name: str, obj: str, done: Any) -> Post:
    return Post(
        lambda w: _base(label), lambda w: {"action": name, helpers.ACTION_CHECKBOX_NAME: [getattr(w, obj).pk]}, done
    )


def player_form(view: str, data: dict[str, Any], done: Any) -> Post:
    return Post(lambda w: f"/admin/players/player/{w.player.pk}/{view}/", lambda w: data, done)


def profile_edit(w: World) -> dict[str, Any]:
    p = w.player
    return {
        "first_name": p.first_name,
        "last_name": "Renamed",
        "date_of_birth": p.date_of_birth.isoformat(),
        "email": p.email,
        "phone": p.phone,
        "address_line": p.address_line,
        "city": p.city,
        "postal_code": p.postal_code,
        "vip_tier": p.vip_tier,
        "reason": "the player's passport",
    }


def block_with(authority: str) -> Service:
    """The authority a restriction is imposed on, which the staff member must act for (players.act_<it>)."""

    def call(w: World, staff: StaffUser) -> object:
        return players.player_set_block(
            actor=staff, player=w.player, capability="bonus", blocked=True, reason="persona", authority=authority
        )

    return Service(call, "authority_required")


def exclusion_decision(obj: str, data: dict[str, Any], done: Any) -> Post:
    return Post(_object("responsible.exclusion", obj, "decide"), lambda w: data, done)


def player_page(shows: Any, prepare: Any) -> Shown:
    return Shown(lambda w: f"/admin/players/player/{w.player.pk}/change/", shows, prepare)


def player_section(name: str, shows: Any, prepare: Any) -> ShownOrRefused:
    """A section the player page loads after it (apps.players.page, deferred): its own page, 403 without."""

    def url(w: World) -> str:
        return f"/admin/players/player/{w.player.pk}/section/{name}/"

    return ShownOrRefused(Shown(url, shows, prepare), Get(url))


def shows_logins(response: Any, w: World) -> bool:
    return bool(response.context["section"]["logins"]) and b'id="sessions"' in response.content


def shows_notes(response: Any, w: World) -> bool:
    return response.context["notes"] == [w.note] and b"Persona note" in response.content


def shows_entries(response: Any, w: World) -> bool:
    return any(f.formset.model._meta.label == "wallet.Entry" for f in response.context["inline_admin_formsets"])


def compliance_note(w: World, staff: StaffUser) -> object:
    return players.player_note_add(actor=staff, player=w.player, text="SoF query", visibility="compliance")


def kyc_reject(w: World, staff: StaffUser) -> object:
    from apps.kyc.documents import document_decide

    return document_decide(actor=staff, document=w.kyc_document, decision="reject", reason_code="unreadable")


def kyc_second_approval(w: World, staff: StaffUser) -> object:
    from apps.approvals.services import approval_decide

    return approval_decide(actor=staff, approval=w.kyc_level_3_approval, approve=True)


def kyc_assign(w: World, staff: StaffUser) -> object:
    from apps.kyc.reviews import review_assign

    return review_assign(actor=staff, review=w.kyc_document.review, assignee=w.staff(roles.KYC_OFFICER))


def persona_vendor() -> Vendor:
    """The vendor the vendor rows act on (made through the service on first use, before anything is counted)."""
    from apps.kyc.vendors import vendor_save

    found = Vendor.objects.filter(slug="persona").first()
    return found or vendor_save(actor=SystemActor("tests"), slug="persona", name="Persona vendor", secret="p" * 40)


def persona_event(w: World) -> Any:
    """A vendor event, received as the webhook receives it (signed)."""
    import json

    from apps.kyc.models import VendorEvent
    from apps.kyc.vendors import signature_header, vendor_event_receive

    found = VendorEvent.objects.filter(event_id="persona-1").first()
    if found is not None:
        return found
    vendor = persona_vendor()
    body = json.dumps({"event_id": "persona-1", "document": w.kyc_document.pk, "decision": "reject"}).encode()
    return vendor_event_receive(slug=vendor.slug, signature=signature_header("p" * 40, body), body=body).event


def kyc_review(w: World) -> Any:
    return w.kyc_document.review


def kyc_review_page(w: World) -> str:
    return f"{_base('kyc.review')}{w.kyc_document.review_id}/change/"


def shows_unassigned_review(response: Any, w: World) -> bool:
    return [r.pk for r in response.context["cl"].result_list] == [w.kyc_document.review_id]


def shows_preview(response: Any, w: World) -> bool:
    return b'class="kyc-preview' in response.content


def kyc_requirement(w: World) -> object:
    from django.utils import timezone

    return Requirement.objects.create(player=w.player, level=2, trigger="staff", due_at=timezone.now())


def shows_requirement(response: Any, w: World) -> bool:
    return b'class="kyc-requirement"' in response.content


def ip_deleted(w: World) -> bool:
    return not IpOverride.objects.filter(pk=w.ip_override.pk).exists()


def edits_entries(response: Any, w: World) -> bool:
    """The entries inline offers to add, change or delete a leg."""
    return any(
        f.has_add_permission or f.has_change_permission or f.has_delete_permission
        for f in response.context["inline_admin_formsets"]
        if f.formset.model._meta.label == "wallet.Entry"
    )


@dataclass(frozen=True)
class ShownOrRefused:
    """Granted: the page shows what the permission guards; refused: the page itself is closed (every role that
    lacks the permission also lacks the page's own)."""

    shown: Shown
    page: Get

    def granted(self, world: World, client: Client, staff: StaffUser) -> None:
        self.shown.granted(world, client, staff)

    def refused(self, world: World, client: Client, staff: StaffUser) -> None:
        self.page.refused(world, client, staff)


def ledger_page(w: World) -> str:
    return f"/admin/wallet/ledgertransaction/{w.deposit.pk}/change/"


def not_enrolled(staff: StaffUser) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return not TOTPDevice.objects.filter(user=staff).exists()


def never(w: World) -> bool:
    return False


# compliance: the cases and rules (apps/compliance/admin). Objects are made on first use from the URL or prepare
# functions (before the sweep counts audit rows); a case lands in the Compliance inbox (the AML Analyst team)
def _made(w: World, key: str, make: Any) -> Any:
    if key not in w.__dict__:
        w.__dict__[key] = make()
    return w.__dict__[key]


def compliance_case(w: World) -> Any:
    """An AML case opened by hand for the persona player, nobody assigned: the inbox team's grant only."""
    from apps.compliance import cases

    def make() -> Any:
        opener = w.staff(MLRO)
        case = cases.case_open(actor=opener, player=w.player, case_type="aml", title="Persona case")
        if case.assignee_id is not None:
            cases.case_assign(actor=opener, case=case, assignee=None)
        return case

    return _made(w, "compliance_case", make)


def compliance_case_ungranted(w: World) -> Any:
    """An inbox case an analyst sees but may not work: the team's grant taken back."""
    from guardian.shortcuts import remove_perm

    case = compliance_case(w)
    remove_perm("compliance.work_case", Group.objects.get(pk=case.inbox.team_id), case)
    return case


def fraud_case(w: World) -> Any:
    """A case in an inbox the AML Analyst team does not work: only the MLRO sees it."""
    from apps.compliance import cases
    from apps.compliance.models import CaseInbox

    def make() -> Any:
        CaseInbox.objects.filter(name="Compliance").update(case_types=["aml", "kyc_edd", "sanctions"])
        team = Group.objects.create(name="Persona fraud team")
        CaseInbox.objects.create(name="Persona fraud", team=team, case_types=["fraud"], workdays=[1, 2, 3, 4, 5])
        return cases.case_open(actor=w.staff(MLRO), player=w.other_player, case_type="fraud", title="Persona fraud")

    return _made(w, "fraud_case", make)


def case_page(w: World) -> str:
    return f"/admin/compliance/case/{compliance_case(w).pk}/change/"


def closing_approval(w: World) -> Any:
    """A case closed as confirmed by an MLRO, waiting for a second person."""
    from apps.approvals.models import Approval
    from apps.compliance import cases

    def make() -> Any:
        maker = w.staff(MLRO)
        case = cases.case_open(actor=maker, player=PlayerFactory(), case_type="aml", title="Persona closing")
        cases.case_start(actor=maker, case=case)
        cases.case_close(actor=maker, case=case, outcome="confirmed", reason="persona")
        return Approval.objects.get(kind=cases.CONFIRM_KIND, target_id=str(case.pk))

    return _made(w, "closing_approval", make)


# sars: the reports to the FIU (apps/sars/admin): an MLRO drafts one on a case of their own, another decides it
def persona_sar(w: World, key: str = "persona_sar") -> Any:
    from apps.compliance import cases
    from apps.sars import services as sars

    def make() -> Any:
        maker = w.staff(MLRO)
        case = cases.case_open(actor=maker, player=PlayerFactory(), case_type="aml", title="Persona report")
        return sars.sar_draft(actor=maker, case=case, report_code="SAR", reason="persona", indicators=["-"])

    return _made(w, key, make)


def sar_page(w: World) -> str:
    return f"/admin/sars/sar/{persona_sar(w).pk}/change/"


def sar_approval(w: World) -> Any:
    """A report an MLRO submitted, waiting for a second person."""
    from apps.approvals.models import Approval
    from apps.sars import services as sars

    def make() -> Any:
        sar = persona_sar(w, "persona_sar_submitted")
        sars.sar_submit(actor=sar.created_by, sar=sar)
        return Approval.objects.get(kind=sars.APPROVE_KIND, target_id=str(sar.pk))

    return _made(w, "sar_approval", make)


def persona_rule(w: World, *, published: bool = False) -> Any:
    """A rule written as rows (no audit); with a published live version when asked."""
    from django.utils import timezone

    from apps.compliance.models import Rule, RuleVersion

    rule = _made(
        w, "persona_rule", lambda: Rule.objects.create(code="persona-rule", name="Persona rule", kind="amount_window")
    )
    if published and not rule.versions.filter(state="published").exists():
        RuleVersion.objects.create(
            rule=rule,
            number=rule.versions.count() + 1,
            kind="amount_window",
            params={"amount": {"amount": "1000.00", "currency": "GBP"}, "window": "24h"},
            state="published",
            published_at=timezone.now(),
        )
    return rule


def persona_version(w: World) -> Any:
    return persona_rule(w, published=True).versions.get(state="published")


def persona_alert(w: World) -> Any:
    from apps.compliance.models import Alert

    version = persona_version(w)
    return _made(
        w,
        "persona_alert",
        lambda: Alert.objects.create(
            rule=version.rule, version=version, player=w.player, window_key="persona", score=50
        ),
    )


def persona_hit(w: World) -> Any:
    from apps.compliance.models import RuleHit

    version = persona_version(w)
    return _made(
        w,
        "persona_hit",
        lambda: RuleHit.objects.create(
            version=version, rule=version.rule, player=w.player, shadow=True, window_key="persona"
        ),
    )


def persona_snooze(w: World) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    from apps.compliance.models import RuleSnooze

    rule = persona_rule(w, published=True)
    return _made(
        w,
        "persona_snooze",
        lambda: RuleSnooze.objects.create(
            rule=rule,
            player=w.player,
            reason="persona",
            until=timezone.now() + timedelta(days=3),
            created_by=w.staff(MLRO),
        ),
    )


def persona_status(w: World) -> Any:
    from apps.compliance.models import AnalystStatus

    return _made(w, "persona_status", lambda: AnalystStatus.objects.create(staff=w.staff(AML), away=False))


def compliance_inbox(w: World) -> Any:
    from apps.compliance.models import CaseInbox

    return CaseInbox.objects.get(name="Compliance")


def sla_policy(w: World) -> Any:
    from apps.compliance.models import SlaPolicy

    return SlaPolicy.objects.get(case_type="aml", priority="low")


def _compliance(model: str, obj: Any, page: str) -> Any:
    return lambda w: f"/admin/compliance/{model}/{obj(w).pk}/{page}/"


def compliance_backtest(w: World, staff: StaffUser) -> object:
    from datetime import date, timedelta

    from apps.compliance.backtest import backtest_start

    today = date.today()
    return backtest_start(actor=staff, version=persona_version(w), start=today - timedelta(days=7), end=today)


def persona_screening_hit(w: World) -> Any:
    """A screening hit on the persona player, made by the ORM (no audit event: a refusal must write none)."""
    from apps.screening.models import ListEntry, ListSnapshot, ScreeningHit, WatchList

    def make() -> Any:
        wl = WatchList.objects.create(code="persona-list", name="Persona list", source_format="csv")
        snap = ListSnapshot.objects.create(watchlist=wl, file_name="p.csv", file_sha256="0" * 64, entry_count=1)
        entry = ListEntry.objects.create(
            snapshot=snap, entry_id="p1", entry_type="individual", name="Persona", content_hash="0" * 64
        )
        return ScreeningHit.objects.create(
            player=w.player,
            watchlist=wl,
            matched_entry=entry,
            entry_id="p1",
            entry_hash="0" * 64,
            subject_hash="0" * 64,
            matched_name="Persona",
            score="0.900",
        )

    return _made(w, "persona_screening_hit", make)


def _screening(model: str, page: str) -> Any:
    """A page of the persona hit, or of its watchlist, snapshot or entry (apps/screening/admin)."""

    def url(w: World) -> str:
        hit = persona_screening_hit(w)
        obj = {
            "screeninghit": hit,
            "watchlist": hit.watchlist,
            "listsnapshot": hit.matched_entry.snapshot,
            "listentry": hit.matched_entry,
        }[model]
        return f"/admin/screening/{model}/{obj.pk}/{page}/"

    return url


def screening_reviewed(w: World) -> bool:
    from apps.screening.models import ScreeningHit

    return ScreeningHit.objects.get(pk=persona_screening_hit(w).pk).state == "false_positive"


def screening_import(w: World) -> dict[str, Any]:
    data = b"name,aliases,date_of_birth,country,list,type\nPersona Listed,,1970,FR,Persona import,individual\n"
    return {"fmt": "csv", "file": SimpleUploadedFile("persona-import.csv", data, content_type="text/csv")}


def screening_imported(w: World) -> bool:
    from apps.screening.models import WatchList

    return WatchList.objects.filter(name="Persona import").exists()


def compliance_models() -> Any:
    from apps.compliance import models

    return models


def shows(marker: str) -> Any:
    return lambda response, w: marker.encode() in response.content


NOBODY = None  # no role holds the permission
NO_ADMIN = Unchecked()

# permission -> (a role with it, a role without it, how it is exercised)
CASES: dict[str, Case] = {
    # api
    "api.view_apiclient": Case(ADM, MLRO, changelist("api.apiclient")),
    "api.add_apiclient": Case(ADM, MLRO, add_page("api.apiclient")),
    "api.change_apiclient": Case(
        ADM,
        MLRO,
        Change(
            _object("api.apiclient", "api_client", "change"),
            {"name": "Renamed platform"},
            lambda w: ApiClient.objects.get(pk=w.api_client.pk).name == "Renamed platform",
        ),
    ),
    "api.delete_apiclient": Case(NOBODY, ADM, delete_page("api.apiclient", "api_client")),  # revoke instead
    # audit (read-only)
    "audit.view_auditevent": Case(AML, SA, changelist("audit.auditevent")),
    "audit.add_auditevent": Case(NOBODY, ADM, add_page("audit.auditevent")),
    "audit.change_auditevent": Case(NOBODY, ADM, change_post("audit.auditevent", "audit_event")),
    "audit.delete_auditevent": Case(NOBODY, ADM, delete_page("audit.auditevent", "audit_event")),
    # core: the outbox
    "core.view_outboxevent": Case(ADM, SA, changelist("core.outboxevent")),  # plumbing: not support's
    "core.add_outboxevent": Case(NOBODY, ADM, add_page("core.outboxevent")),
    "core.change_outboxevent": Case(NOBODY, ADM, change_post("core.outboxevent", "outbox_event")),
    "core.delete_outboxevent": Case(NOBODY, ADM, delete_page("core.outboxevent", "outbox_event")),
    "core.view_outboxdelivery": Case(ADM, SA, changelist("core.outboxdelivery")),
    "core.add_outboxdelivery": Case(NOBODY, ADM, add_page("core.outboxdelivery")),
    "core.change_outboxdelivery": Case(
        ADM,
        SA,
        action(
            "core.outboxdelivery",
            "redeliver",
            "dead_delivery",
            lambda w: OutboxDelivery.objects.get(pk=w.dead_delivery.pk).status == "pending",
        ),
    ),
    "core.delete_outboxdelivery": Case(NOBODY, ADM, delete_page("core.outboxdelivery", "dead_delivery")),
    # core: long jobs' cursors (apps/core/jobs.py), written by tasks; no admin
    **{f"core.{verb}_job": Case(NOBODY, None, NO_ADMIN) for verb in ("view", "add", "change", "delete")},
    # kyc: the review queue. Officers see and decide what is assigned to them or their team (object grants, the
    # queue's scope is tested in tests/kyc/test_admin.py); the MLRO leads; Administrators see and assign
    "kyc.view_review": Case(KYC, SA, changelist("kyc.review")),
    "kyc.add_review": Case(NOBODY, ADM, add_page("kyc.review")),  # opened by an upload
    "kyc.change_review": Case(NOBODY, MLRO, change_post("kyc.review", "kyc_review")),  # decisions per document
    "kyc.delete_review": Case(NOBODY, ADM, delete_page("kyc.review", "kyc_review")),
    "kyc.view_all_reviews": Case(MLRO, KYC, Shown(lambda w: _base("kyc.review"), shows_unassigned_review, kyc_review)),
    "kyc.assign_review": Case(MLRO, KYC, Service(kyc_assign, "review_assign_not_permitted")),
    "kyc.claim_review": Case(
        KYC,
        ADM,
        Post(
            lambda w: f"{_base('kyc.review')}next/",
            lambda w: kyc_review(w) and {},
            lambda w: Review.objects.get(pk=w.kyc_document.review_id).assignee_id is not None,
        ),
    ),
    "kyc.decide_review": Case(MLRO, KYC, Service(kyc_reject, "review_not_permitted")),  # role-wide: a lead
    "kyc.approve_level_3": Case(MLRO, KYC, Service(kyc_second_approval, "approval_not_permitted")),
    "kyc.view_document": Case(MLRO, ADM, Shown(kyc_review_page, shows_preview, kyc_review)),
    "kyc.add_document": Case(
        KYC,
        SA,
        Post(
            lambda w: f"{_base('kyc.review')}players/{w.player.pk}/upload/",
            lambda w: {"document_type": "utility_bill", "file": SimpleUploadedFile("bill.pdf", kyc_files.pdf())},
            lambda w: Document.objects.filter(player=w.player, source="admin").exists(),
        ),
    ),
    "kyc.view_kycprofile": Case(KYC, SA, player_section("kyc", lambda r, w: b'id="kyc"' in r.content, lambda w: None)),
    "kyc.view_requirement": Case(KYC, SA, player_section("kyc", shows_requirement, kyc_requirement)),
    **{f"kyc.{verb}_document": Case(NOBODY, None, NO_ADMIN) for verb in ("change", "delete")},
    **{
        f"kyc.{verb}_{model}": Case(NOBODY, None, NO_ADMIN)
        for verb in ("add", "change", "delete")
        for model in ("kycprofile", "requirement")
    },
    **{f"kyc.{verb}_documentdecision": Case(NOBODY, None, NO_ADMIN) for verb in ("view", "add", "change", "delete")},
    # kyc: the verification vendors (apps/kyc/vendors_admin.py): Administrators configure them; events are read-only
    "kyc.view_vendor": Case(ADM, MLRO, changelist("kyc.vendor")),
    "kyc.add_vendor": Case(ADM, MLRO, add_page("kyc.vendor")),
    "kyc.change_vendor": Case(
        ADM,
        MLRO,
        Change(
            lambda w: f"{_base('kyc.vendor')}{persona_vendor().pk}/change/",
            {"name": "Persona vendor renamed"},
            lambda w: Vendor.objects.get(slug="persona").name == "Persona vendor renamed",
        ),
    ),
    "kyc.delete_vendor": Case(NOBODY, ADM, Get(lambda w: f"{_base('kyc.vendor')}{persona_vendor().pk}/delete/")),
    "kyc.view_vendorevent": Case(ADM, MLRO, changelist("kyc.vendorevent")),
    "kyc.add_vendorevent": Case(NOBODY, ADM, add_page("kyc.vendorevent")),
    "kyc.change_vendorevent": Case(
        NOBODY,
        ADM,
        Post(lambda w: f"{_base('kyc.vendorevent')}{persona_event(w).pk}/change/", lambda w: {}, lambda w: False),
    ),
    "kyc.delete_vendorevent": Case(
        NOBODY, ADM, Get(lambda w: f"{_base('kyc.vendorevent')}{persona_event(w).pk}/delete/")
    ),
    # geo: jurisdictions, rule packs, IP overrides (their history tables have no admin of their own)
    "geo.view_jurisdiction": Case(ADM, MLRO, changelist("geo.jurisdiction")),
    "geo.add_jurisdiction": Case(ADM, MLRO, add_page("geo.jurisdiction")),
    "geo.change_jurisdiction": Case(
        ADM,
        MLRO,
        Change(
            _object("geo.jurisdiction", "jurisdiction", "change"),
            {"name": "Persona land renamed"},
            lambda w: Jurisdiction.objects.get(pk=w.jurisdiction.pk).name == "Persona land renamed",
        ),
    ),
    "geo.delete_jurisdiction": Case(NOBODY, ADM, delete_page("geo.jurisdiction", "jurisdiction")),
    "geo.view_rulepack": Case(ADM, MLRO, changelist("geo.rulepack")),
    "geo.add_rulepack": Case(ADM, MLRO, add_page("geo.rulepack")),
    "geo.change_rulepack": Case(
        ADM,
        MLRO,
        Change(
            _object("geo.rulepack", "rule_pack", "change"),
            {"min_age": "21"},
            lambda w: RulePack.objects.get(pk=w.rule_pack.pk).min_age == 21,
        ),
    ),
    "geo.delete_rulepack": Case(NOBODY, ADM, delete_page("geo.rulepack", "rule_pack")),  # superseded, never deleted
    "geo.view_ipoverride": Case(ADM, MLRO, changelist("geo.ipoverride")),
    "geo.add_ipoverride": Case(ADM, MLRO, add_page("geo.ipoverride")),
    "geo.change_ipoverride": Case(
        ADM,
        MLRO,
        Change(
            _object("geo.ipoverride", "ip_override", "change"),
            {"reason": "persona tests, renamed"},
            lambda w: IpOverride.objects.get(pk=w.ip_override.pk).reason == "persona tests, renamed",
        ),
    ),
    "geo.delete_ipoverride": Case(
        ADM, MLRO, Post(_object("geo.ipoverride", "ip_override", "delete"), lambda w: {"post": "yes"}, ip_deleted)
    ),
    **{
        f"geo.{verb}_{model}": Case(NOBODY, None, NO_ADMIN)
        for verb in ("view", "add", "change", "delete")
        for model in ("geoconfigversion", "historicaljurisdiction", "historicalrulepack", "historicalipoverride")
    },
    # players
    "players.view_player": Case(CRM, NO_ROLE, changelist("players.player")),
    "players.add_player": Case(NOBODY, ADM, add_page("players.player")),  # the platform registers players
    "players.change_player": Case(
        KYC,
        SA,
        Post(
            lambda w: f"/admin/players/player/{w.player.pk}/profile/",
            profile_edit,
            lambda w: Player.objects.get(pk=w.player.pk).last_name == "Renamed",
        ),
    ),
    "players.delete_player": Case(NOBODY, ADM, delete_page("players.player", "player")),  # AML retention
    "players.change_player_blocks": Case(
        FO,
        SA,
        player_form(
            "block",
            {"capability": "bet", "blocked": "1", "reason": "persona"},
            lambda w: Player.objects.get(pk=w.player.pk).blocked_bet,
        ),
    ),
    "players.change_player_status": Case(
        MLRO,
        AML,
        player_form(
            "status",
            {"status": "suspended", "reason": "persona"},
            lambda w: Player.objects.get(pk=w.player.pk).status == "suspended",
        ),
    ),
    "players.change_player_tags": Case(
        CRM,
        SA,
        player_form("tags", {"tags": "vip"}, lambda w: list(w.player.tags.values_list("name", flat=True)) == ["vip"]),
    ),
    "players.view_compliance": Case(MLRO, SA, Service(compliance_note, "visibility_not_allowed")),
    "players.act_compliance": Case(AML, ADM, block_with("compliance")),
    "players.act_responsible_gambling": Case(SA, FO, block_with("responsible_gambling")),
    "players.act_finance": Case(FO, AML, block_with("finance")),
    "players.act_support": Case(ADM, FO, block_with("support")),
    "players.view_playerlogin": Case(SA, CRM, player_section("sessions", shows_logins, lambda w: w.login)),
    **{f"players.{verb}_playerlogin": Case(NOBODY, None, NO_ADMIN) for verb in ("add", "change", "delete")},
    "players.view_playernote": Case(KYC, CRM, player_page(shows_notes, lambda w: w.note)),
    "players.add_playernote": Case(
        SA,
        CRM,
        player_form(
            "note",
            {"text": "Called.", "visibility": "general"},
            lambda w: PlayerNote.objects.filter(player=w.player, text="Called.").exists(),
        ),
    ),
    **{f"players.{verb}_playernote": Case(NOBODY, None, NO_ADMIN) for verb in ("change", "delete")},
    "players.view_playerrestriction": Case(KYC, CRM, changelist("players.playerrestriction")),
    "players.add_playerrestriction": Case(NOBODY, ADM, add_page("players.playerrestriction")),
    "players.change_playerrestriction": Case(NOBODY, ADM, change_post("players.playerrestriction", "restriction")),
    "players.delete_playerrestriction": Case(NOBODY, ADM, delete_page("players.playerrestriction", "restriction")),
    "players.view_brand": Case(ADM, MLRO, changelist("players.brand")),
    "players.add_brand": Case(ADM, MLRO, add_page("players.brand")),
    "players.change_brand": Case(
        ADM,
        MLRO,
        Change(
            _object("players.brand", "brand", "change"),
            {"name": "Persona Palace"},
            lambda w: Brand.objects.get(pk=w.brand.pk).name == "Persona Palace",
        ),
    ),
    "players.delete_brand": Case(NOBODY, ADM, delete_page("players.brand", "brand")),  # deactivated instead
    **{f"players.{verb}_tag": Case(NOBODY, None, NO_ADMIN) for verb in ("view", "add", "change", "delete")},
    # responsible: exclusions and their lifts and corrections
    "responsible.view_exclusion": Case(FO, CRM, changelist("responsible.exclusion")),
    # the add page asks for exclude_player, not add_exclusion
    "responsible.add_exclusion": Case(NOBODY, ADM, add_page("responsible.exclusion")),
    "responsible.change_exclusion": Case(NOBODY, ADM, change_post("responsible.exclusion", "self_exclusion")),
    "responsible.delete_exclusion": Case(NOBODY, ADM, delete_page("responsible.exclusion", "self_exclusion")),
    "responsible.exclude_player": Case(
        SA,
        ADM,
        Post(
            lambda w: "/admin/responsible/exclusion/add/",
            lambda w: {"player_external_id": w.player.external_id, "reason": "RG review"},
            lambda w: Exclusion.objects.filter(player=w.player, kind="operator").exists(),
        ),
    ),
    "responsible.request_lift": Case(
        SA,
        AML,
        exclusion_decision(
            "operator_exclusion",
            {"what": "request_lift", "reason": "affordability checked"},
            lambda w: Exclusion.objects.get(pk=w.operator_exclusion.pk).lift_requested_by_id is not None,
        ),
    ),
    "responsible.decide_lift": Case(
        AML,
        SA,
        exclusion_decision(
            "lift_requested",
            {"what": "approve_lift"},
            lambda w: Exclusion.objects.get(pk=w.lift_requested.pk).lift_approved_by_id is not None,
        ),
    ),
    "responsible.correct_exclusion": Case(
        MLRO,
        KYC,
        action(
            "responsible.exclusioncorrection",
            "apply",
            "correction",
            lambda w: ExclusionCorrection.objects.get(pk=w.correction.pk).approved is True,
        ),
    ),
    "responsible.view_exclusioncorrection": Case(SA, CRM, changelist("responsible.exclusioncorrection")),
    "responsible.add_exclusioncorrection": Case(NOBODY, ADM, add_page("responsible.exclusioncorrection")),
    "responsible.change_exclusioncorrection": Case(
        NOBODY, ADM, change_post("responsible.exclusioncorrection", "correction")
    ),
    "responsible.delete_exclusioncorrection": Case(
        NOBODY, ADM, delete_page("responsible.exclusioncorrection", "correction")
    ),
    **{
        f"responsible.{verb}_exclusioncover": Case(NOBODY, None, NO_ADMIN)
        for verb in ("view", "add", "change", "delete")
    },
    # responsible: identity edits held for a second person
    "responsible.view_identitychangerequest": Case(KYC, CRM, changelist("responsible.identitychangerequest")),
    "responsible.add_identitychangerequest": Case(NOBODY, ADM, add_page("responsible.identitychangerequest")),
    "responsible.change_identitychangerequest": Case(
        NOBODY, ADM, change_post("responsible.identitychangerequest", "identity_change")
    ),
    "responsible.delete_identitychangerequest": Case(
        NOBODY, ADM, delete_page("responsible.identitychangerequest", "identity_change")
    ),
    "responsible.decide_identity_change": Case(
        KYC,
        SA,
        Post(  # a refusal carries its reason (the action's intermediate page, posted)
            lambda w: _base("responsible.identitychangerequest"),
            lambda w: {
                "action": "refuse",
                helpers.ACTION_CHECKBOX_NAME: [w.identity_change.pk],
                "reason_given": "1",
                "reason": "not what the passport says",
            },
            lambda w: IdentityChangeRequest.objects.get(pk=w.identity_change.pk).approved is False,
        ),
    ),
    # responsible: interactions, limits, flags, register checks
    "responsible.view_interaction": Case(MLRO, CRM, changelist("responsible.interaction")),
    "responsible.add_interaction": Case(
        SA,
        AML,
        Post(
            lambda w: "/admin/responsible/interaction/add/",
            lambda w: {"player_external_id": w.player.external_id, "channel": "call", "summary": "s", "outcome": "o"},
            lambda w: Interaction.objects.filter(player=w.player).exists(),
        ),
    ),
    "responsible.change_interaction": Case(NOBODY, ADM, change_post("responsible.interaction", "interaction")),
    "responsible.delete_interaction": Case(NOBODY, ADM, delete_page("responsible.interaction", "interaction")),
    "responsible.view_limit": Case(SA, CRM, changelist("responsible.limit")),
    # the add page asks for set_operator_limit, not add_limit
    "responsible.add_limit": Case(NOBODY, ADM, add_page("responsible.limit")),
    "responsible.change_limit": Case(NOBODY, ADM, change_post("responsible.limit", "limit")),
    "responsible.delete_limit": Case(NOBODY, ADM, delete_page("responsible.limit", "limit")),
    "responsible.set_operator_limit": Case(
        SA,
        ADM,
        Post(
            lambda w: "/admin/responsible/limit/add/",
            lambda w: {
                "player_external_id": w.player.external_id,
                "kind": "deposit",
                "period": "week",
                "value": "250.00",
                "reason": "RG review",
            },
            lambda w: Limit.objects.filter(player=w.player, source="operator").exists(),
        ),
    ),
    "responsible.view_limitchange": Case(AML, CRM, changelist("responsible.limitchange")),
    "responsible.add_limitchange": Case(NOBODY, ADM, add_page("responsible.limitchange")),
    "responsible.change_limitchange": Case(NOBODY, ADM, change_post("responsible.limitchange", "limit_change")),
    "responsible.delete_limitchange": Case(NOBODY, ADM, delete_page("responsible.limitchange", "limit_change")),
    "responsible.view_flag": Case(FO, CRM, changelist("responsible.flag")),
    "responsible.add_flag": Case(NOBODY, ADM, add_page("responsible.flag")),
    "responsible.change_flag": Case(NOBODY, ADM, change_post("responsible.flag", "flag")),
    "responsible.delete_flag": Case(NOBODY, ADM, delete_page("responsible.flag", "flag")),
    "responsible.view_registercheck": Case(KYC, CRM, changelist("responsible.registercheck")),
    "responsible.add_registercheck": Case(NOBODY, ADM, add_page("responsible.registercheck")),
    "responsible.change_registercheck": Case(NOBODY, ADM, change_post("responsible.registercheck", "register_check")),
    "responsible.delete_registercheck": Case(NOBODY, ADM, delete_page("responsible.registercheck", "register_check")),
    # staff
    "staff.view_staffuser": Case(ADM, MLRO, changelist("staff.staffuser")),
    "staff.add_staffuser": Case(ADM, MLRO, add_page("staff.staffuser")),
    "staff.change_staffuser": Case(
        ADM,
        MLRO,
        Change(
            _object("staff.staffuser", "other_staff", "change"),
            {"email": "renamed@staff.invalid"},
            lambda w: StaffUser.objects.get(pk=w.other_staff.pk).email == "renamed@staff.invalid",
        ),
    ),
    "staff.delete_staffuser": Case(NOBODY, ADM, delete_page("staff.staffuser", "other_staff")),  # deactivate
    "staff.reset_second_factor": Case(
        ADM,
        MLRO,
        action("staff.staffuser", "reset_second_factor", "other_staff", lambda w: not_enrolled(w.other_staff)),
    ),
    # wallet: the ledger (read-only), accounts, idempotency records
    "wallet.view_ledgertransaction": Case(FO, SA, changelist("wallet.ledgertransaction")),  # support sees no money
    "wallet.add_ledgertransaction": Case(NOBODY, ADM, add_page("wallet.ledgertransaction")),
    "wallet.change_ledgertransaction": Case(NOBODY, ADM, change_post("wallet.ledgertransaction", "deposit")),
    "wallet.delete_ledgertransaction": Case(NOBODY, ADM, delete_page("wallet.ledgertransaction", "deposit")),
    # the entries are an inline of the transaction's page, shown to whoever holds any of the four entry
    # permissions (Django's rule for inlines): whoever sees transactions sees their entries (wallet/0009)
    "wallet.view_entry": Case(FO, SA, ShownOrRefused(Shown(ledger_page, shows_entries), Get(ledger_page))),
    # nobody may add, change or delete an entry: the inline offers none of it to whoever sees it
    **{
        f"wallet.{verb}_entry": Case(NOBODY, FO, Shown(ledger_page, edits_entries))
        for verb in ("add", "change", "delete")
    },
    # balances are shown on the player page to holders of view_ledgertransaction; Account has no admin
    "wallet.view_account": Case(FO, KYC, Unchecked("balances: view_ledgertransaction")),
    **{f"wallet.{verb}_account": Case(NOBODY, None, NO_ADMIN) for verb in ("add", "change", "delete")},
    **{
        f"wallet.{verb}_idempotencyrecord": Case(NOBODY, None, NO_ADMIN) for verb in ("view", "add", "change", "delete")
    },
    # wallet: withdrawals and their holds
    "wallet.view_withdrawal": Case(FO, SA, changelist("wallet.withdrawal")),
    "wallet.add_withdrawal": Case(NOBODY, ADM, add_page("wallet.withdrawal")),  # the platform asks for them
    "wallet.change_withdrawal": Case(NOBODY, FO, change_post("wallet.withdrawal", "withdrawal")),
    "wallet.delete_withdrawal": Case(NOBODY, ADM, delete_page("wallet.withdrawal", "withdrawal")),
    "wallet.approve_withdrawal": Case(
        FO,
        MLRO,
        action(
            "wallet.withdrawal",
            "approve",
            "withdrawal",
            lambda w: Withdrawal.objects.get(pk=w.withdrawal.pk).status == "approved",
        ),
    ),
    "wallet.hold_withdrawal": Case(
        AML,
        SA,
        Post(
            _object("wallet.withdrawal", "withdrawal", "decide"),
            lambda w: {"what": "hold", "reason": "source of funds"},
            lambda w: w.withdrawal.holds.filter(reason="source of funds").exists(),
        ),
    ),
    **{f"wallet.{verb}_withdrawalhold": Case(NOBODY, None, NO_ADMIN) for verb in ("view", "add", "change", "delete")},
    # wallet: manual adjustments (maker-checker)
    "wallet.view_adjustment": Case(MLRO, SA, changelist("wallet.adjustment")),
    "wallet.add_adjustment": Case(
        FO,
        MLRO,
        Post(
            lambda w: "/admin/wallet/adjustment/add/",
            lambda w: {"player_external_id": w.player.external_id, "amount_text": "10.00", "reason": "goodwill"},
            lambda w: Adjustment.objects.filter(player=w.player, status="posted").exists(),
        ),
    ),
    "wallet.change_adjustment": Case(NOBODY, ADM, change_post("wallet.adjustment", "pending_adjustment")),
    "wallet.delete_adjustment": Case(NOBODY, ADM, delete_page("wallet.adjustment", "pending_adjustment")),
    "wallet.approve_adjustment": Case(
        FO,
        ADM,
        action(
            "wallet.adjustment",
            "approve",
            "pending_adjustment",
            lambda w: Adjustment.objects.get(pk=w.pending_adjustment.pk).status == "posted",
        ),
    ),
    # wallet: the per-player day rollups and the posting events' queue (written by postings, read by services)
    **{
        f"wallet.{verb}_{model}": Case(NOBODY, None, NO_ADMIN)
        for verb in ("view", "add", "change", "delete")
        for model in ("playerday", "postingqueueitem")
    },
    # compliance: cases (the wall: without view_case a list is 403 and a case 404, as one that does not exist)
    "compliance.view_case": Case(AML, SA, changelist("compliance.case")),
    "compliance.add_case": Case(
        AML,
        SA,
        Post(
            lambda w: "/admin/compliance/case/add/",
            lambda w: {
                "player_external_id": w.player.external_id,
                "case_type": "aml",
                "priority": "medium",
                "title": "Persona case by hand",
            },
            lambda w: compliance_models().Case.objects.filter(player=w.player, title="Persona case by hand").exists(),
        ),
    ),
    "compliance.change_case": Case(NOBODY, MLRO, Post(case_page, lambda w: {}, never)),  # the services write
    "compliance.delete_case": Case(NOBODY, ADM, Get(_compliance("case", compliance_case, "delete"))),
    "compliance.view_all_cases": Case(
        MLRO,
        AML,
        Shown(
            changelist("compliance.case").url,
            lambda r, w: fraud_case(w).pk in [c.pk for c in r.context["cl"].result_list],
            fraud_case,
        ),
    ),
    # role-wide for the MLRO; analysts hold it per case (the grants cases.py writes): without one, no forms
    "compliance.work_case": Case(MLRO, AML, Shown(case_page, shows('id="case-form-note"'), compliance_case_ungranted)),
    "compliance.assign_case": Case(MLRO, AML, Shown(case_page, shows('id="case-form-assign"'), compliance_case)),
    "compliance.approve_case_closing": Case(
        MLRO,
        AML,
        ShownOrRefused(
            Shown(
                lambda w: f"/admin/approvals/approval/{closing_approval(w).pk}/change/",
                lambda r, w: r.context["can_decide"],
                closing_approval,
            ),
            Get(lambda w: f"/admin/approvals/approval/{closing_approval(w).pk}/change/"),
        ),
    ),
    "compliance.case_actions": Case(
        AML,
        SA,
        Post(
            lambda w: w.withdrawal and f"/admin/compliance/case/{compliance_case(w).pk}/do/action/",
            lambda w: {"action": "hold_withdrawals", "reason": "source of funds"},
            lambda w: w.withdrawal.holds.filter(reason="Held for review").exists(),
        ),
    ),
    "compliance.view_caseevent": Case(
        AML, SA, ShownOrRefused(Shown(case_page, shows('id="case-timeline"'), compliance_case), Get(case_page))
    ),
    "compliance.view_casetransaction": Case(
        AML, SA, ShownOrRefused(Shown(case_page, shows('id="case-transactions"'), compliance_case), Get(case_page))
    ),
    "compliance.view_caseattachment": Case(
        AML,
        SA,
        ShownOrRefused(
            Shown(case_page, lambda r, w: r.context["attachments"] is not None, compliance_case), Get(case_page)
        ),
    ),
    **{
        f"compliance.{verb}_{model}": Case(NOBODY, None, NO_ADMIN)
        for verb in ("add", "change", "delete")
        for model in ("caseevent", "casetransaction", "caseattachment")
    },
    # compliance: alerts, rules, versions, hits, snoozes (apps/compliance/rulebook.py writes)
    "compliance.view_alert": Case(AML, SA, changelist("compliance.alert")),
    "compliance.add_alert": Case(NOBODY, MLRO, add_page("compliance.alert")),
    "compliance.change_alert": Case(
        NOBODY, MLRO, Post(_compliance("alert", persona_alert, "change"), lambda w: {}, never)
    ),
    "compliance.delete_alert": Case(NOBODY, MLRO, Get(_compliance("alert", persona_alert, "delete"))),
    "compliance.view_rule": Case(AML, SA, changelist("compliance.rule")),
    "compliance.add_rule": Case(
        AML,
        SA,
        Post(
            lambda w: "/admin/compliance/rule/add/",
            lambda w: {"code": "persona-new-rule", "name": "Persona new rule", "kind": "count_window"},
            lambda w: compliance_models().Rule.objects.filter(code="persona-new-rule").exists(),
        ),
    ),
    "compliance.change_rule": Case(
        NOBODY, MLRO, Post(_compliance("rule", persona_rule, "change"), lambda w: {}, never)
    ),
    "compliance.delete_rule": Case(NOBODY, MLRO, Get(_compliance("rule", persona_rule, "delete"))),
    "compliance.view_ruleversion": Case(AML, SA, changelist("compliance.ruleversion")),
    "compliance.add_ruleversion": Case(
        AML,
        SA,
        Post(
            _compliance("rule", persona_rule, "draft"),
            lambda w: {
                "score": "50",
                "case_type": "aml",
                "priority": "medium",
                "mode": "shadow",
                "note": "persona",
                "p_amount": "2000 GBP",
                "p_window": "24h",
            },
            lambda w: persona_rule(w).versions.filter(state="draft").exists(),
        ),
    ),
    "compliance.change_ruleversion": Case(
        NOBODY, MLRO, Post(_compliance("ruleversion", persona_version, "change"), lambda w: {}, never)
    ),
    "compliance.delete_ruleversion": Case(NOBODY, MLRO, Get(_compliance("ruleversion", persona_version, "delete"))),
    "compliance.publish_rule": Case(  # retiring is as much the second person's decision as publishing
        MLRO,
        AML,
        Post(
            lambda w: f"/admin/compliance/ruleversion/{persona_version(w).pk}/do/retire/",
            lambda w: {"retire-reason": "persona"},
            lambda w: persona_rule(w).versions.filter(state="retired").exists(),
        ),
    ),
    "compliance.backtest_rule": Case(AML, SA, Service(compliance_backtest, "case_not_permitted")),
    "compliance.snooze_rule": Case(
        AML,
        SA,
        Post(
            lambda w: f"/admin/compliance/rule/{persona_rule(w, published=True).pk}/snooze/",
            lambda w: {
                "player_external_id": w.player.external_id,
                "reason": "known salary",
                "until": (__import__("datetime").date.today() + __import__("datetime").timedelta(days=9)).isoformat(),
            },
            lambda w: compliance_models().RuleSnooze.objects.filter(reason="known salary").exists(),
        ),
    ),
    "compliance.view_rulehit": Case(AML, SA, changelist("compliance.rulehit")),
    "compliance.add_rulehit": Case(NOBODY, MLRO, add_page("compliance.rulehit")),
    "compliance.change_rulehit": Case(
        NOBODY, MLRO, Post(_compliance("rulehit", persona_hit, "change"), lambda w: {}, never)
    ),
    "compliance.delete_rulehit": Case(NOBODY, MLRO, Get(_compliance("rulehit", persona_hit, "delete"))),
    "compliance.view_rulesnooze": Case(AML, SA, changelist("compliance.rulesnooze")),
    "compliance.add_rulesnooze": Case(NOBODY, MLRO, add_page("compliance.rulesnooze")),
    "compliance.change_rulesnooze": Case(
        NOBODY, MLRO, Post(_compliance("rulesnooze", persona_snooze, "change"), lambda w: {}, never)
    ),
    "compliance.delete_rulesnooze": Case(NOBODY, MLRO, Get(_compliance("rulesnooze", persona_snooze, "delete"))),
    # compliance: what the configure permissions change (the Administrator, who sees no case)
    "compliance.view_caseinbox": Case(ADM, AML, changelist("compliance.caseinbox")),
    "compliance.add_caseinbox": Case(ADM, AML, add_page("compliance.caseinbox")),
    "compliance.change_caseinbox": Case(
        ADM,
        AML,
        Change(
            _compliance("caseinbox", compliance_inbox, "change"),
            {"holiday_subdivision": "SCT"},
            lambda w: compliance_inbox(w).holiday_subdivision == "SCT",
        ),
    ),
    "compliance.delete_caseinbox": Case(NOBODY, ADM, Get(_compliance("caseinbox", compliance_inbox, "delete"))),
    "compliance.view_slapolicy": Case(ADM, AML, changelist("compliance.slapolicy")),
    "compliance.add_slapolicy": Case(NOBODY, ADM, add_page("compliance.slapolicy")),  # one per type and priority
    "compliance.change_slapolicy": Case(
        ADM,
        AML,
        Change(_compliance("slapolicy", sla_policy, "change"), {"hours": "200"}, lambda w: sla_policy(w).hours == 200),
    ),
    "compliance.delete_slapolicy": Case(NOBODY, ADM, Get(_compliance("slapolicy", sla_policy, "delete"))),
    "compliance.view_analyststatus": Case(ADM, AML, changelist("compliance.analyststatus")),
    "compliance.add_analyststatus": Case(NOBODY, ADM, add_page("compliance.analyststatus")),
    "compliance.change_analyststatus": Case(
        ADM,
        AML,
        Change(
            _compliance("analyststatus", persona_status, "change"),
            {"away": "on"},
            lambda w: compliance_models().AnalystStatus.objects.get(pk=persona_status(w).pk).away,
        ),
    ),
    "compliance.delete_analyststatus": Case(NOBODY, ADM, Get(_compliance("analyststatus", persona_status, "delete"))),
    # screening (apps/screening/admin): the compliance roles only; the services write, nothing through a form
    "screening.view_screeninghit": Case(AML, SA, Get(_screening("screeninghit", "change"))),
    "screening.review_screeninghit": Case(
        AML,
        SA,
        Post(
            _screening("screeninghit", "review/false_positive"),
            lambda w: {"false_positive-note": "Persona: another person, the date of birth differs"},
            screening_reviewed,
        ),
    ),
    "screening.screen_file": Case(AML, SA, Get(lambda w: "/admin/screening/watchlist/screen-file/")),
    "screening.import_list": Case(
        MLRO, AML, Post(lambda w: "/admin/screening/watchlist/import/", screening_import, screening_imported)
    ),
    "screening.view_watchlist": Case(AML, SA, Get(_screening("watchlist", "change"))),
    "screening.view_listsnapshot": Case(AML, SA, Get(_screening("listsnapshot", "change"))),
    "screening.view_listentry": Case(AML, SA, Get(_screening("listentry", "change"))),
    **{
        f"screening.add_{model}": Case(NOBODY, MLRO, add_page(f"screening.{model}"))
        for model in ("screeninghit", "watchlist", "listsnapshot", "listentry")
    },
    **{
        f"screening.change_{model}": Case(NOBODY, MLRO, Post(_screening(model, "change"), lambda w: {}, never))
        for model in ("screeninghit", "watchlist", "listsnapshot", "listentry")
    },
    **{
        f"screening.delete_{model}": Case(NOBODY, MLRO, Get(_screening(model, "delete")))
        for model in ("screeninghit", "watchlist", "listsnapshot", "listentry")
    },
    # sars: reports to the FIU, the MLRO's alone (the wall: without view_sar the list is 403, a report 404)
    "sars.view_sar": Case(MLRO, AML, changelist("sars.sar")),
    "sars.draft_sar": Case(MLRO, AML, add_page("sars.sar")),  # the draft page; the report's forms ask it too
    "sars.approve_sar": Case(
        MLRO,
        AML,
        ShownOrRefused(
            Shown(
                lambda w: f"/admin/approvals/approval/{sar_approval(w).pk}/change/",
                lambda r, w: r.context["can_decide"],
                sar_approval,
            ),
            Get(lambda w: f"/admin/approvals/approval/{sar_approval(w).pk}/change/"),
        ),
    ),
    "sars.add_sar": Case(NOBODY, ADM, add_page("sars.sar")),  # the draft page asks for draft_sar
    "sars.change_sar": Case(NOBODY, MLRO, Post(sar_page, lambda w: {}, never)),  # the services write
    "sars.delete_sar": Case(NOBODY, ADM, Get(lambda w: f"/admin/sars/sar/{persona_sar(w).pk}/delete/")),
    **{f"sars.{verb}_sarexport": Case(NOBODY, None, NO_ADMIN) for verb in ("view", "add", "change", "delete")},
    # approvals: the inbox (deciding asks the owning app's permission, as the rows above for each kind say)
    "approvals.view_approval": Case(FO, KYC, changelist("approvals.approval")),
    "approvals.add_approval": Case(NOBODY, ADM, add_page("approvals.approval")),
    "approvals.change_approval": Case(NOBODY, ADM, change_post("approvals.approval", "approval")),
    "approvals.delete_approval": Case(NOBODY, ADM, delete_page("approvals.approval", "approval")),
    # other apps' permissions that roles hold
    "auth.view_group": Case(ADM, MLRO, changelist("auth.group")),
    "django_celery_beat.view_periodictask": Case(ADM, MLRO, changelist("django_celery_beat.periodictask")),
    "django_celery_beat.change_periodictask": Case(
        ADM,
        MLRO,
        Change(
            _object("django_celery_beat.periodictask", "periodic_task", "change"),
            {"description": "persona"},
            lambda w: PeriodicTask.objects.get(pk=w.periodic_task.pk).description == "persona",
        ),
    ),
    "django_celery_beat.view_crontabschedule": Case(ADM, MLRO, changelist("django_celery_beat.crontabschedule")),
    "django_celery_beat.view_intervalschedule": Case(ADM, MLRO, changelist("django_celery_beat.intervalschedule")),
    "django_celery_results.view_taskresult": Case(ADM, MLRO, changelist("django_celery_results.taskresult")),
    "otp_totp.view_totpdevice": Case(ADM, MLRO, changelist("otp_totp.totpdevice")),
    "otp_static.view_staticdevice": Case(ADM, MLRO, changelist("otp_static.staticdevice")),
    **BONUS_CASES,  # tests/bonuses/personas.py
    **CRM_CASES,  # tests/crm/personas.py
    **REPORT_CASES,  # tests/reports/personas.py
}

GRANTED = sorted(p for p, case in CASES.items() if case.granted is not None)
DENIED = sorted(p for p, case in CASES.items() if case.denied is not None)


def existing_permissions() -> set[str]:
    ours = Permission.objects.filter(content_type__app_label__in=OUR_APPS).values_list(
        "content_type__app_label", "codename"
    )
    held = set().union(*roles.defined_role_permissions().values())
    return {f"{app}.{codename}" for app, codename in ours} | held


def test_every_permission_has_a_row():
    existing = existing_permissions()
    missing = sorted(existing - set(CASES))
    assert not missing, f"permissions without a row in CASES (a role that holds it, one that does not, how): {missing}"
    stale = sorted(set(CASES) - existing)
    assert not stale, f"rows in CASES for permissions that no longer exist: {stale}"


def test_the_rows_name_roles_that_hold_and_lack_each_permission():
    """Against the roles the code defines (the role migration test keeps the database in step with them)."""
    defined = roles.defined_role_permissions()
    wrong = []
    for permission, case in CASES.items():
        holders = sorted(role for role, perms in defined.items() if permission in perms)
        if case.granted is None and holders:
            wrong.append(f"{permission}: declared held by no role, held by {holders}")
        if case.granted is not None and case.granted not in holders:
            wrong.append(f"{permission}: {case.granted} does not hold it")
        if case.denied and case.denied in holders:
            wrong.append(f"{permission}: {case.denied} holds it")
        if case.denied == NO_ROLE and set(holders) != set(roles.ROLES):
            wrong.append(f"{permission}: refused to staff with no role, but {set(roles.ROLES) - set(holders)} lack it")
        if case.denied is None and not isinstance(case.how, Unchecked):
            wrong.append(f"{permission}: a way in but nobody to refuse")
    assert not wrong, wrong


def _mentions_outside_roles() -> str:
    """The source of apps/ that could check a permission: not the role definitions, not the migrations, not the
    roles table's words (apps/staff/roles_doc.py)."""
    root = Path(settings.BASE_DIR) / "apps"
    skipped = ("roles.py", "roles_doc.py")
    files = [p for p in root.rglob("*.py") if "migrations" not in p.parts and p.name not in skipped]
    return "\n".join(p.read_text() for p in files)


def test_an_unchecked_permission_really_guards_nothing():
    source = _mentions_outside_roles()
    registered = {model._meta.label_lower for model in admin.site._registry}
    inlines = {
        inline.model._meta.label_lower
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    wrong = []
    for permission, case in CASES.items():
        if not isinstance(case.how, Unchecked):
            continue
        app, codename = permission.split(".")
        model = Permission.objects.get(content_type__app_label=app, codename=codename).content_type.model
        if f"{app}.{model}" in registered | inlines:
            wrong.append(f"{permission}: {app}.{model} has an admin now; exercise it there")
        if re.search(rf"['\"]{re.escape(permission)}['\"]", source):
            wrong.append(f"{permission}: the code names it now; exercise it where it is checked")
    assert not wrong, wrong


@pytest.mark.parametrize("permission", GRANTED)
def test_the_role_with_the_permission_succeeds(permission: str):
    case = CASES[permission]
    staff = persona(case.granted)
    assert staff.has_perm(permission)
    case.how.granted(World(), verified_client(staff), staff)


@pytest.mark.parametrize("permission", DENIED)
def test_the_role_without_the_permission_is_refused(permission: str):
    case = CASES[permission]
    staff = persona(case.denied)
    assert not staff.has_perm(permission)
    case.how.refused(World(), verified_client(staff), staff)


def test_the_sweep_does_not_count_an_open_door_as_a_refusal():
    staff = persona(SA)
    client = verified_client(staff)
    with pytest.raises(AssertionError):
        changelist("players.player").refused(World(), client, staff)  # support agents may open it
    with pytest.raises(AssertionError):
        Service(lambda w, s: None, "permission_denied").refused(World(), client, staff)


# Object grants ---------------------------------------------------------------------------------------------
# model admin (narrowed by ObjectPermissionAdminMixin on the test site), permission, a role without it, and two
# rows of the model: the one granted and one the assignee must not see
def two_withdrawals(w: World) -> tuple[Any, Any]:
    return w.withdrawal, w.withdrawal_of(w.other_player)


def two_adjustments(w: World) -> tuple[Any, Any]:
    return w.pending_adjustment, w.adjustment_of(w.other_player)


def two_transactions(w: World) -> tuple[Any, Any]:
    return w.deposit, w.deposit_of(w.other_player)


def two_audit_events(w: World) -> tuple[Any, Any]:
    first = w.audit_event
    w.__dict__.pop("audit_event")
    return first, w.audit_event


GRANTS = [
    ("wallet.view_withdrawal", KYC, two_withdrawals),
    ("wallet.view_adjustment", SA, two_adjustments),
    ("wallet.view_ledgertransaction", KYC, two_transactions),
    ("audit.view_auditevent", SA, two_audit_events),
]


@pytest.mark.urls("tests.staff.personas")
@pytest.mark.parametrize(("permission", "role", "rows"), GRANTS, ids=[g[0] for g in GRANTS])
def test_an_object_grant_opens_its_row_to_the_assignee_and_to_nobody_else_of_the_role(permission, role, rows):
    granted, unseen = rows(World())
    model, label = type(granted), type(granted)._meta.label_lower
    assignee, colleague = StaffUserFactory(roles=[role]), StaffUserFactory(roles=[role])
    assert not assignee.has_perm(permission)
    assign_perm(permission, assignee, granted)
    assignee = StaffUser.objects.get(pk=assignee.pk)  # fresh permission caches

    assert can_act(assignee, permission, granted) and not can_act(assignee, permission, unseen)
    assert not can_act(colleague, permission, granted)
    assert list(visible_to(assignee, permission, model.objects.all())) == [granted]
    assert not visible_to(colleague, permission, model.objects.all()).exists()

    mine, theirs = verified_client(assignee), verified_client(colleague)
    page = f"{_base(label)}{granted.pk}/change/"
    listing = mine.get(_base(label))
    assert listing.status_code == 200
    assert [o.pk for o in listing.context["cl"].result_list] == [granted.pk]
    assert mine.get(page).status_code == 200
    assert mine.get(f"{_base(label)}{unseen.pk}/change/").status_code == 404
    assert theirs.get(_base(label)).status_code == 403
    assert theirs.get(page).status_code == 404


@pytest.mark.urls("tests.staff.personas")
def test_a_grant_to_a_team_opens_the_row_to_its_members_only():
    world = World()
    team = Group.objects.create(name="Withdrawal review team")
    member, outsider = StaffUserFactory(roles=[KYC]), StaffUserFactory(roles=[KYC])
    member.groups.add(team)
    assign_perm("wallet.view_withdrawal", team, world.withdrawal)
    page = f"/admin/wallet/withdrawal/{world.withdrawal.pk}/change/"
    assert verified_client(member).get(page).status_code == 200
    assert verified_client(outsider).get(page).status_code == 404


def test_an_object_grant_opens_nothing_on_an_admin_without_the_mixin():
    """On the real site no admin is narrowed yet: a grant alone there is no permission at all (role-wide rules)."""
    world = World()
    assignee = StaffUserFactory(roles=[KYC])
    assign_perm("wallet.view_withdrawal", assignee, world.withdrawal)
    client = verified_client(assignee)
    assert client.get("/admin/wallet/withdrawal/").status_code == 403
    assert client.get(f"/admin/wallet/withdrawal/{world.withdrawal.pk}/change/").status_code == 403
