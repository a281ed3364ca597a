"""Admin pieces for models narrowed by object grants (django-guardian): cases, reviews and whatever is assigned.

``ObjectPermissionAdminMixin`` goes first in a ``ModelAdmin``'s bases. With it, a staff member who holds the
model's view permission role-wide sees every row, exactly as without it; one who holds it only on some rows (a
guardian grant to them or to their team) sees those rows in the changelist, gets a 404 (never a 403, which would
confirm the row exists) on any other row's change, history or delete page, and every action re-checks its rows
against the permissions the action declares (``allowed_permissions``): a forged selection of an unseen row is a
404 and nothing runs.

Its view/change/delete checks replace Django's model-permission checks (role-wide is the same test), so a mixin
that refuses outright (``ReadOnlyAdminMixin``) must come before it in the bases.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from apps.staff.permissions import can_act, holds_any_grant, visible_to


class ObjectPermissionAdminMixin:
    """Filters the changelist, the object pages and every action by ``visible_to``/``can_act``."""

    model: type[Model]

    def object_perm(self, action: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}.{action}_{opts.model_name}"

    # Rows -------------------------------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # type: ignore[misc]
        return visible_to(request.user, self.object_perm("view"), qs)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Django redirects to the index with "doesn't exist" for a missing object; an unseen one must look the
        # same as a missing one, and both are a plain 404.
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404("No such object.")
        return obj

    # Permissions: role-wide, or on the object -------------------------------------------------------------
    def _may(self, request: HttpRequest, action: str, obj: Any) -> bool:
        perm = self.object_perm(action)
        if obj is not None:
            return can_act(request.user, perm, obj)
        return holds_any_grant(request.user, perm, self.model._default_manager.all())

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "view", obj) or self.has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "change", obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, "delete", obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self.has_view_permission(request)  # type: ignore[misc]

    # Actions ----------------------------------------------------------------------------------------------
    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        action = request.POST.get("action", "")
        entry = self.get_actions(request).get(action)  # type: ignore[attr-defined]
        if entry is not None:
            for perm in getattr(entry[0], "allowed_permissions", ()) or ("view",):
                queryset = visible_to(request.user, self.object_perm(perm), queryset)
            if not request.POST.get("select_across"):
                selected = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
                allowed = {str(pk) for pk in queryset.filter(pk__in=selected).values_list("pk", flat=True)}
                if selected - allowed:
                    raise Http404("No such object.")
        return super().response_action(request, queryset)  # type: ignore[misc]
