"""/metrics behind a bearer token, a network allow-list, or both (either is enough)."""

from __future__ import annotations

import ipaddress

from django.test import Client, override_settings

SCRAPERS = [ipaddress.ip_network("10.20.0.0/16")]


@override_settings(METRICS_ALLOWED_NETWORKS=SCRAPERS)
def test_it_serves_metrics_only_to_the_allowed_networks():
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == 401


@override_settings(METRICS_ALLOWED_NETWORKS=SCRAPERS, METRICS_TOKEN="s3cret")
def test_it_accepts_the_token_from_outside_the_allowed_networks():
    outside = Client(REMOTE_ADDR="192.0.2.7")
    assert outside.get("/metrics").status_code == 401
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
