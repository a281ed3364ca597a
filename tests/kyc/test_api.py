"""The platform's KYC API: the overview (players:read) and the multipart upload (kyc:write, Idempotency-Key),
with real files, refusals that keep nothing, client scoping and the scopes."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.kyc import documents, levels
from apps.kyc.choices import Source
from apps.kyc.models import Document, Review
from apps.wallet.models import IdempotencyRecord
from tests.conftest import make_platform_client
from tests.factories import BrandFactory, PlayerFactory, StaffUserFactory
from tests.kyc import documents as files
from tests.kyc.conftest import stored_files
from tests.kyc.test_uploads import CountingBody

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
NEXT_YEAR = date.today() + timedelta(days=365)
ERROR_KEYS = {"code", "message", "fields", "request_id"}


def url(player: Any, suffix: str = "") -> str:
    return f"/api/v1/players/{player.external_id}/kyc/{suffix}"


def upload(client: Any, player: Any, content: bytes, *, name: str = "passport.jpg", key: str | None = None, **form):
    form.setdefault("type", "passport")
    form.setdefault("expires_on", NEXT_YEAR.isoformat())
    data = {**form, "file": SimpleUploadedFile(name, content, "image/jpeg")}
    return client.api().post(
        url(player, "documents/"), data, format="multipart", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex
    )


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code, body
    return body


def assert_nothing_kept(player: Any, kyc_files: Path) -> None:
    assert not Document.objects.filter(player=player).exists()
    assert not Review.objects.filter(player=player).exists()
    assert stored_files(kyc_files) == []


# --- the upload ---------------------------------------------------------------------------------------------


def test_it_uploads_a_document_and_answers_it_without_its_number(platform_client, player, kyc_files):
    response = upload(platform_client, player, files.jpeg_with_gps(), issuing_country="gb", number="123456789")

    assert response.status_code == 201, response.content
    body = response.json()["document"]
    document = Document.objects.get(player=player)
    assert body == {
        "id": document.pk,
        "type": "passport",
        "state": "pending",
        "issuing_country": "GB",
        "expires_on": NEXT_YEAR.isoformat(),
        "uploaded_at": document.uploaded_at.isoformat(),
        "decided_at": None,
        "rejection_reason": None,
        "message": None,
    }
    assert "123456789" not in response.content.decode() and document.file_name not in response.content.decode()
    assert document.source == Source.API and document.api_client == platform_client.model.prefix
    assert document.number == "123456789" and document.review is not None
    assert len(stored_files(kyc_files)) == 1
    event = AuditEvent.objects.get(action="kyc.document_uploaded")
    assert event.data["document"] == document.pk and event.actor_type == "api_client"


def test_a_retry_with_the_same_key_answers_the_first_answer_and_keeps_one_document(platform_client, player):
    content, key = files.png(), uuid.uuid4().hex
    first = upload(platform_client, player, content, name="a.png", key=key)
    again = upload(platform_client, player, content, name="a.png", key=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Document.objects.filter(player=player).count() == 1
    # another file under the same key is a conflict, not a second document
    assert_error(upload(platform_client, player, files.pdf(), key=key), 409, "idempotency_conflict")
    assert_error(
        upload(platform_client, player, content, name="a.png", key=key, type="national_id"), 409, "idempotency_conflict"
    )
    assert Document.objects.filter(player=player).count() == 1


def test_it_needs_an_idempotency_key(platform_client, player, kyc_files):
    data = {"type": "passport", "file": SimpleUploadedFile("p.jpg", files.jpeg(), "image/jpeg")}
    response = platform_client.api().post(url(player, "documents/"), data, format="multipart")
    assert_error(response, 400, "idempotency_key_required")
    assert_nothing_kept(player, kyc_files)


@pytest.mark.parametrize(
    ("content", "name", "status", "code"),
    [
        (files.elf_executable(), "photo.jpg", 415, "file_type_not_allowed"),  # an executable renamed .jpg
        (files.pe_executable(), "scan.jpg", 415, "file_type_not_allowed"),
        (files.pdf(), "passport.png", 201, None),  # a PDF named .png: the content decides, and it is a PDF
        (files.jpeg()[:200], "cut.jpg", 400, "file_corrupt"),  # truncated
        (files.encrypted_pdf(), "locked.pdf", 400, "file_corrupt"),
        (files.png_bomb(), "bomb.png", 400, "file_corrupt"),
    ],
    ids=["elf-as-jpg", "pe-as-jpg", "pdf-as-png", "truncated-jpeg", "encrypted-pdf", "png-bomb"],
)
def test_it_refuses_what_is_not_a_clean_document_and_keeps_nothing(
    platform_client, player, kyc_files, content, name, status, code
):
    response = upload(platform_client, player, content, name=name)
    if code is None:
        assert response.status_code == status, response.content
        assert Document.objects.get(player=player).file_kind == "pdf"
        return
    assert_error(response, status, code)
    assert_nothing_kept(player, kyc_files)


def test_a_path_traversal_file_name_is_never_used(platform_client, player, kyc_files):
    response = upload(platform_client, player, files.jpeg(), name="../../../../etc/cron.d/evil.jpg")

    assert response.status_code == 201, response.content
    document = Document.objects.get(player=player)
    assert "evil" not in document.file_name and ".." not in document.file_name
    [stored] = stored_files(kyc_files)
    assert stored.resolve().is_relative_to(kyc_files.resolve()) and "evil" not in stored.name
    assert not Path("/etc/cron.d/evil.jpg").exists()


@pytest.mark.parametrize(
    ("form", "code", "field"),
    [
        ({"type": "passport", "expires_on": "2001-01-01"}, "document_expired", "expires_on"),
        ({"type": "utility_bill", "number": "AB123"}, "document_invalid", "number"),  # only identity documents
        ({"type": "passport", "issuing_country": "ZZ"}, "document_invalid", "issuing_country"),
        ({"type": "spaceship"}, "invalid", "type"),
        ({"type": "passport", "expires_on": "next week"}, "invalid", "expires_on"),
        ({"type": "passport", "number": "AB\x1b123"}, "invalid", "number"),
    ],
)
def test_it_refuses_details_the_document_cannot_have(platform_client, player, kyc_files, form, code, field):
    body = assert_error(upload(platform_client, player, files.jpeg(), **form), 400, code)
    assert field in body["fields"]
    assert_nothing_kept(player, kyc_files)


def test_it_refuses_a_form_without_a_file(platform_client, player, kyc_files):
    response = platform_client.api().post(
        url(player, "documents/"), {"type": "passport"}, format="multipart", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert assert_error(response, 400, "invalid")["fields"] == {"file": ["No file was submitted."]}
    json_body = platform_client.api().post(
        url(player, "documents/"), {"type": "passport"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert_error(json_body, 415, "unsupported_media_type")
    assert_nothing_kept(player, kyc_files)


@pytest.fixture
def wsgi_app():
    """The real WSGI app, the request inside the test's transaction (as tests/api/test_contract.py)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_a_12_mb_upload_is_refused_while_it_is_read(wsgi_app, platform_client, player, kyc_files):
    content = files.jpeg() + bytes(12 * MB)
    body = encode_multipart(
        BOUNDARY, {"type": "passport", "file": SimpleUploadedFile("big.jpg", content, "image/jpeg")}
    )
    stream = CountingBody(body)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": url(player, "documents/"),
        "CONTENT_TYPE": MULTIPART_CONTENT,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Api-Key {platform_client.key}",
        "HTTP_IDEMPOTENCY_KEY": "big-1",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream,
        "wsgi.errors": io.StringIO(),
    }
    answered: list[str] = []
    chunks = wsgi_app(environ, lambda status, headers, exc_info=None: answered.append(status))
    response = b"".join(chunks)

    assert answered == ["413 Request Entity Too Large"], response
    assert b'"code":"file_too_large"' in response.replace(b" ", b"")
    assert stream.read_bytes <= 10 * MB + 2 * 64 * 1024  # the limit and a chunk: not the other 2 MB
    assert_nothing_kept(player, kyc_files)
    assert not IdempotencyRecord.objects.filter(key="big-1").exists()  # a body refused before the key's record


