from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.geo.models import GeoConfigVersion, IpOverride, RulePack
from apps.players.eligibility import can

pytestmark = pytest.mark.django_db


def test_an_administrator_adds_an_ip_override_that_takes_effect_at_once(staff_client, admin_user, player):
    assert can(player, "login", ip="81.2.69.160").allowed
    before = GeoConfigVersion.objects.get().version
    response = staff_client(admin_user).post(
        "/admin/geo/ipoverride/add/",
        {"network": "81.2.69.0/24", "action": "block", "country": "", "reason": "VPN exit", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert GeoConfigVersion.objects.get().version > before
    assert can(player, "login", ip="81.2.69.160").reasons == ["ip_blocked"]
    assert AuditEvent.objects.get(action="geo.ipoverride.created").actor_name == admin_user.username


def test_a_bad_override_is_a_form_error(staff_client, admin_user):
    response = staff_client(admin_user).post(
        "/admin/geo/ipoverride/add/", {"network": "81.2.69.0/33", "action": "country", "country": "", "reason": "x"}
    )
    assert response.status_code == 200 and "Not a CIDR network" in response.content.decode()
    assert not IpOverride.objects.exists()


def test_a_bad_stake_cap_is_refused_by_validation():
    from django.core.exceptions import ValidationError

    pack = RulePack.objects.filter(jurisdiction__code="GB").first()
    pack.stake_caps = [{"game_category": "darts", "max_stake": "x"}]
    with pytest.raises(ValidationError, match="game_category"):
        pack.full_clean()


def test_rule_pack_edits_keep_history(staff_client, admin_user):
    pack = RulePack.objects.filter(jurisdiction__code="MT").first()
    client = staff_client(admin_user)
    assert client.get(f"/admin/geo/rulepack/{pack.pk}/history/").status_code == 200


def test_only_administrators_edit_the_rules(staff_client, mlro):
    assert staff_client(mlro).get("/admin/geo/rulepack/").status_code == 403


# --- the structured rule pack form ----------------------------------------------------------------------------

RULE_PACK = "/admin/geo/rulepack/"


@pytest.fixture
def administrator():
    from apps.staff import roles
    from tests.factories import StaffUserFactory

    return StaffUserFactory(roles=[roles.ADMINISTRATOR])


def pack_of(code: str) -> RulePack:
    return RulePack.objects.filter(jurisdiction__code=code).order_by("-effective_from").first()


def rows(name: str, caps: list[dict], columns) -> dict[str, object]:
    data: dict[str, object] = {f"{name}-TOTAL": str(len(caps))}
    for i, cap in enumerate(caps):
        for column in columns:
            value = cap.get(column.key)
            if column.kind == "flag":
                if value:
                    data[f"{name}-{i}-{column.key}"] = "on"
            else:
                data[f"{name}-{i}-{column.key}"] = "" if value is None else str(value)
    return data


def form_data(pack: RulePack, **changes: object) -> dict[str, object]:
    """What the browser posts for ``pack`` unchanged, with ``changes`` applied (caps as rows)."""
    import json

    from django.utils import timezone

    from apps.geo.forms import DEPOSIT_COLUMNS, LABELS, STAKE_COLUMNS

    when = timezone.localtime(pack.effective_from)
    data: dict[str, object] = {
        "jurisdiction": str(pack.jurisdiction_id),
        "effective_from_0": when.strftime("%Y-%m-%d"),
        "effective_from_1": when.strftime("%H:%M:%S"),
        "initial-effective_from_0": when.strftime("%Y-%m-%d"),  # a callable default: the page carries the initial
        "initial-effective_from_1": when.strftime("%H:%M:%S"),
        "deposit_caps_json": json.dumps(pack.deposit_caps),
        "stake_caps_json": json.dumps(pack.stake_caps),
    }
    for name in LABELS:
        if name in ("jurisdiction", "effective_from", "deposit_caps", "stake_caps"):
            continue
        value = changes.get(name, getattr(pack, name))
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif name == "register_check_points":
            data[name] = list(value)
        elif isinstance(value, list):
            data[name] = ", ".join(value)
        else:
            data[name] = "" if value is None else str(value)
    data.update(rows("deposit_caps", changes.get("deposit_caps", pack.deposit_caps), DEPOSIT_COLUMNS))
    data.update(rows("stake_caps", changes.get("stake_caps", pack.stake_caps), STAKE_COLUMNS))
    for key, value in changes.items():
        if key.endswith("_json") or "-" in key:
            data[key] = value
    return data


def test_every_seeded_pack_passes_the_validator():
    for pack in RulePack.objects.all():
        pack.full_clean()


def test_the_form_has_a_labelled_field_per_rule_the_caps_as_rows_and_the_json_collapsed(staff_client, administrator):
    pack = pack_of("GB")
    html = staff_client(administrator).get(f"{RULE_PACK}{pack.pk}/change/").content.decode()
    for label in ("Minimum age", "Currencies allowed", "Self-exclusion terms offered", "Stake caps", "Deposit caps"):
        assert label in html, label
    assert 'name="stake_caps-0-max_stake"' in html and 'value="5.00"' in html
    assert 'name="stake_caps-0-game_category"' in html and '<option value="slots" selected>' in html
    assert "<details" in html and '<details class="w-full" open' not in html  # the JSON starts collapsed
    assert "One row per cap" in html  # the help text


def test_an_administrator_edits_a_stake_cap_in_its_row_through_the_geo_service(staff_client, administrator):
    pack = pack_of("GB")
    before = GeoConfigVersion.objects.get().version
    caps = [dict(cap) for cap in pack.stake_caps]
    caps[0]["max_stake"] = "4.00"
    response = staff_client(administrator).post(f"{RULE_PACK}{pack.pk}/change/", form_data(pack, stake_caps=caps))
    assert response.status_code == 302, response.context["adminform"].form.errors
    pack.refresh_from_db()
    assert pack.stake_caps[0] == {"game_category": "slots", "max_stake": "4.00", "currency": "GBP", "min_age": 25}
    assert GeoConfigVersion.objects.get().version > before
    event = AuditEvent.objects.get(action="geo.rulepack.changed")
    assert list(event.data) == ["stake_caps"] and event.actor_name == administrator.username


def test_a_row_is_added_from_an_empty_row_and_removed_with_its_box(staff_client, administrator):
    pack = pack_of("GB")
    added = [*pack.stake_caps, {"game_category": "table", "max_stake": "100.00", "currency": "gbp"}]
    data = form_data(pack, stake_caps=added)
    data["stake_caps-0-remove"] = "on"
    assert staff_client(administrator).post(f"{RULE_PACK}{pack.pk}/change/", data).status_code == 302
    pack.refresh_from_db()
    assert [c["game_category"] for c in pack.stake_caps] == ["slots", "table"]
    assert pack.stake_caps[1] == {"game_category": "table", "max_stake": "100.00", "currency": "GBP"}


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"stake_caps": [{"game_category": "slots", "max_stake": "abc", "currency": "GBP"}]}, "stake_caps",
         "Cap 1: the maximum stake (max_stake) must be an amount of 0 or more, with a known currency (currency)."),
        ({"stake_caps": [{"game_category": "slots", "max_stake": "1", "currency": "GBP", "min_age": "x"}]},
         "stake_caps", "Cap 1: from age must be a whole number of years."),
        ({"stake_caps": [{"game_category": "slots", "max_stake": "1", "currency": "GBP", "min_age": 30,
                          "max_age": 20}]}, "stake_caps",
         "Cap 1: the first age (min_age) is above the last (max_age)."),
        ({"deposit_caps": [{"period": "month", "amount": "10", "currency": "QQQ"}]}, "deposit_caps",
         "Cap 1: the amount (amount) must be 0 or more, with a known currency (currency)."),
        ({"allowed_currencies": ["GBP", "QQQ"]}, "allowed_currencies", "Unknown currency code(s): QQQ."),
        ({"self_exclusion_terms": ["6m", "forever"]}, "self_exclusion_terms",
         "Not a term (24h, 7d, 6w, 6m, 1y, permanent): forever."),
        ({"timeout_min_hours": 48, "timeout_max_hours": 24}, "timeout_max_hours",
         "Below the shortest time-out (48 hours)."),
        ({"min_age": 16}, "min_age", "Ensure this value is greater than or equal to 18."),
        ({"register_check_points": ["login", "bedtime"]}, "register_check_points",
         "Select a valid choice. bedtime is not one of the available choices."),
    ],
)  # fmt: skip
def test_a_bad_value_is_an_error_on_its_field_and_changes_nothing(staff_client, administrator, changes, field, error):
    pack = pack_of("GB")
    before = (GeoConfigVersion.objects.get().version, RulePack.objects.values().get(pk=pack.pk))
    response = staff_client(administrator).post(f"{RULE_PACK}{pack.pk}/change/", form_data(pack, **changes))
    assert response.status_code == 200
    assert error in response.context["adminform"].form.errors[field]
    assert (GeoConfigVersion.objects.get().version, RulePack.objects.values().get(pk=pack.pk)) == before


