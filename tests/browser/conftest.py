"""The browser harness for role tests: Debian's chromium, a signed-in page per staff member, and a guard that fails the
test on any 4xx/5xx response, console error, page error or request to another origin.

    def test_finance_pays(live_server, staff_browser):
        finance = staff_browser.login(StaffUserFactory(roles=["Finance Officer"]))
        finance.goto("/admin/")
        ...
        finance.shot("finance-paid")          # full page, var/screenshots/finance-paid.png

Every page the harness opens is checked when the test ends (and on `check()`); a test that expects a refusal says
so with `page_guard.allow(403)` before provoking it. The ORM may be used between browser steps: Playwright's sync
API runs an event loop in this thread, which Django would otherwise take for async code (test-only switch below).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Browser, Page, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def login_code(user: Any) -> str:
    """A TOTP code the device has not used yet: the current step's, or the next one's when the current step was just
    spent by an earlier login of the same person (django-otp refuses a reused step; a drift of one step is allowed)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, drift=0)
    step = clock.t()
    if device.last_t >= step:
        step = device.last_t + 1
    clock.time = device.t0 + step * device.step
    return f"{clock.token():0{device.digits}d}"


@dataclass
class PageGuard:
    """What went wrong on a page: failed responses, console errors, uncaught exceptions, other origins."""

    origin: str
    allowed_statuses: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def allow(self, *statuses: int) -> None:
        self.allowed_statuses.update(statuses)

    def watch(self, page: Page) -> None:
        page.on("response", self._on_response)
        page.on("request", self._on_request)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _on_response(self, response: Any) -> None:
        if response.status >= 400 and response.status not in self.allowed_statuses:
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        # chromium's echo of a failed response: already judged (and perhaps allowed) by _on_response
        if "Failed to load resource: the server responded with a status of" in message.text:
            return
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another origin: {request.url}")


class StaffPage:
    """One signed-in staff member's tab."""

    def __init__(self, page: Page, base_url: str, guard: PageGuard) -> None:
        self.page = page
        self.base_url = base_url
        self.guard = guard

    def goto(self, path: str) -> StaffPage:
        self.page.goto(f"{self.base_url}{path}")
        return self

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self) -> None:
        problems, self.guard.problems[:] = list(self.guard.problems), []
        assert not problems, "the browser saw problems:\n" + "\n".join(problems)

    def __getattr__(self, name: str) -> Any:  # page.fill, page.click, page.locator...
        return getattr(self.page, name)


class StaffBrowser:
    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.pages: list[StaffPage] = []

    def open(self) -> StaffPage:
        """A new signed-out tab of its own (own cookies), guarded."""
        context = self.browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        page = context.new_page()
        guard = PageGuard(origin=self.base_url)
        guard.watch(page)
        staff_page = StaffPage(page, self.base_url, guard)
        self.pages.append(staff_page)
        return staff_page

    def login(self, user: Any, password: str = PASSWORD) -> StaffPage:
        staff_page = self.open()
        page = staff_page.page
        page.goto(f"{self.base_url}/admin/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.fill("input[name=otp_token]", login_code(user))
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"{self.base_url}/admin/")
        return staff_page

    def check_all(self) -> None:
        for staff_page in self.pages:
            staff_page.check()


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # for this test only: see the module's docstring
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt) before the suite")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def staff_browser(chromium: Browser, live_server: Any) -> Iterator[StaffBrowser]:
    harness = StaffBrowser(chromium, live_server.url)
    yield harness
    try:
        harness.check_all()
    finally:
        for staff_page in harness.pages:
            staff_page.page.context.close()
