"""The real URLs plus a few views that exist only to exercise the API plumbing in tests."""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import Conflict
from backoffice.urls import urlpatterns as real_urlpatterns


class WalletOnly(APIView):
    required_scopes = frozenset({"wallet:payments"})

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class Amount(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(min_length=3, max_length=3)


class Echo(APIView):
    required_scopes = frozenset()

    def post(self, request: Request) -> Response:
        data = Amount(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"amount": str(data.validated_data["amount"])})


class Boom(APIView):
    required_scopes = frozenset()

    def get(self, request: Request) -> Response:
        raise RuntimeError("forced failure for the test")


class Domain(APIView):
    required_scopes = frozenset()

    def get(self, request: Request) -> Response:
        raise Conflict("That external id is taken.", code="external_id_taken", fields={"external_id": ["taken"]})


class Undeclared(APIView):
    def get(self, request: Request) -> Response:
        return Response({})


urlpatterns = [
    path("api/v1/test/wallet-only/", WalletOnly.as_view()),
    path("api/v1/test/echo/", Echo.as_view()),
    path("api/v1/test/boom/", Boom.as_view()),
    path("api/v1/test/domain/", Domain.as_view()),
    path("api/v1/test/undeclared/", Undeclared.as_view()),
    *real_urlpatterns,
]
