"""A real browser (Debian's chromium, driven by Playwright) signs a staff member in with a TOTP code."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import Browser

from tests.conftest import current_code
from tests.factories import PASSWORD, StaffUserFactory

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "browser"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]


@pytest.fixture
def browser(chromium: Browser) -> Browser:
    return chromium


# The database work happens in fixtures requested before `browser`: once Playwright's event loop runs in this
# thread, Django refuses synchronous ORM calls from it.
@pytest.fixture
def enrolled_admin(db: None) -> tuple[str, str]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = StaffUserFactory(roles=["Administrator"])
    return user.username, current_code(TOTPDevice.objects.get(user=user))


@pytest.fixture
def new_member(db: None) -> str:
    return str(StaffUserFactory(device=False, roles=["MLRO"]).username)


def test_a_staff_member_logs_in_with_a_totp_code_and_lands_on_the_admin_index(live_server, enrolled_admin, browser):
    username, code = enrolled_admin

    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    code_input = page.locator("input[name=otp_token]")
    assert code_input.evaluate("e => parseFloat(getComputedStyle(e).borderTopWidth)") > 0  # a visible input
    code_input.fill(code)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-index.png"), full_page=True)
    assert "Pitboss" in page.title()
    assert page.locator("text=Audit trail").count() >= 1  # the Administrator's apps are listed
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_a_new_staff_member_enrols_in_the_browser(live_server, new_member, browser):
    username = new_member

    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/enrol/")
    assert page.locator("#otp-qr svg").count() == 1
    secret = page.inner_text("#otp-secret").strip()  # what the phone scans
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.reload()  # before confirming: the code the phone shows must still work
    assert page.inner_text("#otp-secret").strip() == secret
    token = page.locator("input[name=token]")
    assert token.evaluate("e => parseFloat(getComputedStyle(e).borderTopWidth)") > 0  # a visible input
    page.fill("input[name=token]", f"{totp(key):06d}")
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("#backup-codes")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "backup-codes.png"), full_page=True)
    assert page.locator("#backup-codes li").count() == 10
    page.goto(f"{live_server.url}/admin/")
    assert page.url == f"{live_server.url}/admin/"