# --- scopes and brands --------------------------------------------------------------------------------------


def test_it_needs_kyc_write_to_upload_and_players_read_to_read(player, kyc_files):
    reader = make_platform_client(name="Reader", scopes=["players:read"])
    assert_error(upload(reader, player, files.jpeg()), 403, "missing_scope")
    assert_nothing_kept(player, kyc_files)
    assert reader.api().get(url(player)).status_code == 200

    writer = make_platform_client(name="Writer", scopes=["kyc:write"])
    assert_error(writer.api().get(url(player)), 403, "missing_scope")
    assert upload(writer, player, files.jpeg()).status_code == 201


def test_another_brands_player_is_not_found(platform_client, kyc_files):
    theirs = PlayerFactory(brand=BrandFactory(code="royal-reels"))
    documents.document_upload(
        actor=SystemActor("t"), player=theirs, document_type="passport", data=files.jpeg(), source=Source.API
    )
    assert_error(platform_client.api().get(url(theirs)), 404, "player_not_found")
    assert_error(upload(platform_client, theirs, files.jpeg()), 404, "player_not_found")
    assert Document.objects.filter(player=theirs).count() == 1
    assert_error(platform_client.api().get("/api/v1/players/nobody/kyc/"), 404, "player_not_found")


# --- the overview -------------------------------------------------------------------------------------------


