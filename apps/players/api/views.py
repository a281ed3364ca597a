from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.authentication import client_of
from apps.api.commands import CommandView, client_player
from apps.api.schema import error_responses
from apps.api.scopes import Scope
from apps.core.errors import PlayerNotFound, ValidationFailed
from apps.geo import config as geo_config
from apps.geo.choices import GameCategory
from apps.geo.decision import PLAY, REGISTRATION, decide
from apps.players import services, validation
from apps.players.api import serializers as s
from apps.players.eligibility import ACTIONS, can_for_external_id
from apps.players.errors import BrandNotAllowed, BrandRequired, FieldReadOnly
from apps.players.models import Brand

NOT_FOUND = {404: ("player_not_found",)}


def _registration_brand(brand_ids: frozenset[int], code: str) -> Brand:
    """The brand a client registers into: the one named (among its own, active brands), or its only one."""
    brands = list(Brand.objects.filter(pk__in=brand_ids, is_active=True))
    if code:
        brand = next((b for b in brands if b.code == code), None)
        if brand is None:
            raise BrandNotAllowed(
                "This API client does not register players into this brand.",
                fields={"brand": [f"One of: {', '.join(sorted(b.code for b in brands)) or '(none)'}."]},
            )
        return brand
    if len(brands) != 1:
        raise BrandRequired(
            "Name the brand: this API client serves several brands (or no active one).",
            fields={"brand": [f"One of: {', '.join(sorted(b.code for b in brands)) or '(none)'}."]},
        )
    return brands[0]


class PlayerListView(CommandView):
    required_scopes = {"POST": frozenset({Scope.PLAYERS_WRITE})}
    request_serializer = s.PlayerRegisterInput
    responses = {201: s.PlayerOutput}
    errors = {
        400: ("invalid", "registration_refused", "brand_required", "brand_not_allowed"),
        409: ("external_id_taken", "email_taken"),
    }
    openapi = {"operation_id": "players_register", "summary": "Register a player", "examples": [s.REGISTER_EXAMPLE]}

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        ip = data.pop("registration_ip", None)
        data["brand"] = _registration_brand(self.brand_ids, data.pop("brand", ""))
        return s.player_dict(services.player_register(actor=self.client, data=data, ip=ip))


