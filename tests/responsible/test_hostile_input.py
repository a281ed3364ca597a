from __future__ import annotations

import pytest

from apps.responsible.models import LimitChange

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["1" * 27, "9" * 40 + ".5", "1" * 27 + ".123"])
def test_it_refuses_a_limit_value_of_many_digits_with_the_limit_code(platform_client, player, value):
    response = platform_client.api().post(
        f"/api/v1/players/{player.external_id}/responsible-gambling/limits/",
        {"kind": "deposit", "period": "day", "value": value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "limit_invalid" and "value" in response.json()["fields"]
    assert not LimitChange.objects.exists()
