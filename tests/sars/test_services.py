"""The SAR services: drafting from a case the MLRO may see, editing a draft, maker-checker, the states an export
may start from, the audited download, filing (then the database refuses any change), corrections, and the
audit events, each saying ``visibility: compliance``. Every error code of apps/sars/errors.py is provoked here
or in test_export.py (goaml_schema_unavailable)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.approvals.errors import ApprovalNotPermitted
from apps.approvals.selectors import pending_for
from apps.approvals.services import approval_decide
from apps.audit.models import AuditEvent
from apps.compliance import cases
from apps.core.errors import ApplicationError
from apps.sars import errors, services
from apps.sars.choices import SarState
from apps.sars.models import Sar, SarExport
from apps.staff import roles
from tests.factories import PlayerFactory, StaffUserFactory
from tests.sars.conftest import approved, deposit, draft, exported

pytestmark = pytest.mark.django_db


def code_of(call: Any) -> str:
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value.code


def events(sar: Sar) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="sars.sar", target_id=str(sar.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def filed(mlro: Any, checker: Any, sar: Sar, reference: str = "FIU-2026-0042") -> Sar:
    sar = exported(mlro, checker, sar)
    return services.sar_file(actor=mlro, sar=sar, fiu_reference=reference, filed_on=timezone.localdate())


# --- drafting -----------------------------------------------------------------------------------------------------


def test_it_drafts_an_str_with_the_cases_linked_deposits_and_withdrawals(mlro, case, suspect):
    sar = draft(mlro, case)
    assert sar.state == SarState.DRAFT and sar.player == suspect and sar.case == case
    assert len(sar.transaction_ids) == 3
    assert sar.indicators == ["-"]
    event = AuditEvent.objects.get(action="sars.drafted", target_id=str(sar.pk))
    assert event.data["visibility"] == "compliance" and event.data["case"] == case.pk


@pytest.mark.parametrize("role", [roles.AML_ANALYST, roles.KYC_OFFICER, roles.ADMINISTRATOR, roles.SUPPORT_AGENT])
def test_roles_without_the_sar_permission_are_told_not_found(role, case):
    staff = StaffUserFactory(roles=[role])
    assert code_of(lambda: draft(staff, case)) == "sar_not_found"
    assert not Sar.objects.exists()


def test_seeing_sars_is_not_drafting_them(case):
    reader = StaffUserFactory(roles=[roles.MLRO])
    reader.groups.clear()
    reader.user_permissions.add(
        Permission.objects.get(codename="view_sar"),
        Permission.objects.get(codename="view_all_cases"),
        Permission.objects.get(codename="view_case"),
    )
    assert code_of(lambda: draft(reader, case)) == "sar_not_permitted"


def test_a_case_the_drafter_may_not_see_is_not_found(case):
    narrow = StaffUserFactory()
    narrow.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_sar", "draft_sar", "view_case"], content_type__app_label__in=["sars", "compliance"]
        )
    )
    assert not cases.case_visible(narrow, case)
    assert code_of(lambda: draft(narrow, case)) == "sar_case_not_found"


def test_a_case_without_a_player_has_no_subject(mlro):
    case = cases.case_open(actor=mlro, player=None, case_type="fraud", title="A ring of accounts")
    assert code_of(lambda: draft(mlro, case, report_code="SAR")) == "sar_case_without_player"


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"reason": "  "}, "reason"),
        ({"report_code": "CTR"}, "report_code"),
        ({"indicators": []}, "indicators"),
        ({"indicators": ["ok", "not ok!"]}, "indicators"),
        ({"reason": "x" * 8001}, "reason"),
        ({"action": "line\x00break"}, "action"),
        ({"occupation": "o" * 256}, "occupation"),
    ],
)
def test_bad_content_is_refused_with_the_field(mlro, case, changes, field):
    with pytest.raises(errors.SarFieldInvalid) as refused:
        draft(mlro, case, **changes)
    assert refused.value.code == "sar_field_invalid" and field in refused.value.fields


def test_an_str_reports_only_the_cases_linked_deposits_and_withdrawals(mlro, suspect):
    bare = cases.case_open(actor=mlro, player=suspect, case_type="fraud", title="Nothing linked")
    with pytest.raises(errors.SarFieldInvalid) as none_linked:
        draft(mlro, bare)
    assert "transaction_ids" in none_linked.value.fields
    other = deposit(PlayerFactory(), "10.00")
    with pytest.raises(errors.SarFieldInvalid) as foreign:
        draft(mlro, bare, transaction_ids=[other])
    assert foreign.value.fields == {"transaction_ids": [str(other)]}
    with pytest.raises(errors.SarFieldInvalid):
        draft(mlro, bare, transaction_ids=["one"])
    assert draft(mlro, bare, report_code="SAR").transaction_ids == []  # a SAR needs none


def test_a_draft_is_edited_until_it_is_submitted(mlro, second_mlro, case):
    sar = draft(mlro, case)
    first = sar.transaction_ids[0]
    sar = services.sar_update(actor=mlro, sar=sar, transaction_ids=[first], indicators="- ", action="Closed.")
    assert sar.transaction_ids == [first] and sar.action == "Closed."
    sar = services.sar_update(actor=mlro, sar=sar, report_code="SAR")
    assert sar.report_code == "SAR" and sar.transaction_ids == []
    sar = services.sar_update(actor=mlro, sar=sar, report_code="STR")
    assert len(sar.transaction_ids) == 3  # back to the case's linked ones
    assert code_of(lambda: services.sar_update(actor=mlro, sar=sar, colour="red")) == "sar_field_invalid"
    services.sar_submit(actor=mlro, sar=sar)
    assert code_of(lambda: services.sar_update(actor=mlro, sar=sar, reason="Changed my mind")) == "sar_not_draft"
    assert code_of(lambda: services.sar_submit(actor=mlro, sar=sar)) == "sar_not_draft"
    assert events(sar) == ["sars.drafted", "sars.updated", "sars.updated", "sars.updated", "sars.submitted"]


def test_the_database_refuses_a_content_change_once_submitted(mlro, case):
    sar = draft(mlro, case)
    services.sar_submit(actor=mlro, sar=sar)
    with pytest.raises(DatabaseError, match="its content changes only as a draft"), transaction.atomic():
        Sar.objects.filter(pk=sar.pk).update(reason="rewritten behind the checker's back")


# --- maker-checker ------------------------------------------------------------------------------------------------


def test_the_maker_may_not_approve_their_own_report(mlro, case):
    sar = draft(mlro, case)
    services.sar_submit(actor=mlro, sar=sar)
    approval = pending_for(sar)
    assert code_of(lambda: approval_decide(actor=mlro, approval=approval, approve=True)) == "same_approver"
    assert Sar.objects.get(pk=sar.pk).state == SarState.PENDING_APPROVAL


@pytest.mark.parametrize("role", [roles.AML_ANALYST, roles.FINANCE_OFFICER, roles.ADMINISTRATOR])
def test_a_role_without_the_approve_permission_may_not_decide(mlro, case, role):
    sar = draft(mlro, case)
    services.sar_submit(actor=mlro, sar=sar)
    checker = StaffUserFactory(roles=[role])
    with pytest.raises(ApprovalNotPermitted) as refused:
        approval_decide(actor=checker, approval=pending_for(sar), approve=True)
    assert refused.value.code == "approval_not_permitted"
    assert Sar.objects.get(pk=sar.pk).state == SarState.PENDING_APPROVAL


def test_a_second_mlro_approves_and_a_rejection_returns_the_draft(mlro, second_mlro, case):
    sar = draft(mlro, case)
    services.sar_submit(actor=mlro, sar=sar)
    approval_decide(actor=second_mlro, approval=pending_for(sar), approve=False, reason="Add the second card.")
    sar = Sar.objects.get(pk=sar.pk)
    assert sar.state == SarState.DRAFT
    sar = services.sar_update(actor=mlro, sar=sar, reason="Two cards; deposits just under the threshold.")
    sar = approved(mlro, second_mlro, sar)
    assert sar.state == SarState.APPROVED and sar.approved_by == second_mlro
    assert events(sar)[-3:] == ["sars.updated", "sars.submitted", "sars.approved"]
    assert "sars.rejected" in events(sar)


# --- export states, download, filing, correcting --------------------------------------------------------------


def test_only_an_approved_report_is_exported(mlro, case):
    sar = draft(mlro, case)
    assert code_of(lambda: services.sar_export(actor=mlro, sar_id=sar.pk)) == "sar_not_exportable"
    assert code_of(lambda: services.sar_export_retry(actor=mlro, sar=sar)) == "sar_not_exportable"
    assert code_of(lambda: services.sar_reopen(actor=mlro, sar=sar, reason="why")) == "sar_not_exportable"
    assert not SarExport.objects.exists()


def test_a_failed_export_is_reopened_as_a_draft_and_needs_approval_again(mlro, second_mlro, case):
    sar = exported(mlro, second_mlro, draft(mlro, case, occupation=""))
    assert sar.state == SarState.EXPORT_FAILED
    sar = services.sar_reopen(actor=mlro, sar=sar, reason="The occupation was missing.")
    assert sar.state == SarState.DRAFT and sar.approved_by is None
    sar = services.sar_update(actor=mlro, sar=sar, occupation="Electrician")
    sar = exported(mlro, second_mlro, sar)
    assert sar.state == SarState.READY
    assert events(sar).count("sars.approved") == 2 and "sars.export_failed" in events(sar)


def test_the_download_is_audited_and_only_for_a_valid_file(mlro, second_mlro, case):
    sar = draft(mlro, case)
    assert code_of(lambda: services.sar_download(actor=mlro, sar=sar)) == "sar_not_ready"
    sar = exported(mlro, second_mlro, sar)
    export = services.sar_download(actor=second_mlro, sar=sar)
    assert export == sar.export
    event = AuditEvent.objects.get(action="sars.downloaded")
    assert event.actor_id == str(second_mlro.pk) and event.data["sha256"] == export.sha256
    assert event.data["visibility"] == "compliance"
    outsider = StaffUserFactory(roles=[roles.AML_ANALYST])
    assert code_of(lambda: services.sar_download(actor=outsider, sar=sar)) == "sar_not_found"
    assert code_of(lambda: services.sar_viewed(actor=outsider, sar=sar)) == "sar_not_found"


def test_filing_records_the_fius_reference_and_date(mlro, second_mlro, case):
    sar = draft(mlro, case)
    today = timezone.localdate()
    assert (
        code_of(lambda: services.sar_file(actor=mlro, sar=sar, fiu_reference="R1", filed_on=today)) == "sar_not_ready"
    )
    sar = exported(mlro, second_mlro, sar)
    for reference, day in (
        ("", today),
        ("  ", today),
        ("R1", today + timedelta(days=1)),
        ("R1", today - timedelta(days=9)),
    ):
        with pytest.raises(errors.SarFilingInvalid):
            services.sar_file(actor=mlro, sar=sar, fiu_reference=reference, filed_on=day)
    sar = services.sar_file(actor=mlro, sar=sar, fiu_reference="FIU-2026-0042", filed_on=today)
    assert sar.state == SarState.FILED and sar.filed_by == mlro and sar.fiu_reference == "FIU-2026-0042"
    assert (
        code_of(lambda: services.sar_file(actor=mlro, sar=sar, fiu_reference="R2", filed_on=today)) == "sar_not_ready"
    )
    event = AuditEvent.objects.get(action="sars.filed")
    assert event.data["fiu_reference"] == "FIU-2026-0042" and event.data["visibility"] == "compliance"


def test_a_filed_report_never_changes_the_database_says_so(mlro, second_mlro, case):
    sar = filed(mlro, second_mlro, draft(mlro, case))
    with pytest.raises(DatabaseError, match="is filed: it never changes"), transaction.atomic():
        Sar.objects.filter(pk=sar.pk).update(fiu_reference="FIU-OTHER")
    with pytest.raises(DatabaseError, match="is filed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE sars_sar SET state = 'ready' WHERE id = %s", [sar.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Sar.objects.filter(pk=sar.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        SarExport.objects.filter(sar=sar).update(xml="<report/>")
    assert Sar.objects.get(pk=sar.pk).fiu_reference == "FIU-2026-0042"


def test_a_correction_is_a_new_report_naming_the_first(mlro, second_mlro, case):
    original = draft(mlro, case)
    assert code_of(lambda: services.sar_correct(actor=mlro, sar=original, reason="Fix")) == "sar_not_filed"
    original = filed(mlro, second_mlro, original)
    correction = services.sar_correct(actor=mlro, sar=original, reason="The second deposit was GBP 1,950.")
    assert correction.pk != original.pk and correction.corrects == original and correction.state == SarState.DRAFT
    assert correction.transaction_ids == original.transaction_ids and correction.case == original.case
    correction = exported(mlro, second_mlro, correction)
    assert correction.state == SarState.READY
    from defusedxml.ElementTree import fromstring

    root = fromstring(correction.export.xml.encode())
    assert root.findtext("fiu_ref_number") == "FIU-2026-0042"
    assert root.findtext("reason").startswith(f"Correction of report PITBOSS-STR-{original.pk} (FIU FIU-2026-0042).")
    assert Sar.objects.get(pk=original.pk).state == SarState.FILED  # the first stays as it was filed
    assert "sars.correction_drafted" in events(original)


def test_every_sar_audit_event_is_marked_compliance(mlro, second_mlro, case):
    filed(mlro, second_mlro, draft(mlro, case))
    services.sar_list_viewed(actor=mlro)
    sars_events = AuditEvent.objects.filter(action__startswith="sars.")
    assert sars_events.count() >= 6
    assert all(e.data.get("visibility") == "compliance" for e in sars_events)
    outsider = StaffUserFactory(roles=[roles.FINANCE_OFFICER])
    assert code_of(lambda: services.sar_list_viewed(actor=outsider)) == "sar_not_found"


def test_every_error_code_of_the_app_is_a_class_with_when():
    from apps.core.errors import CATALOGUE

    declared = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, ApplicationError) and cls.__module__ == errors.__name__
    }
    assert declared == {
        "sar_not_found",
        "sar_not_permitted",
        "sar_case_not_found",
        "sar_case_without_player",
        "sar_field_invalid",
        "sar_not_draft",
        "sar_not_exportable",
        "sar_not_ready",
        "sar_not_filed",
        "sar_filing_invalid",
        "goaml_schema_unavailable",
    }
    assert all(CATALOGUE[code].domain == "sars" and CATALOGUE[code].when for code in declared)
