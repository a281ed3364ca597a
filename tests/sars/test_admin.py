"""The SAR admin: the MLRO's list, draft page, report page (errors of a failed export by path), forms, the audited
view and download; and the wall: every other role gets 403 or 404 on every SAR URL, no menu entry, and nothing
of a SAR in the Approvals inbox, the audit trail or the case page (the MLRO's link to a draft is theirs alone)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.players.models import Player
from apps.sars import services
from apps.sars.choices import SarState
from apps.sars.models import Sar
from apps.staff import roles
from tests.conftest import verified_client
from tests.factories import StaffUserFactory
from tests.sars.conftest import approved, draft, exported

pytestmark = pytest.mark.django_db
LIST = "/admin/sars/sar/"
WALLED = [
    roles.SUPPORT_AGENT,
    roles.CRM_MANAGER,
    roles.FINANCE_OFFICER,
    roles.KYC_OFFICER,
    roles.ADMINISTRATOR,
    roles.AML_ANALYST,
]


def said(response: Any) -> str:
    found = [str(m) for m in get_messages(response.wsgi_request)]
    return found[-1] if found else ""


def page(sar: Sar) -> str:
    return f"{LIST}{sar.pk}/change/"


def do(sar: Sar, what: str) -> str:
    return f"{LIST}{sar.pk}/do/{what}/"


def test_the_mlro_lists_reports_and_the_list_is_audited(mlro, case):
    sar = draft(mlro, case)
    response = verified_client(mlro).get(LIST)
    assert response.status_code == 200
    assert [s.pk for s in response.context["cl"].result_list] == [sar.pk]
    assert AuditEvent.objects.filter(action="sars.list_viewed", actor_id=str(mlro.pk)).count() == 1


def test_the_mlro_drafts_from_a_case_and_the_report_page_is_audited(mlro, case):
    client = verified_client(mlro)
    form = client.get(f"{LIST}add/?case={case.pk}")
    assert form.status_code == 200 and f"From case #{case.pk}" in form.content.decode()
    response = client.post(
        f"{LIST}add/",
        {
            "case": case.pk,
            "report_code": "SAR",
            "reason": "Deposits just under the threshold, withdrawn at once.",
            "action": "Account restricted.",
            "indicators": "-",
            "occupation": "",
        },
    )
    sar = Sar.objects.get()
    assert response.status_code == 302 and response["Location"] == page(sar)
    assert sar.report_code == "SAR" and sar.created_by == mlro
    shown = client.get(page(sar))
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Deposits just under the threshold" in html and 'id="sar-form-submit"' in html
    assert AuditEvent.objects.filter(action="sars.viewed", target_id=str(sar.pk)).count() == 1


def test_a_refused_draft_is_one_message_and_nothing_is_drafted(mlro, case):
    response = verified_client(mlro).post(
        f"{LIST}add/", {"case": case.pk, "report_code": "SAR", "reason": "Why", "indicators": "bad!code"}
    )
    assert response.status_code == 200 and said(response).startswith("Nothing was drafted:")
    assert not Sar.objects.exists()
    unknown = verified_client(mlro).post(
        f"{LIST}add/", {"case": 999999, "report_code": "SAR", "reason": "Why", "indicators": "-"}
    )
    assert said(unknown) == "Nothing was drafted: No such case."


def test_the_forms_edit_submit_file_and_correct(mlro, second_mlro, case):
    client = verified_client(mlro)
    sar = draft(mlro, case)
    edited = client.post(
        do(sar, "update"),
        {"report_code": "STR", "reason": "Edited reason.", "indicators": "-", "occupation": "Builder"},
    )
    assert edited.status_code == 302 and Sar.objects.get(pk=sar.pk).reason == "Edited reason."
    submitted = client.post(do(sar, "submit"), {"note": "Please check the second card."})
    assert submitted.status_code == 302 and Sar.objects.get(pk=sar.pk).state == SarState.PENDING_APPROVAL
    again = client.post(do(sar, "update"), {"report_code": "STR", "reason": "x", "indicators": "-"})
    assert again.status_code == 200 and "only a draft can be changed" in said(again)
    from apps.approvals.selectors import pending_for
    from apps.approvals.services import approval_decide

    approval_decide(actor=second_mlro, approval=pending_for(sar), approve=True)
    services.sar_export(actor=second_mlro, sar_id=sar.pk)
    ready = client.get(page(sar)).content.decode()
    assert 'id="sar-download"' in ready and 'id="sar-form-file"' in ready
    day = timezone.localdate().isoformat()
    filed = client.post(do(sar, "file"), {"fiu_reference": "FIU-77", "filed_on": day})
    assert filed.status_code == 302 and Sar.objects.get(pk=sar.pk).state == SarState.FILED
    corrected = client.post(do(sar, "correct"), {"reason": "The amounts were wrong."})
    correction = Sar.objects.get(corrects=sar)
    assert corrected["Location"] == page(correction)
    assert "Corrects" in client.get(page(correction)).content.decode()


def test_a_failed_export_shows_each_error_by_path(mlro, second_mlro, case):
    Player.objects.filter(pk=case.player_id).update(phone="")
    sar = exported(mlro, second_mlro, draft(mlro, case))
    assert sar.state == SarState.EXPORT_FAILED
    html = verified_client(mlro).get(page(sar)).content.decode()
    assert "not valid, not ready" in html and 'id="sar-download"' not in html
    assert "/report/transaction[1]/t_to_my_client/to_account/signatory/t_person/phones" in html
    assert "is not complete. Tag &#x27;phone&#x27; expected." in html
    assert 'id="sar-form-retry"' in html and 'id="sar-form-reopen"' in html


def test_the_download_is_the_stored_file_and_is_audited(mlro, second_mlro, case):
    sar = exported(mlro, second_mlro, draft(mlro, case))
    response = verified_client(mlro).get(f"{LIST}{sar.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="sar-{sar.pk}-export-{sar.export_id}.xml"'
    assert response.content == sar.export.xml.encode() and response["X-Content-SHA256"] == sar.export.sha256
    event = AuditEvent.objects.get(action="sars.downloaded")
    assert event.actor_id == str(mlro.pk) and event.data["visibility"] == "compliance"


def test_a_download_before_the_file_is_ready_is_a_message(mlro, case):
    sar = draft(mlro, case)
    response = verified_client(mlro).get(f"{LIST}{sar.pk}/download/")
    assert response.status_code == 302 and said(response) == "The report has no valid export to download."


def test_the_mlro_sees_the_menu_entry_and_a_report_is_never_deleted(mlro, case):
    client = verified_client(mlro)
    assert LIST in client.get("/admin/").content.decode()
    sar = draft(mlro, case)
    assert client.get(f"{LIST}{sar.pk}/delete/").status_code == 403
    assert client.post(f"{LIST}{sar.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{LIST}{sar.pk}/history/").status_code == 200
    assert Sar.objects.filter(pk=sar.pk).exists()


# --- the wall -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", WALLED)
def test_the_wall_every_sar_url_refuses_other_roles(role, mlro, second_mlro, case):
    sar = exported(mlro, second_mlro, draft(mlro, case))
    pending = approved(mlro, second_mlro, draft(mlro, case, report_code="SAR"))
    staff = StaffUserFactory(roles=[role])
    client = verified_client(staff)
    before = AuditEvent.objects.filter(action__startswith="sars.").count()
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.get(f"{LIST}add/?case={case.pk}").status_code == 403
    for target in (sar, pending):
        assert client.get(page(target)).status_code == 404
        assert client.get(f"{LIST}{target.pk}/download/").status_code == 404
        for what in ("update", "submit", "reopen", "retry", "file", "correct"):
            assert (
                client.post(
                    do(target, what), {"reason": "x", "fiu_reference": "R", "filed_on": "2026-01-01"}
                ).status_code
                == 404
            )
    assert (
        client.get(f"{LIST}{sar.pk + 1000}/change/").status_code == 404
    )  # the same answer for one that does not exist
    assert client.get(f"{LIST}{sar.pk}/history/").status_code == 404
    assert client.get(f"{LIST}{sar.pk}/delete/").status_code == 404
    assert client.post(f"{LIST}{sar.pk}/delete/", {"post": "yes"}).status_code == 404
    assert client.get("/admin/sars/").status_code == 404
    index = client.get("/admin/").content.decode()
    assert LIST not in index and "Suspicious activity" not in index and "sars" not in index
    assert AuditEvent.objects.filter(action__startswith="sars.").count() == before
    assert Sar.objects.get(pk=sar.pk).state == SarState.READY


@pytest.mark.parametrize("role", [roles.FINANCE_OFFICER, roles.AML_ANALYST, roles.ADMINISTRATOR])
def test_the_wall_the_approvals_inbox_shows_no_sar_request(role, mlro, case):
    sar = draft(mlro, case)
    services.sar_submit(actor=mlro, sar=sar)
    html = verified_client(StaffUserFactory(roles=[role])).get("/admin/approvals/approval/?state=all").content.decode()
    assert "Suspicious activity report" not in html and f"/admin/sars/sar/{sar.pk}" not in html


def test_the_wall_the_approvals_kind_filter_names_no_sar_kind(mlro):
    html = verified_client(StaffUserFactory(roles=[roles.FINANCE_OFFICER])).get("/admin/approvals/approval/")
    assert "Report to the FIU" not in html.content.decode()


def test_the_wall_the_audit_trail_hides_sar_events(mlro, case):
    draft(mlro, case)
    html = verified_client(StaffUserFactory(roles=[roles.ADMINISTRATOR])).get("/admin/audit/auditevent/")
    assert "sars." not in html.content.decode()


def test_the_case_page_links_the_mlro_to_a_draft_and_nobody_else(mlro, case):
    page_of_case = f"/admin/compliance/case/{case.pk}/change/"
    analyst = StaffUserFactory(roles=[roles.AML_ANALYST])
    from apps.compliance import cases

    cases.case_assign(actor=mlro, case=case, assignee=analyst)
    seen = verified_client(analyst).get(page_of_case)
    assert seen.status_code == 200 and "/admin/sars/" not in seen.content.decode()
    html = verified_client(mlro).get(page_of_case).content.decode()
    assert f'href="/admin/sars/sar/add/?case={case.pk}"' in html
