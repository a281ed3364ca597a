from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.authentication import ClientIdentity
from apps.api.schema import error_responses


class ClientView(APIView):
    """Who am I: the calling client's name, scopes and rate. Any valid key may call it."""

    required_scopes: frozenset[str] = frozenset()

    @extend_schema(
        operation_id="client_retrieve",
        summary="The calling API client",
        responses={
            200: inline_serializer(
                "ApiClientIdentity",
                {
                    "name": serializers.CharField(),
                    "prefix": serializers.CharField(),
                    "scopes": serializers.ListField(child=serializers.CharField()),
                    "throttle_rate": serializers.CharField(),
                },
            ),
            **error_responses(),
        },
    )
    def get(self, request: Request) -> Response:
        client = request.auth
        assert isinstance(client, ClientIdentity)  # HasScopes let only API clients through
        return Response(
            {
                "name": client.name,
                "prefix": client.prefix,
                "scopes": sorted(client.scopes),
                "throttle_rate": client.throttle_rate or "default",
            }
        )
