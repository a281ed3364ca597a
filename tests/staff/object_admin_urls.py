"""A test-only admin site: the same model once with ObjectPermissionAdminMixin and once without."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import path
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from apps.players.models import Tag
from apps.staff.admin_tools import ObjectPermissionAdminMixin

RENAMED = "-renamed"


@admin.action(description="Rename", permissions=["change"])
def rename(modeladmin: Any, request: Any, queryset: Any) -> None:
    queryset.update(name=Concat(F("name"), Value(RENAMED)))


class PlainTagAdmin(ModelAdmin):  # type: ignore[misc]
    actions = [rename]


class GrantedTagAdmin(ObjectPermissionAdminMixin, PlainTagAdmin):
    pass


granted_site = UnfoldAdminSite(name="granted")
granted_site.register(Tag, GrantedTagAdmin)
plain_site = UnfoldAdminSite(name="plain")
plain_site.register(Tag, PlainTagAdmin)

urlpatterns = [path("granted/", granted_site.urls), path("plain/", plain_site.urls)]
