from __future__ import annotations

import time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.api.models import ApiClient
from apps.api.services import api_client_revoke
from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from tests.conftest import make_platform_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls")]
ERROR_KEYS = {"code", "message", "fields", "request_id"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_a_valid_key_reaches_an_authenticated_endpoint(platform_client):
    response = platform_client.api().get("/api/v1/client/")
    assert response.status_code == 200
    assert response.json()["name"] == "Test platform"
    assert "wallet:payments" in response.json()["scopes"]


def test_a_verified_key_is_served_from_the_cache_without_the_database(platform_client):
    api = platform_client.api()
    api.get("/api/v1/client/")  # warms the cache and records last use
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/client/").status_code == 200
    assert len(queries) == 0


def test_last_use_is_recorded(platform_client):
    assert platform_client.model.last_used_at is None
    platform_client.api().get("/api/v1/client/")
    platform_client.model.refresh_from_db()
    assert platform_client.model.last_used_at is not None


def test_no_credentials_is_401_with_the_scheme():
    response = APIClient().get("/api/v1/client/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Api-Key nope", "invalid_api_key"),  # a key of the scheme that matches no client
        ("Api-Key abc.def", "invalid_api_key"),
        ("Bearer x.y", "authentication_failed"),  # another scheme
        ("Api-Key ", "authentication_failed"),  # the scheme without a key
    ],
)
def test_a_bad_key_is_401(header, code, platform_client):
    response = APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=header)
    assert_error(response, 401, code)
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_401(platform_client):
    forged = platform_client.model.prefix + ".forgedsecretforgedsecretforgedsec"
    assert_error(APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=f"Api-Key {forged}"), 401, "invalid_api_key")


def test_a_revoked_key_stops_working_at_once_even_when_cached(platform_client):
    api = platform_client.api()
    assert api.get("/api/v1/client/").status_code == 200  # now cached
    api_client_revoke(actor=SystemActor("tests"), client=platform_client.model, reason="leaked")
    assert_error(api.get("/api/v1/client/"), 401, "invalid_api_key")
    event = AuditEvent.objects.get(action="api_client.revoked")
    assert event.target_id == platform_client.model.prefix and event.data == {"reason": "leaked"}


def test_another_worker_refuses_a_revoked_key_once_its_local_copy_expires(platform_client):
    from apps.api import authentication

    api = platform_client.api()
    assert api.get("/api/v1/client/").status_code == 200
    other_workers_copy = dict(authentication._local)  # what a second gunicorn worker holds in its memory
    api_client_revoke(actor=SystemActor("tests"), client=platform_client.model, reason="leaked")
    authentication._local.update(other_workers_copy)
    # the copy was taken just now, however slow this machine was since the first request
    _, entry = authentication._local[platform_client.model.prefix]
    deadline = time.monotonic() + 2.0
    authentication._local[platform_client.model.prefix] = (deadline, entry)
    assert api.get("/api/v1/client/").status_code == 200  # inside the documented window (2 s)
    authentication._local[platform_client.model.prefix] = (deadline - 2.5, entry)  # the window has passed
    assert_error(api.get("/api/v1/client/"), 401, "invalid_api_key")


def test_an_expired_key_is_401():
    from datetime import timedelta

    from django.utils import timezone

    client = make_platform_client(expiry_date=timezone.now() - timedelta(seconds=1))
    assert_error(client.api().get("/api/v1/client/"), 401, "invalid_api_key")


def test_a_missing_scope_is_403():
    client = make_platform_client(scopes=["players:read"])
    body = assert_error(client.api().get("/api/v1/test/wallet-only/"), 403, "missing_scope")
    assert "wallet:payments" in body["message"]


def test_the_right_scope_is_enough():
    client = make_platform_client(scopes=["wallet:payments"])
    assert client.api().get("/api/v1/test/wallet-only/").status_code == 200


def test_a_view_that_declares_no_scopes_is_refused_not_opened(platform_client):
    assert_error(platform_client.api().get("/api/v1/test/undeclared/"), 500, "server_error")


def test_the_client_ip_allow_list():
    client = make_platform_client(allowed_networks=["203.0.113.0/24"])
    assert_error(client.api(REMOTE_ADDR="198.51.100.9").get("/api/v1/client/"), 403, "ip_not_allowed")
    assert client.api(REMOTE_ADDR="203.0.113.77").get("/api/v1/client/").status_code == 200


