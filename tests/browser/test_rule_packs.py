"""An Administrator's main task in a real browser: a rule pack edited through its structured form (a stake cap
changed in its row, a cap added from an empty row, a bad value refused on its field), and the JSON only behind
"Advanced". Screenshots under var/screenshots/rule-pack-*.png; the harness fails on any 4xx/5xx, console error or
request to another origin."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.geo.models import RulePack
from tests.factories import StaffUserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("role_groups", "geo_rules"),
]


def test_an_administrator_edits_a_rule_pack_through_the_structured_form(staff_browser):
    pack = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    admin = staff_browser.login(StaffUserFactory(roles=["Administrator"]))
    admin.goto("/admin/geo/rulepack/")
    admin.shot("rule-pack-1-list")
    admin.goto(f"/admin/geo/rulepack/{pack.pk}/change/")
    assert admin.locator("details").first.get_attribute("open") is None  # the JSON is folded away
    assert admin.input_value("#id_stake_caps-0-max_stake") == "5.00"
    admin.shot("rule-pack-2-form")

    admin.fill("#id_stake_caps-1-max_stake", "abc")  # a mistake first: refused on its field, nothing saved
    admin.click("input[name=_save], button[name=_save]")
    admin.page.wait_for_selector("text=Cap 2: the maximum stake (max_stake) must be an amount of 0 or more")
    admin.shot("rule-pack-3-refused")
    assert RulePack.objects.get(pk=pack.pk).stake_caps == pack.stake_caps

    admin.fill("#id_stake_caps-1-max_stake", "1.50")
    new_row = len(pack.stake_caps)  # the first empty row
    admin.select_option(f"#id_stake_caps-{new_row}-game_category", "table")
    admin.fill(f"#id_stake_caps-{new_row}-max_stake", "50.00")
    admin.fill(f"#id_stake_caps-{new_row}-currency", "gbp")
    admin.fill("#id_self_exclusion_terms", "6m, 1y, 5y, permanent")
    admin.click("input[name=_save], button[name=_save]")
    admin.page.wait_for_url(f"{staff_browser.base_url}/admin/geo/rulepack/")
    admin.shot("rule-pack-4-saved")

    pack.refresh_from_db()
    assert [(c["game_category"], c["max_stake"]) for c in pack.stake_caps] == [
        ("slots", "5.00"),
        ("slots", "1.50"),
        ("table", "50.00"),
    ]
    assert pack.stake_caps[2]["currency"] == "GBP" and pack.self_exclusion_terms == ["6m", "1y", "5y", "permanent"]
    event = AuditEvent.objects.get(action="geo.rulepack.changed")
    assert set(event.data) == {"stake_caps", "self_exclusion_terms"}
    admin.goto(f"/admin/geo/rulepack/{pack.pk}/change/")
    admin.click("details summary >> nth=1")  # the stake caps' JSON, on demand
    assert '"table"' in admin.input_value("#id_stake_caps_json")
    admin.shot("rule-pack-5-advanced-json")
