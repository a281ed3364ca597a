"""The platform API and the browser share one middleware stack; browser-only middleware steps aside on the API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_lane_has_no_session_cookie_or_page_policies_but_keeps_ids_and_security_headers(
    platform_client, player
):
    response = platform_client.api().get(f"/api/v1/players/{player.external_id}/")
    assert response.status_code == 200
    assert response["X-Request-ID"] and response["X-Content-Type-Options"] == "nosniff"
    for browser_only in ("Content-Security-Policy", "Permissions-Policy", "Vary"):
        assert browser_only not in response, browser_only
    assert not response.cookies


def test_a_staff_session_is_not_a_way_into_the_api(staff_client, admin_user, player):
    client = staff_client(admin_user)  # logged in, with a verified OTP device
    assert client.get("/admin/").status_code == 200
    response = client.get(f"/api/v1/players/{player.external_id}/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_the_browser_lane_still_gets_every_page_policy(client):
    response = client.get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response
    assert "Permissions-Policy" in response and "csrftoken" in response.cookies


def test_the_deploy_checks_still_find_csrf_and_frame_protection():
    from django.core import checks

    found = {m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])}
    assert not {"security.W002", "security.W003"} & found
    assert not {m.id for m in checks.run_checks(tags=[checks.Tags.admin])}  # sessions, auth, messages found
