"""The browser harness itself: a guarded page fails on a response the test did not expect."""

from __future__ import annotations

import pytest

from tests.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]


def test_the_same_person_logs_in_twice_in_one_totp_step_and_a_missing_page_is_reported(staff_browser):
    admin = StaffUserFactory(roles=["Administrator"])
    first = staff_browser.login(admin)
    second = staff_browser.login(admin)  # the next step's code: the first login spent this one
    assert second.page.url.endswith("/admin/")
    first.check()
    first.goto("/admin/no-such-page/")
    with pytest.raises(AssertionError, match="404 GET"):
        first.check()
    second.guard.allow(404)
    second.goto("/admin/no-such-page/")
    second.check()


def test_admin_pages_carry_the_favicon_and_favicon_ico_leads_to_it(staff_browser):
    page = staff_browser.open().goto("/admin/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and icon.endswith(".svg")
    assert page.page.request.get(f"{staff_browser.base_url}{icon}").status == 200
    ico = page.page.request.get(f"{staff_browser.base_url}/favicon.ico")
    assert ico.status == 200 and ico.url.endswith(".svg")
