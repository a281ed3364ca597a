"""Roles are groups with explicit permission sets, created and kept in step by data migrations.

Each app that adds permissions to a role does so in its own data migration by calling
:func:`grant_role_permissions`; nothing grants permissions at run time.
"""

from __future__ import annotations

from typing import Any

SUPPORT_AGENT = "Support Agent"
KYC_OFFICER = "KYC Officer"
AML_ANALYST = "AML Analyst"
MLRO = "MLRO"
CRM_MANAGER = "CRM Manager"
FINANCE_OFFICER = "Finance Officer"
ADMINISTRATOR = "Administrator"

ROLES = (SUPPORT_AGENT, KYC_OFFICER, AML_ANALYST, MLRO, CRM_MANAGER, FINANCE_OFFICER, ADMINISTRATOR)

# The foundation's permissions, as "app_label.codename".
FOUNDATION_PERMISSIONS: dict[str, tuple[str, ...]] = {
    SUPPORT_AGENT: (),
    KYC_OFFICER: (),
    AML_ANALYST: ("audit.view_auditevent",),
    MLRO: ("audit.view_auditevent",),
    CRM_MANAGER: (),
    FINANCE_OFFICER: (),
    ADMINISTRATOR: (
        "staff.view_staffuser",
        "staff.add_staffuser",
        "staff.change_staffuser",
        "auth.view_group",
        "audit.view_auditevent",
        "api.view_apiclient",
        "api.add_apiclient",
        "api.change_apiclient",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.view_intervalschedule",
        "django_celery_results.view_taskresult",
        # devices are read-only here: resetting a lost second factor is the audited staff action
        "otp_totp.view_totpdevice",
        "otp_static.view_staticdevice",
    ),
}

# Added by staff/0006: the audited reset of a lost second factor, a permission of its own (it was open to whoever
# could read the staff list).
SECOND_FACTOR_PERMISSIONS: dict[str, tuple[str, ...]] = {ADMINISTRATOR: ("staff.reset_second_factor",)}


def grant_role_permissions(apps: Any, role_permissions: dict[str, tuple[str, ...]]) -> None:
    """Create the roles if needed and add the given permissions (used from data migrations).

    Permissions are normally created after migrations run; creating them here first lets a data migration
    grant permissions of models created earlier in the same ``migrate``.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            try:
                permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            except Permission.DoesNotExist as exc:
                raise LookupError(f"role {role!r}: permission {dotted!r} does not exist") from exc
            group.permissions.add(permission)


def defined_role_permissions() -> dict[str, set[str]]:
    """Every ``*_PERMISSIONS`` mapping of every ``apps.<app>.roles`` module, merged per role: what the roles are
    meant to hold today (the tests compare it with what the migrations granted). Never for migrations."""
    import importlib
    from collections import defaultdict

    from django.apps import apps as django_apps

    merged: dict[str, set[str]] = defaultdict(set)
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.roles")
        except ModuleNotFoundError:
            continue
        for name, value in vars(module).items():
            if name.endswith("_PERMISSIONS") and isinstance(value, dict):
                for role, permissions in value.items():
                    merged[role].update(permissions)
    return dict(merged)