def test_the_overview_shows_the_level_open_requirements_and_documents(platform_client):
    player = PlayerFactory(kyc_level=1)
    staff = StaffUserFactory()
    due = timezone.now() + timedelta(days=3)
    levels.requirement_ask(actor=staff, player=player, level=2, reason="address proof", due_at=due, compliance=False)
    actor = SystemActor("t")
    kept = documents.document_upload(
        actor=actor, player=player, document_type="utility_bill", data=files.png(), source=Source.API
    )
    refused = documents.document_upload(
        actor=actor, player=player, document_type="bank_statement", data=files.pdf(), source=Source.API
    )
    documents.vendor_decide(
        vendor="acme",
        document=refused,
        decision="reject",
        reason_code="too_old",
        message="Send a statement from the last 3 months.",
    )

    response = platform_client.api().get(url(player))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["level"] == 1
    assert body["requirements"] == [
        {
            "id": body["requirements"][0]["id"],
            "level": 2,
            "trigger": "operator_request",  # staff asked: the platform is told only that the operator did
            "due_at": due.isoformat(),
            "overdue": False,
            "restricts": ["withdraw"],
            "restricts_when_overdue": ["bet", "deposit", "game_launch"],
        }
    ]
    by_id = {d["id"]: d for d in body["documents"]}
    assert list(by_id) == [refused.pk, kept.pk]  # newest first
    assert by_id[kept.pk]["state"] == "pending" and by_id[kept.pk]["message"] is None
    assert by_id[refused.pk]["state"] == "rejected"
    assert by_id[refused.pk]["rejection_reason"] == "too_old"
    assert by_id[refused.pk]["message"] == "Send a statement from the last 3 months."
    assert by_id[refused.pk]["decided_at"] is not None
    assert all("number" not in d and "file_name" not in d for d in body["documents"])


def test_an_overdue_requirement_says_so(platform_client):
    player = PlayerFactory(kyc_level=0)
    past = timezone.now() - timedelta(hours=1)
    levels.requirement_ask(actor=StaffUserFactory(), player=player, level=1, reason="id", due_at=past, compliance=True)
    [requirement] = platform_client.api().get(url(player)).json()["requirements"]
    assert requirement["overdue"] is True and requirement["trigger"] == "operator_request"


def test_the_platform_is_never_told_that_compliance_or_screening_asked(platform_client):
    """Tipping off: a requirement compliance raised (or, later, a screening match) reads "operator_request" in
    the API and in the webhook event, never "compliance" or "screening_match"."""
    from apps.core.models import OutboxEvent

    player = PlayerFactory(country="MT", currency="EUR", kyc_level=2)
    levels.requirement_ask(
        actor=StaffUserFactory(), player=player, level=3, reason="source of funds review", compliance=True
    )
    levels.requirement_raise(
        actor=None,
        player=player,
        level=3,
        trigger="screening_match",
        due_at=timezone.now() + timedelta(days=3),
        restricts=("withdraw",),
    )
    body = platform_client.api().get(f"/api/v1/players/{player.external_id}/kyc/").json()
    assert {r["trigger"] for r in body["requirements"]} == {"operator_request"}
    events = OutboxEvent.objects.filter(type="kyc.requirement_raised", key=player.external_id)
    assert {e.data["trigger"] for e in events} == {"operator_request"}
    assert "compliance" not in str(body) and "screening" not in str(body) and "source of funds" not in str(body)