def test_the_json_view_is_applied_and_checked_by_the_same_validator(staff_client, administrator):
    import json

    pack = pack_of("GB")
    client = staff_client(administrator)
    bad = [{"game_category": "darts", "max_stake": "1", "currency": "GBP"}]
    response = client.post(f"{RULE_PACK}{pack.pk}/change/", form_data(pack, stake_caps_json=json.dumps(bad)))
    errors = response.context["adminform"].form.errors
    assert any("Cap 1: the game category (game_category) must be one of" in e for e in errors["stake_caps_json"])
    assert '<details class="w-full" open' in response.content.decode()  # opened on its error
    unparsable = client.post(f"{RULE_PACK}{pack.pk}/change/", form_data(pack, stake_caps_json="[{"))
    assert unparsable.context["adminform"].form.errors["stake_caps_json"] == ["Enter a valid JSON."]
    good = [{"game_category": "poker", "max_stake": "10.00", "currency": "GBP"}]
    response = client.post(f"{RULE_PACK}{pack.pk}/change/", form_data(pack, stake_caps_json=json.dumps(good)))
    assert response.status_code == 302
    pack.refresh_from_db()
    assert pack.stake_caps == good
    assert list(AuditEvent.objects.get(action="geo.rulepack.changed").data) == ["stake_caps"]


def test_editing_the_rows_and_the_json_of_the_same_caps_at_once_is_refused(staff_client, administrator):
    import json

    pack = pack_of("GB")
    caps = [dict(cap) for cap in pack.stake_caps]
    caps[0]["max_stake"] = "4.00"
    other = json.dumps([{"game_category": "poker", "max_stake": "10.00", "currency": "GBP"}])
    response = staff_client(administrator).post(
        f"{RULE_PACK}{pack.pk}/change/", form_data(pack, stake_caps=caps, stake_caps_json=other)
    )
    assert response.context["adminform"].form.errors["stake_caps_json"] == [
        "Edit either the rows or the JSON, not both: nothing was applied."
    ]
    assert RulePack.objects.get(pk=pack.pk).stake_caps == pack.stake_caps


def test_a_cap_with_an_unknown_key_is_refused():
    from django.core.exceptions import ValidationError

    pack = pack_of("GB")
    pack.deposit_caps = [{"period": "month", "amount": "10", "currency": "EUR", "nett": True}]
    with pytest.raises(ValidationError, match="unknown key"):
        pack.full_clean()
