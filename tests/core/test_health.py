from __future__ import annotations

import pytest
from django.test import Client, override_settings

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
CACHES_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": UNREACHABLE_REDIS,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_healthz_needs_nothing():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_everything_answers():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {"database", "redis", "broker"}


@pytest.mark.django_db
def test_readyz_is_200_degraded_and_says_which_when_redis_is_unreachable():
    """The web serves through a Redis outage (apps/core/degradation.py): a balancer must not drop every instance."""
    with override_settings(CACHES=CACHES_DOWN):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_503_when_redis_is_unreachable_and_required():
    with override_settings(CACHES=CACHES_DOWN, READYZ_REQUIRED_CHECKS=["database", "redis"]):
        response = Client().get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "not_ready"


@pytest.mark.django_db
def test_readyz_is_200_degraded_when_the_broker_is_unreachable():
    with override_settings(CELERY_BROKER_URL=UNREACHABLE_REDIS):
        response = Client().get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"]["ok"] is False


def test_metrics_are_prometheus_text():
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests" in response.content


@override_settings(METRICS_TOKEN="s3cret")
def test_metrics_can_require_a_token():
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
