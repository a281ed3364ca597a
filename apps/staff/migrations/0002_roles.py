"""Create the seven roles with the foundation's permission sets. Later apps add theirs in their own migrations."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of the roles modules must not change history.
# Its first version (3af4360) also granted Administrators otp_totp.delete_totpdevice and
# otp_static.delete_staticdevice; removing them from apps/staff/roles.py (038ac94, in favour of the audited device
# reset) silently changed this migration. A database migrated before that change still has them.
FOUNDATION_PERMISSIONS = {
    "Support Agent": (),
    "KYC Officer": (),
    "AML Analyst": ("audit.view_auditevent",),
    "MLRO": ("audit.view_auditevent",),
    "CRM Manager": (),
    "Finance Officer": (),
    "Administrator": (
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
        "otp_totp.view_totpdevice",
        "otp_static.view_staticdevice",
    ),
}


def grant_role_permissions(apps, role_permissions):
    """A frozen copy of apps.staff.roles.grant_role_permissions as it was when this migration was written.

    Permissions are normally created after migrations run; creating them here first lets the migration grant
    permissions of models created earlier in the same ``migrate``.
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


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, FOUNDATION_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audit", "0001_initial"),
        ("api", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("django_celery_results", "0014_alter_taskresult_status"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
