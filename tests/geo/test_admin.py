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
