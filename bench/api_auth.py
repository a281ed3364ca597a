"""How much does verifying an API key cost, against the request it guards?

Baseline (measured in the same run): a full authenticated GET /api/v1/client/ through Django's test client.
Compared: our verification with the row in this process's memory, with the row in Redis only, with neither
(indexed prefix lookup + SHA-512 + cache fill), and the library's own ``get_from_key`` (database every time).
"""

from __future__ import annotations

from django.core.cache import cache
from rest_framework.test import APIClient

from apps.api import authentication
from apps.api.authentication import cache_key, verify_key
from apps.api.models import ApiClient
from apps.api.scopes import ALL_SCOPES
from apps.api.services import api_client_create
from apps.audit.services import SystemActor
from bench.timing import fmt, per_call


def run() -> None:
    cache.delete_pattern("*")  # type: ignore[attr-defined]  # django-redis
    ApiClient.objects.filter(name__startswith="bench").delete()  # from an earlier run
    for i in range(200):  # a realistic table: many clients, one prefix lookup
        api_client_create(actor=SystemActor("bench"), name=f"bench-{i}", scopes=["players:read"])
    client, key = api_client_create(
        actor=SystemActor("bench"), name="bench", scopes=ALL_SCOPES, throttle_rate="1000000/min"
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.get("/api/v1/client/").status_code == 200

    request = per_call(lambda: api.get("/api/v1/client/"), n=300)
    cached = per_call(lambda: verify_key(key), n=3000)

    def process_miss() -> None:
        authentication.forget_locally(client.prefix)
        verify_key(key)

    def full_miss() -> None:
        authentication.forget_locally(client.prefix)
        cache.delete(cache_key(client.prefix))
        verify_key(key)

    redis_hit = per_call(process_miss, n=2000)
    uncached = per_call(full_miss, n=1000)
    library = per_call(lambda: ApiClient.objects.get_from_key(key), n=1000)

    print("\n== api_auth: cost of verifying an API key (baseline: one authenticated request) ==")
    rows = [
        ("full authenticated request (baseline)", request),
        ("verify_key, in-process hit (SHA-512 only)", cached),
        ("verify_key, Redis hit (GET + SHA-512)", redis_hit),
        ("verify_key, full miss (DB + SHA-512 + SET)", uncached),
        ("library get_from_key (DB every time)", library),
    ]
    for label, seconds in rows:
        print(f"  {label:<46} {fmt(seconds)}   {seconds / request:6.3f}x of a request")
    print(
        f"  in-process verification is {library / cached:.0f}x, a Redis hit {library / redis_hit:.1f}x cheaper "
        "than asking the database each time"
    )
