"""Admins for third-party configuration models, re-registered so that every change is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django_celery_beat.admin import PeriodicTaskAdmin as BasePeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from unfold.admin import ModelAdmin

from apps.audit.services import AuditActor
from apps.core.admin_tools import ReadOnlyAdmin
from apps.core.errors import ApplicationError
from apps.core.models import OutboxDelivery, OutboxEvent
from apps.core.outbox import outbox_redeliver
from apps.core.services import config_save, periodic_task_run_now


def actor_of(request: HttpRequest) -> AuditActor:
    """The signed-in staff member of an admin request (the admin site has already required one), as the actor
    the trail records. Any staff user model speaks ``audit_identity``: core needs no import of apps.staff."""
    user = request.user
    assert isinstance(user, AuditActor)
    return user


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BasePeriodicTaskAdmin, ModelAdmin):  # type: ignore[misc]
    """The beat schedule: staff may pause or retime entries; every change is audited.

    The package's own actions update rows in bulk, unaudited, for anyone who may read the list: these are its
    actions again, offered to and allowed for holders of ``change_periodictask`` only (403 otherwise), each row
    saved and audited through the service."""

    actions = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        config_save(actor=actor_of(request), obj=obj, changed=form.changed_data, created=not change)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[PeriodicTask], enabled: bool | None) -> None:
        for task in queryset:
            task.enabled = (not task.enabled) if enabled is None else enabled
            config_save(actor=actor_of(request), obj=task, changed=["enabled"], created=False)
        self.message_user(
            request,
            f"{len(queryset)} task(s) {'toggled' if enabled is None else 'enabled' if enabled else 'disabled'}.",
        )

    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        self._set_enabled(request, queryset, False)

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        self._set_enabled(request, queryset, None)

    @admin.action(description="Run selected tasks now", permissions=["change"])
    def run_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        sent = 0
        for task in queryset:
            try:
                periodic_task_run_now(actor=actor_of(request), task=task)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(request, f"{sent} task(s) sent.", messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    """Events told to the platform (append-only)."""

    list_display = ("id", "type", "key", "created_at")
    list_filter = ("type",)
    search_fields = ("=key",)


@admin.register(OutboxDelivery)
class OutboxDeliveryAdmin(ReadOnlyAdmin):
    """Webhook deliveries: pending, delivered, dead. Dead ones can be sent again."""

    list_display = ("id", "event", "subscriber", "status", "attempts", "last_status", "last_error", "next_attempt_at")
    list_filter = ("status", "subscriber")
    search_fields = ("=key",)
    list_select_related = ("event",)
    actions = ["redeliver"]

    @admin.action(description="Deliver again (from the first attempt)")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[OutboxDelivery]) -> None:
        if not request.user.has_perm("core.change_outboxdelivery"):
            raise PermissionDenied
        for delivery in queryset:
            outbox_redeliver(actor=actor_of(request), delivery=delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued again.", messages.SUCCESS)
