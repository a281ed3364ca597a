"""The platform's responsible-gambling API: every view is a thin caller of apps.responsible.services."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.commands import CommandView, client_player
from apps.api.schema import error_responses
from apps.api.scopes import Scope
from apps.responsible import services
from apps.responsible.api import serializers as rs
from apps.responsible.choices import ChangeStatus, ExclusionKind
from apps.responsible.models import Exclusion, LimitChange
from apps.responsible.selectors import limits_with_usage


def change_dict(change: LimitChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "kind": change.kind,
        "period": change.period,
        "from": None if change.old_value is None else str(change.old_value),
        "to": None if change.new_value is None else str(change.new_value),
        "status": change.status,
        "effective_at": change.effective_at.isoformat(),
        "confirm_by": change.confirm_by.isoformat() if change.confirm_by else None,
    }


def exclusion_dict(e: Exclusion) -> dict[str, Any]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "term": e.term,
        "starts_at": e.starts_at.isoformat(),
        "ends_at": e.ends_at.isoformat() if e.ends_at else None,
        "reopens_at": e.released_at.isoformat() if e.released_at else None,
        "return_requested_at": e.return_requested_at.isoformat() if e.return_requested_at else None,
    }


class OverviewView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="rg_overview",
        summary="Limits with usage and pending changes, the time-out and self-exclusion in force, reality check",
        responses={200: rs.OverviewOutput, **error_responses({404: ("player_not_found",)})},
    )
    def get(self, request: Request, external_id: str) -> Response:
        player = client_player(request, external_id)
        now = timezone.now()
        in_force = [
            e
            for e in Exclusion.objects.filter(services.models_q_person(player), superseded_by=None)
            if e.in_force(now) and e.kind != ExclusionKind.OPERATOR  # operator actions are not the player's
        ]
        rules = services.rules_for(player, now)
        return Response(
            {
                "limits": limits_with_usage(player),
                "pending_changes": [
                    change_dict(c) for c in LimitChange.objects.filter(player=player, status=ChangeStatus.PENDING)
                ],
                "time_out": next((exclusion_dict(e) for e in in_force if e.kind == ExclusionKind.TIME_OUT), None),
                "self_exclusion": next(
                    (exclusion_dict(e) for e in in_force if e.kind == ExclusionKind.SELF_EXCLUSION), None
                ),
                "reality_check_minutes": rules.reality_check_minutes if rules else None,
                "self_exclusion_terms": list(services.offered_terms(rules)),
            }
        )


class LimitsView(CommandView):
    required_scopes = frozenset({Scope.RESPONSIBLE_WRITE})
    request_serializer = rs.LimitInput
    responses = {
        201: OpenApiResponse(rs.ChangeEnvelope, description="Applied at once (a new limit or a decrease)"),
        202: OpenApiResponse(rs.ChangeEnvelope, description="Pending: cooling-off, then the player's confirmation"),
    }
    errors = {400: ("limit_invalid", "invalid"), 404: ("player_not_found",)}
    openapi = {
        "operation_id": "rg_limit_set",
        "summary": "Set, lower, raise or remove a limit (a raise or removal waits for cooling-off and confirmation)",
        "examples": [
            OpenApiExample("A weekly deposit limit", {"kind": "deposit", "period": "week", "value": "100.00"})
        ],
    }

    def perform(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        outcome = services.limit_set(actor=self.client, player=self.player, **data)
        return 202 if outcome.change.status == ChangeStatus.PENDING else 201, {"change": change_dict(outcome.change)}


class LimitConfirmView(CommandView):
    required_scopes = frozenset({Scope.RESPONSIBLE_WRITE})
    responses = {200: rs.ChangeEnvelope}
    errors = {
        404: ("player_not_found", "not_found"),
        409: ("cooling_off_pending", "change_lapsed", "change_not_pending"),
    }
    openapi = {
        "operation_id": "rg_limit_confirm",
        "summary": "Confirm a pending raise or removal after its cooling-off",
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        change = get_object_or_404(LimitChange, pk=self.kwargs["change_id"], player=self.player)
        outcome = services.limit_confirm(actor=self.client, player=self.player, change=change)
        return {"change": change_dict(outcome.change)}


class TimeOutView(CommandView):
    required_scopes = frozenset({Scope.RESPONSIBLE_WRITE})
    request_serializer = rs.TimeOutInput
    responses = {201: rs.TimeOutEnvelope}
    errors = {400: ("term_not_allowed", "invalid"), 404: ("player_not_found",), 409: ("exclusion_active",)}
    openapi = {
        "operation_id": "rg_time_out",
        "summary": "Take a break: in force at once, cannot be shortened",
        "examples": [OpenApiExample("A day's break", {"hours": 24})],
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        exclusion = services.time_out(actor=self.client, player=self.player, api_client=self.client.prefix, **data)
        return {"time_out": exclusion_dict(exclusion)}


class SelfExclusionView(CommandView):
    required_scopes = frozenset({Scope.RESPONSIBLE_WRITE})
    request_serializer = rs.SelfExclusionInput
    responses = {201: rs.SelfExclusionEnvelope}
    errors = {400: ("term_not_allowed", "invalid"), 404: ("player_not_found",), 409: ("exclusion_active",)}
    openapi = {
        "operation_id": "rg_self_exclude",
        "summary": "Self-exclude for one of the jurisdiction's terms (e.g. 6m, 1y, 5y, permanent)",
        "examples": [OpenApiExample("Six months", {"term": "6m"})],
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        exclusion = services.self_exclude(actor=self.client, player=self.player, api_client=self.client.prefix, **data)
        return {"self_exclusion": exclusion_dict(exclusion)}


class ReturnRequestView(CommandView):
    required_scopes = frozenset({Scope.RESPONSIBLE_WRITE})
    responses = {200: rs.SelfExclusionEnvelope}
    errors = {404: ("player_not_found",), 409: ("exclusion_active", "cooling_off_pending", "no_exclusion")}
    openapi = {
        "operation_id": "rg_return_request",
        "summary": "After the term: ask to return; the account reopens after the cooling-off",
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        rows = services.self_exclusion_return_request(actor=self.client, player=self.player)
        return {"self_exclusion": exclusion_dict(rows[0])}