class PlayerDetailView(APIView):
    required_scopes = {"GET": frozenset({Scope.PLAYERS_READ}), "PATCH": frozenset({Scope.PLAYERS_WRITE})}

    @extend_schema(
        operation_id="players_retrieve",
        summary="A player",
        responses={200: s.PlayerOutput, **error_responses(NOT_FOUND)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        return Response(s.player_dict(client_player(request, external_id)))

    @extend_schema(
        operation_id="players_update",
        summary="Change a player's contact details, consents or accepted terms",
        request=s.PlayerPatchInput,
        examples=[OpenApiExample("A new city and e-mail consent", {"city": "Manchester", "marketing_email": True})],
        responses={
            200: s.PlayerOutput,
            **error_responses({**NOT_FOUND, 400: ("invalid", "field_read_only"), 409: ("email_taken",)}),
        },
    )
    def patch(self, request: Request, external_id: str) -> Response:
        player = client_player(request, external_id)
        unknown = sorted(set(request.data) - set(s.PlayerPatchInput().fields)) if isinstance(request.data, dict) else []
        if unknown:
            raise FieldReadOnly(
                "These fields cannot be changed through the API.",
                fields={f: ["Read-only or unknown."] for f in unknown},
            )
        data = s.PlayerPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        player = services.player_update(actor=client_of(request), player=player, changes=dict(data.validated_data))
        return Response(s.player_dict(player))


def _eligibility_params(query: Any) -> dict[str, Any]:
    """Hand-rolled validation: this is the hottest endpoint, and a serializer costs as much as the query."""
    errors: dict[str, list[str]] = {}
    action = query.get("action", "")
    if action not in ACTIONS:
        errors["action"] = [f"Required, one of: {', '.join(sorted(ACTIONS))}."]
    ip = query.get("ip") or None
    if ip is not None and not validation.ip_ok(ip):
        errors["ip"] = ["Not an IPv4 or IPv6 address."]
    amount = None
    if query.get("amount"):
        try:
            amount = Decimal(query["amount"])
            if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
                raise InvalidOperation
        except InvalidOperation:
            errors["amount"] = ["A non-negative decimal with at most 2 decimal places, e.g. 2.50."]
    category = query.get("game_category") or None
    if category is not None and category not in GameCategory.values:
        errors["game_category"] = [f"One of: {', '.join(GameCategory.values)}."]
    if errors:
        raise ValidationFailed("The request has invalid fields.", fields=errors)
    return {"action": action, "ip": ip, "amount": amount, "game_category": category}


class EligibilityView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="players_eligibility",
        summary="May this player do this, here, now?",
        parameters=[s.EligibilityQuery],
        responses={200: s.EligibilityOutput, **error_responses({**NOT_FOUND, 400: ("invalid",)})},
        description="Reason codes: account_suspended, account_blocked, account_closed, blocked_for_deposit, "
        "blocked_for_bet, blocked_for_withdrawal, blocked_for_bonus, blocked_for_marketing, underage, "
        "jurisdiction_blocked, registration_blocked, ip_invalid, ip_blocked, ip_country_blocked, ip_country_mismatch, "
        "ip_country_unknown, currency_not_allowed, no_marketing_consent, stake_limit_exceeded, game_category_required, "
        "stake_cap_currency_unsupported, timed_out, self_excluded, operator_excluded, operator_blocked, "
        "self_excluded_national, register_unavailable, limit_required, limit_reached, limit_currency_unsupported, "
        "kyc_required, kyc_level_insufficient, bonus_max_bet "
        "(docs/ERRORS.md says what each means). Restrictions: max_stake per game category, min_spin_seconds, "
        "reality_check_minutes, session_break_minutes (after session_break_after_minutes), excluded_until, "
        "session_limit_minutes, limits_reached, kyc (level, level_needed and, for a requirement, due_at).",
    )
    def get(self, request: Request, external_id: str) -> Response:
        params = _eligibility_params(request.query_params)
        result = can_for_external_id(external_id, **params, brand_ids=client_of(request).brand_ids)
        if result is None:
            raise PlayerNotFound("No player with this external_id.")
        return Response(result.as_dict())


class LoginView(CommandView):
    required_scopes = frozenset({Scope.PLAYERS_WRITE})
    request_serializer = s.LoginInput
    responses = {201: s.LoginOutput}
    errors = {**NOT_FOUND, 400: ("invalid",)}
    openapi = {
        "operation_id": "players_login",
        "summary": "Record a login and answer whether it may proceed",
        "examples": [
            OpenApiExample("A login", {"ip": "81.2.69.160", "user_agent": "Mozilla/5.0", "device_id": "d-42"})
        ],
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        login, result = services.player_login_record(player=self.player, **data)
        return {"login_id": login.pk, **result.as_dict()}


class GeoCheckView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="geo_check",
        summary="Pre-registration check of a residence and/or an IP",
        description="Give `country`, `ip` or both: at least one of them is required (400 `invalid` naming "
        "`country` otherwise). With only an IP, the IP's country is judged as the residence.",
        parameters=[
            OpenApiParameter(
                "country",
                str,
                description="Residence, ISO 3166-1 alpha-2. One of country or ip is required.",
                examples=[OpenApiExample("Great Britain", "GB")],
            ),
            OpenApiParameter("region", str, description="ISO 3166-2 (US states, Canadian provinces)"),
            OpenApiParameter(
                "ip",
                str,
                description="The player's IP. One of country or ip is required.",
                examples=[OpenApiExample("A British address", "81.2.69.160")],
            ),
        ],
        responses={200: s.GeoCheckOutput, **error_responses({400: ("invalid",)})},
    )
    def get(self, request: Request) -> Response:
        data = s.GeoCheckQuery(data=request.query_params)
        data.is_valid(raise_exception=True)
        q = data.validated_data
        snap = geo_config.snapshot()
        now = timezone.now()
        country = q.get("country") or ""
        if not country:  # IP only: judge the IP as if the player lived where it is
            from apps.geo.iplookup import lookup

            country = lookup(q["ip"], snap).country or ""
        registration = decide(snap, country=country, region=q["region"], ip=q.get("ip"), at=now, purpose=REGISTRATION)
        play = decide(snap, country=country, region=q["region"], ip=q.get("ip"), at=now, purpose=PLAY)
        rules = registration.rules
        return Response(
            {
                "registration": registration.as_dict(),
                "play": play.as_dict(),
                "min_age": rules.min_age if rules else None,
                "allowed_currencies": list(rules.allowed_currencies) if rules else [],
            }
        )
