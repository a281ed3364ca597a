from __future__ import annotations

import pytest
from django.utils import timezone

from apps.geo import config
from apps.geo.decision import PLAY, REGISTRATION, WITHDRAWAL, decide

pytestmark = pytest.mark.django_db


def test_a_decision_explains_which_rule_decided():
    snap = config.snapshot()
    decision = decide(snap, country="DE", ip="81.2.69.160", at=timezone.now(), purpose=PLAY)
    assert decision.reasons == ["ip_country_mismatch"]
    text = "\n".join(decision.explanation)
    assert "residence DE -> jurisdiction DE" in text and "81.2.69.160 -> GB" in text and "requires play from DE" in text


def test_registration_blocked_and_withdrawals():
    snap = config.snapshot()
    now = timezone.now()
    assert decide(snap, country="FR", at=now, purpose=REGISTRATION).reasons == ["jurisdiction_blocked"]
    assert decide(snap, country="FR", at=now, purpose=WITHDRAWAL).allowed
    assert decide(snap, country="GB", ip="nonsense", at=now).reasons == ["ip_invalid"]


def test_the_most_specific_override_wins():
    import ipaddress

    snap = config.GeoSnapshot(version=-1)
    snap.overrides = [
        config.Override(ipaddress.ip_network("10.0.0.0/8"), "block", "", "corporate VPN"),
        config.Override(ipaddress.ip_network("10.1.0.0/16"), "country", "MT", "Malta office"),
    ]
    assert snap.override_for("10.1.2.3").country == "MT"
    assert snap.override_for("10.2.0.1").action == "block"
    assert snap.override_for("192.0.2.1") is None


def test_age_on_birthdays():
    from datetime import date

    assert config.age_on(date(2008, 11, 22), date(2026, 11, 22)) == 18
    assert config.age_on(date(2008, 11, 23), date(2026, 11, 22)) == 17
    assert config.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
