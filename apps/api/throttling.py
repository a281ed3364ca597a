from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from apps.api.authentication import ClientIdentity


class ApiClientRateThrottle(SimpleRateThrottle):
    """Per-client request rate on the shared Redis cache: the client's own rate, else the default."""

    scope = "api_client"

    def get_rate(self) -> str:
        return str(settings.API_DEFAULT_THROTTLE_RATE)

    def allow_request(self, request: Request, view: Any) -> bool:
        client = request.auth
        if isinstance(client, ClientIdentity) and client.throttle_rate:
            self.rate = client.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return bool(super().allow_request(request, view))

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = request.auth
        if not isinstance(client, ClientIdentity):
            return None  # unauthenticated requests are refused before they cost anything
        return f"throttle:{self.scope}:{client.prefix}"
