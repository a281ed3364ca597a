"""The menu and the start page read the member's roles once per request (apps.staff.menu.role_names): a menu build
asked twice and the start page builds it twice and names the roles, each time a query (bench/page_budget.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.staff import menu
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def _role_queries(client, url: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    return html, sum(1 for q in queries if q["sql"].startswith('SELECT "auth_group"'))


@pytest.mark.parametrize("url", ["/admin/", "/admin/players/player/", "/admin/password_change/"])
def test_it_reads_an_administrators_roles_once_per_page(admin_user, url):
    client = verified_client(admin_user)
    client.get(url)
    html, asked = _role_queries(client, url)
    assert asked == 1
    assert "app-system" in html  # an Administrator still sees System


def test_the_start_page_still_names_the_roles_and_hides_system_from_others(support_agent):
    client = verified_client(support_agent)
    html, asked = _role_queries(client, "/admin/")
    assert asked == 1
    assert "safer gambling: interactions, exclusions, limits" in html and "app-system" not in html


def test_a_superuser_is_an_administrator_without_a_role(outsider):
    outsider.is_superuser = True
    assert menu.is_administrator(outsider) and menu.role_names(outsider) == frozenset()


def test_the_start_page_builds_the_app_list_once_for_the_menu_and_its_screens(support_agent, monkeypatch):
    from lxml import html as lxml_html

    from apps.staff.sites import StaffSite

    built = []
    original = StaffSite._build_app_dict

    def counting(self, request, label=None):  # type: ignore[no-untyped-def]
        built.append(label)
        return original(self, request, label)

    monkeypatch.setattr(StaffSite, "_build_app_dict", counting)
    page = lxml_html.fromstring(verified_client(support_agent).get("/admin/").content.decode())
    assert built == [None]  # one build: the sidebar and "Your screens" read the same list
    screens = {a.get("href") for a in page.xpath("//div[@id='screen-list']//a[@href]")}
    assert "/admin/players/player/" in screens and not any("/admin/django_celery_beat/" in s for s in screens)
