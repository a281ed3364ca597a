"""The segment screens: the list, building criteria with the form (not JSON), the preview (count labelled exact or
estimate, a sample), the snapshot and the export download; hostile input is a form error, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from apps.audit.models import AuditEvent
from apps.crm import selectors, services
from apps.crm.models import Segment
from tests.conftest import verified_client
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/crm/segment/"
BLANK = {
    "name": "",
    "description": "",
    "kind": "dynamic",
    "currency": "",
    "tags_mode": "any",
    "tags": "",
    "registered_from": "",
    "registered_to": "",
    "last_login_mode": "",
    "last_login_days": "",
    "deposits_min": "",
    "deposits_max": "",
    "deposits_days": "",
    "ggr_min": "",
    "ggr_max": "",
    "ggr_days": "",
    "kyc_min": "",
    "kyc_max": "",
    "consent_email": "",
    "consent_sms": "",
    "consent_phone": "",
    "consent_post": "",
    "currencies": "",
}


def form(**fields: Any) -> dict[str, Any]:
    return {**BLANK, **fields}


def test_the_crm_manager_builds_a_segment_with_the_form(crm_manager):
    client = verified_client(crm_manager)
    assert client.get(f"{LIST}add/").status_code == 200
    response = client.post(
        f"{LIST}add/",
        form(
            name="GB gold depositors",
            currency="GBP",
            country=["GB"],
            vip_tier=["gold"],
            tags="vip, high-roller",
            tags_mode="all",
            last_login_mode="within_days",
            last_login_days="30",
            deposits_min="100.00",
            deposits_days="90",
            kyc_min="2",
            consent_email="yes",
        ),
    )
    segment = Segment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{LIST}{segment.pk}/change/"
    assert segment.criteria == {
        "country": ["GB"],
        "vip_tier": ["gold"],
        "tags": {"all": ["high-roller", "vip"]},
        "last_login": {"within_days": 30},
        "deposits": {"min": "100.00", "days": 90},
        "kyc_level": {"min": 2},
        "consent": {"email": True},
    }
    assert AuditEvent.objects.filter(action="crm.segment_created", actor_id=str(crm_manager.pk)).exists()


def test_the_segment_page_shows_the_exact_preview_a_sample_and_the_form_filled_in(crm_manager):
    gold = PlayerFactory(vip_tier="gold")
    PlayerFactory()
    segment = services.segment_create(actor=crm_manager, name="Gold", criteria={"vip_tier": ["gold"]})
    response = verified_client(crm_manager).get(f"{LIST}{segment.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-count="1" data-kind="exact"' in html and "(exact count)" in html
    assert gold.external_id in html
    assert response.context["adminform"].form.initial["vip_tier"] == ["gold"]
    assert 'id="segment-export-email"' in html and 'id="segment-snapshot"' in html


def test_a_big_segment_is_labelled_an_estimate(crm_manager, monkeypatch):
    PlayerFactory()
    segment = services.segment_create(actor=crm_manager, name="All", criteria={})
    monkeypatch.setattr(selectors, "EXACT_BELOW", 0)
    html = verified_client(crm_manager).get(f"{LIST}{segment.pk}/change/").content.decode()
    assert 'data-kind="estimate"' in html and "estimate from the query planner" in html


def test_a_change_through_the_form_keeps_criteria_the_form_does_not_show(crm_manager):
    segment = services.segment_create(actor=crm_manager, name="S", criteria={"country": ["GB"]})
    Segment.objects.filter(pk=segment.pk).update(criteria={"country": ["GB"], "later_app": 1})
    from apps.crm import criteria

    custom = criteria.Criterion("later_app", "Later", lambda v: v, lambda v, ctx: criteria.Fragment("TRUE"))
    criteria.register_criterion(custom)
    try:
        response = verified_client(crm_manager).post(f"{LIST}{segment.pk}/change/", form(name="S", country=["MT"]))
        assert response.status_code == 302
        segment.refresh_from_db()
        assert segment.criteria == {"country": ["MT"], "later_app": 1}
    finally:
        criteria._registry.pop("later_app")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "bad\x00name"}, "name"),
        ({"tags": "ok, bad\x00tag"}, "tags"),
        ({"tags": "not a tag!"}, "tags"),
        ({"deposits_min": "1e999999"}, "deposits_min"),
        ({"deposits_min": "NaN"}, "deposits_min"),
        ({"deposits_min": "9" * 40}, "deposits_min"),
        ({"deposits_min": "10"}, "deposits_min"),  # money without the segment's currency
        ({"deposits_min": "10", "deposits_max": "5", "currency": "GBP"}, "deposits_min"),
        ({"last_login_days": "9" * 40}, "last_login_days"),
        ({"last_login_mode": "within_days"}, "last_login_days"),
        ({"registered_from": "2026-02-30"}, "registered_from"),
        ({"registered_from": "2026-02-02", "registered_to": "2026-02-01"}, "registered_from"),
        ({"kyc_min": "3", "kyc_max": "1"}, "kyc_min"),
        ({"kyc_min": "9"}, "kyc_min"),
        ({"country": ["XX"]}, "country"),
        ({"jurisdiction": ["\x00"]}, "jurisdiction"),
        ({"currencies": "GBP, pounds"}, "currencies"),
        ({"currency": "\x00\x00\x00"}, "currency"),
        ({"kind": "forever"}, "kind"),
    ],
)
def test_hostile_or_wrong_input_is_a_field_error_never_a_500(crm_manager, fields, field):
    response = verified_client(crm_manager).post(f"{LIST}add/", {**form(name="S"), **fields})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert not Segment.objects.exists()


def test_a_taken_name_is_a_field_error(crm_manager):
    services.segment_create(actor=crm_manager, name="Lapsed", criteria={})
    response = verified_client(crm_manager).post(f"{LIST}add/", form(name="LAPSED"))
    assert response.status_code == 200 and "name" in response.context["adminform"].form.errors


def test_hostile_ids_in_the_urls_are_404s(crm_manager):
    client = verified_client(crm_manager)
    assert client.get(f"{LIST}999999/change/").status_code in (302, 404)
    assert client.post(f"{LIST}999999/snapshot/").status_code == 404
    assert client.get(f"{LIST}999999/export/email/").status_code == 404
    assert client.get(f"{LIST}?q=%00").status_code in (200, 400, 404)


def test_the_snapshot_button_snapshots_and_says_how_many(crm_manager):
    PlayerFactory(vip_tier="gold")
    segment = services.segment_create(actor=crm_manager, name="Gold", criteria={"vip_tier": ["gold"]})
    client = verified_client(crm_manager)
    assert client.get(f"{LIST}{segment.pk}/snapshot/").status_code == 405
    response = client.post(f"{LIST}{segment.pk}/snapshot/", follow=True)
    assert "Snapshot taken: 1 members (1 added, 0 removed)." in response.content.decode()
    segment.refresh_from_db()
    assert segment.member_count == 1


def test_the_export_streams_a_csv_download(crm_manager):
    player = PlayerFactory(marketing_email=True)
    segment = services.segment_create(actor=crm_manager, name="All", criteria={})
    response = verified_client(crm_manager).get(f"{LIST}{segment.pk}/export/email/")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="segment-{segment.pk}-email-')
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == "external_id,email,first_name,country,language"
    assert player.external_id in body
    assert AuditEvent.objects.get(action="crm.export_completed").data["rows"] == 1


def test_an_unknown_channel_is_said_on_the_page(crm_manager):
    segment = services.segment_create(actor=crm_manager, name="All", criteria={})
    response = verified_client(crm_manager).get(f"{LIST}{segment.pk}/export/pigeon/", follow=True)
    assert response.status_code == 200 and "No marketing channel" in response.content.decode()
    assert not AuditEvent.objects.filter(action="crm.export_started").exists()


def test_a_static_segment_without_a_snapshot_says_so(crm_manager):
    segment = services.segment_create(actor=crm_manager, name="S", criteria={}, kind="static")
    response = verified_client(crm_manager).get(f"{LIST}{segment.pk}/export/email/", follow=True)
    assert "Snapshot this static segment first" in response.content.decode()


@pytest.mark.parametrize("role_fixture", ["support_agent", "admin_user", "mlro", "finance_officer"])
def test_other_roles_see_nothing_of_segments(request, crm_manager, role_fixture):
    segment = services.segment_create(actor=crm_manager, name="S", criteria={})
    client = verified_client(request.getfixturevalue(role_fixture))
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.get(f"{LIST}{segment.pk}/change/").status_code in (302, 403)
    assert client.post(f"{LIST}{segment.pk}/snapshot/").status_code == 403
    assert client.get(f"{LIST}{segment.pk}/export/email/").status_code == 403
    assert not AuditEvent.objects.filter(action__in=["crm.export_started", "crm.segment_snapshotted"]).exists()
