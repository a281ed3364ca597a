"""Every national-register check, as asked (read only)."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_tools import ReadOnlyAdmin
from apps.players.admin_filters import brand_filter
from apps.responsible.models import RegisterCheck


@admin.register(RegisterCheck)
class RegisterCheckAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "register", "point", "subject", "outcome", "duration_ms", "detail")
    list_filter = ("register", "outcome", brand_filter("player__brand"))
    search_fields = ("=subject",)
