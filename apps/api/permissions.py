from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.api.authentication import ClientIdentity


def required_scopes_for(view: Any, method: str) -> frozenset[str]:
    """``required_scopes`` on a view: a set for every method, or a dict of method -> set."""
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        raise ImproperlyConfigured(f"{type(view).__name__} must declare required_scopes")
    if isinstance(declared, dict):
        if method in declared or "*" in declared:
            return frozenset(declared.get(method) or declared.get("*") or ())
        if method not in ("OPTIONS", "HEAD") and hasattr(view, method.lower()):
            raise ImproperlyConfigured(f"{type(view).__name__}.required_scopes does not cover {method}")
        return frozenset()  # no handler for this method: the view answers 405
    return frozenset(declared)


class HasScopes(BasePermission):
    """Every API view names the scopes it needs; a client without one of them gets 403 ``missing_scope``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        required = required_scopes_for(view, request.method or "GET")
        client = request.auth
        if not isinstance(client, ClientIdentity):
            raise exceptions.NotAuthenticated("Send 'Authorization: Api-Key <key>'.", code="not_authenticated")
        missing = sorted(required - client.scopes)
        if missing:
            raise exceptions.PermissionDenied(
                f"This API client lacks the scope(s): {', '.join(missing)}.", code="missing_scope"
            )
        return True
