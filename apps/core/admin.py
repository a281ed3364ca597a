"""Admins for third-party configuration models, re-registered so that every change is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django_celery_beat.admin import PeriodicTaskAdmin as BasePeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from unfold.admin import ModelAdmin

from apps.core.services import config_save

admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BasePeriodicTaskAdmin, ModelAdmin):  # type: ignore[misc]
    """The beat schedule: staff may pause or retime entries; every change is audited."""

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        config_save(actor=request.user, obj=obj, changed=form.changed_data, created=not change)  # type: ignore[arg-type]
