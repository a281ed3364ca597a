"""Site-wide: URLs no view can answer are a 404, never a 500 (apps.core.middleware.HostileUrlMiddleware)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/players/player/abc/change/",
        "/admin/players/player/1%202/change/",
        "/admin/wallet/withdrawal/abc/change/",
        "/admin/players/player/abc/history/",
        "/admin/audit/auditevent/?actor=%00",
        "/admin/players/player/?status=%00",
        "/admin/players/%00/",
    ],
)
def test_it_answers_404_to_an_admin_url_no_object_can_match(staff_client, admin_user, url):
    client = staff_client(admin_user)
    client.raise_request_exception = False
    assert client.get(url).status_code == 404


def test_a_valid_admin_url_still_works(staff_client, admin_user, player):
    client = staff_client(admin_user)
    assert client.get(f"/admin/players/player/{player.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditevent/?actor=someone").status_code == 200
    assert client.get("/admin/audit/auditevent/?q=100%2500").status_code == 200  # a literal "%00", not a NUL