@time_machine.travel("2026-11-22 10:00:10", tick=False)  # well inside one fixed window
def test_throttling_answers_429_with_retry_after():
    client = make_platform_client(throttle_rate="3/min")
    api = client.api()
    for _ in range(3):
        assert api.get("/api/v1/client/").status_code == 200
    response = api.get("/api/v1/client/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) == 50


@time_machine.travel("2026-11-22 10:00:10", tick=False)
def test_throttles_are_per_client():
    slow = make_platform_client(name="slow", throttle_rate="1/min")
    other = make_platform_client(name="other", throttle_rate="1/min")
    assert slow.api().get("/api/v1/client/").status_code == 200
    assert slow.api().get("/api/v1/client/").status_code == 429
    assert other.api().get("/api/v1/client/").status_code == 200


@time_machine.travel("2026-11-22 10:00:10", tick=False)
def test_the_count_is_shared_by_every_worker_through_redis():
    from apps.api.throttling import reset_local_counts

    api = make_platform_client(throttle_rate="3/min").api()
    assert api.get("/api/v1/client/").status_code == 200
    assert api.get("/api/v1/client/").status_code == 200
    reset_local_counts()  # what a second gunicorn worker starts from
    assert api.get("/api/v1/client/").status_code == 200
    assert api.get("/api/v1/client/").status_code == 429


@time_machine.travel("2026-11-22 10:00:10", tick=False)
def test_high_rates_sync_to_redis_in_batches_yet_still_refuse():
    from apps.api import throttling

    client = make_platform_client(throttle_rate="1000/min")
    api = client.api()
    for _ in range(25):
        assert api.get("/api/v1/client/").status_code == 200
    window = throttling._windows[client.model.prefix]
    # the clock stands still, so no window turns mid-loop: synced at the 1st, 11th and 21st request, 4 unsynced
    assert (window.known_total, window.unsynced) == (21, 4)
    window.known_total = 1000  # as if the other workers had used up the rate
    assert_error(api.get("/api/v1/client/"), 429, "throttled")


def test_400_has_field_errors(platform_client):
    body = assert_error(
        platform_client.api().post("/api/v1/test/echo/", {"amount": "12.345", "currency": "EURO"}, format="json"),
        400,
        "invalid",
    )
    assert set(body["fields"]) == {"amount", "currency"}


def test_malformed_json_is_400(platform_client):
    response = platform_client.api().post("/api/v1/test/echo/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_a_domain_error_keeps_its_code_status_and_fields(platform_client):
    body = assert_error(platform_client.api().get("/api/v1/test/domain/"), 409, "external_id_taken")
    assert body["fields"] == {"external_id": ["taken"]}


def test_an_unknown_route_under_api_is_a_json_404(platform_client):
    assert_error(platform_client.api().get("/api/v1/no/such/thing/"), 404, "not_found")
    assert_error(APIClient().get("/api/nothing-here"), 404, "not_found")


def test_a_wrong_method_is_405(platform_client):
    assert_error(platform_client.api().delete("/api/v1/client/"), 405, "method_not_allowed")


def test_a_crash_is_a_json_500_with_the_request_id(platform_client):
    response = platform_client.api(HTTP_X_REQUEST_ID="trace-abc").get("/api/v1/test/boom/")
    body = assert_error(response, 500, "server_error")
    assert body["request_id"] == "trace-abc"
    assert "forced failure" not in response.content.decode()  # no internals leak


def test_unsafe_request_ids_are_replaced(platform_client):
    response = platform_client.api(HTTP_X_REQUEST_ID="bad id\r\nX-Injected: 1").get("/api/v1/client/")
    assert response["X-Request-ID"] != "bad id\r\nX-Injected: 1"
    assert len(response["X-Request-ID"]) == 32


def test_create_api_client_command_prints_the_key_once_and_stores_only_its_hash(capsys):
    from django.core.management import call_command

    call_command("create_api_client", "Lobby", "--scopes", "players:read", "wallet:payments")
    out = capsys.readouterr().out
    key = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("key: "))
    stored = ApiClient.objects.get(name="Lobby")
    assert key not in stored.hashed_key and key not in stored.pk
    assert sorted(stored.scopes) == ["players:read", "wallet:payments"]
    response = APIClient().get("/api/v1/client/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200


def test_create_api_client_refuses_unknown_scopes():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_client", "Bad", "--scopes", "wallet:steal")
    assert not ApiClient.objects.filter(name="Bad").exists()


def test_the_schema_documents_the_key_scheme_and_error_codes():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json() if "json" in response["Content-Type"] else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"
    operation = schema["paths"]["/api/v1/client/"]["get"]
    assert {"200", "401", "403", "429"} <= set(operation["responses"])
    assert "missing_scope" in operation["responses"]["403"]["description"]


def test_swagger_ui_is_served_from_local_static_files():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_redis_cache_is_used_for_keys_not_a_local_dict(platform_client):
    from django.core.cache import cache

    from apps.api.authentication import cache_key

    platform_client.api().get("/api/v1/client/")
    assert cache.get(cache_key(platform_client.model.prefix))["name"] == "Test platform"


def test_a_forged_forwarded_for_does_not_pass_the_client_allow_list():
    client = make_platform_client(allowed_networks=["203.0.113.0/24"])
    api = client.api(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.77")
    assert_error(api.get("/api/v1/client/"), 403, "ip_not_allowed")


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_clients(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    client = make_platform_client(allowed_networks=["203.0.113.0/24"])
    api = client.api(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.77, 10.0.0.2")
    assert api.get("/api/v1/client/").status_code == 200


def test_request_logs_name_the_client_by_its_prefix_never_by_the_stored_hash(platform_client):
    from apps.api.authentication import verify_key

    identity = verify_key(platform_client.key)
    assert identity is not None
    # django-structlog logs request.user.pk as user_id: the ApiClient's own pk is "prefix.<sha512 hash>"
    assert identity.pk == platform_client.model.prefix
    assert platform_client.model.hashed_key not in identity.pk
