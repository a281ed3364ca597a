from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.core.admin_tools import ReadOnlyAdminMixin, ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError
from apps.staff import services
from apps.staff.models import StaffUser

admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ReadOnlyAdminMixin, BaseGroupAdmin, ModelAdmin):  # type: ignore[misc]
    """Roles are defined by migrations; here they can be read, not edited."""


class StaffChangeForm(UserChangeForm):  # type: ignore[misc]
    class Meta(UserChangeForm.Meta):
        model = StaffUser
        fields = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "groups")
        labels = {"groups": "Roles"}
        help_texts = {"groups": "What the member may do: README's Roles table says what each role may."}


class StaffCreationForm(UserCreationForm):  # type: ignore[misc]
    class Meta(UserCreationForm.Meta):
        model = StaffUser
        fields = ("username", "email", "first_name", "last_name")


@admin.register(StaffUser)
class StaffUserAdmin(ServiceRefusalAdminMixin, BaseUserAdmin, ModelAdmin):  # type: ignore[misc]
    form = StaffChangeForm
    add_form = StaffCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "full_name", "roles", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)
    filter_horizontal = ("groups",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "is_staff", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "email", "first_name", "last_name", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")
    actions = ["reset_second_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffUser]:
        # roles are shown in the list: fetch them in one query, not one per row
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="name")
    def full_name(self, obj: StaffUser) -> str:
        return obj.get_full_name()

    @admin.display(description="roles")
    def roles(self, obj: StaffUser) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all())) or "—"

    def save_model(self, request: HttpRequest, obj: StaffUser, form: forms.ModelForm, change: bool) -> None:
        services.staff_save(actor=request.user, user=obj, created=not change, changed=form.changed_data)  # type: ignore[arg-type]

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        groups = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        if groups is not None:
            services.staff_set_roles(actor=request.user, user=form.instance, roles=[g.name for g in groups])  # type: ignore[arg-type]

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Django's view saves the new hash itself; the audit event joins it in one transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                services.staff_password_changed(actor=request.user, user=StaffUser.objects.get(pk=id))  # type: ignore[arg-type]
        return response

    def has_reset_second_factor_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("staff.reset_second_factor")

    @action(
        description="Reset second factor (lost phone): the member must enrol again",
        permissions=["reset_second_factor"],  # offered to holders only; unfold refuses anyone else (403)
    )
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[StaffUser]) -> None:
        for user in queryset:
            try:
                services.staff_reset_second_factor(
                    actor=request.user,  # type: ignore[arg-type]
                    user=user,
                    reason=f"reset from the admin by {request.user}",
                )
            except ApplicationError as exc:
                messages.error(request, f"{user}: {exc.message}")
        messages.success(request, "Second factors reset; the staff members will enrol at their next login.")
