"""Object permissions: one rule for "may this staff member act on this row" and "which rows may they see".

A permission is held role-wide (a group's model permission, checked by Django's ``ModelBackend``) or on one
object (a django-guardian grant to the user or to one of their groups, checked by guardian's backend). Role-wide
wins: it covers every row. Inactive accounts hold nothing. Cases and reviews grant their assignee and team
through guardian (``assign_perm("compliance.view_case", user_or_group, case)``) and read through these two.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from guardian.shortcuts import get_objects_for_user

M = TypeVar("M", bound=Model)


def can_act(user: Any, perm: str, obj: Model | None = None) -> bool:
    """True when ``user`` holds ``perm`` ("app_label.codename") role-wide, or on ``obj`` through a grant."""
    if user is None or not getattr(user, "is_active", False):
        return False
    if user.has_perm(perm):
        return True
    return obj is not None and user.has_perm(perm, obj)


def visible_to(user: Any, perm: str, queryset: QuerySet[M]) -> QuerySet[M]:
    """``queryset`` narrowed to the rows ``user`` may see under ``perm``: all of them with the role-wide
    permission, else those granted to the user or their groups (one subquery, no rows loaded)."""
    if user is None or not getattr(user, "is_active", False):
        return queryset.none()
    if user.has_perm(perm):
        return queryset
    return get_objects_for_user(user, perm, klass=queryset, use_groups=True, accept_global_perms=False)


def holds_any_grant(user: Any, perm: str, queryset: QuerySet[Any]) -> bool:
    """Whether ``user`` may see at least one row of ``queryset`` under ``perm`` (role-wide or granted)."""
    return can_act(user, perm) or visible_to(user, perm, queryset).exists()
