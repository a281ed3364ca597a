"""KYC Officers review what is assigned to them or their team (object grants); the MLRO leads (sees, assigns and
decides every review, gives the second approval of level 3); Administrators see and assign, never decide."""

from django.db import migrations

# Frozen: the permission data as this migration granted it; later edits of apps/kyc/roles.py must not change history.
VIEW = ("kyc.view_review", "kyc.view_kycprofile", "kyc.view_requirement")
OFFICER = (*VIEW, "kyc.view_document", "kyc.add_document", "kyc.claim_review")
LEAD = ("kyc.view_all_reviews", "kyc.assign_review", "kyc.decide_review", "kyc.approve_level_3")
KYC_PERMISSIONS = {
    "KYC Officer": OFFICER,
    "MLRO": (*OFFICER, *LEAD),
    "Administrator": (*VIEW, "kyc.view_all_reviews", "kyc.assign_review"),
}


def grant_role_permissions(apps, role_permissions):
    """A frozen copy of apps.staff.roles.grant_role_permissions as it was when this migration was written."""
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


def grant(apps, schema_editor):
    grant_role_permissions(apps, KYC_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("kyc", "0003_vendors"), ("staff", "0006_roles_review")]
    operations = [
        migrations.AlterModelOptions(
            name="review",
            options={
                "permissions": [
                    ("decide_review", "Decide KYC documents"),
                    ("view_all_reviews", "See every KYC review (a KYC lead)"),
                    ("assign_review", "Assign KYC reviews"),
                    ("approve_level_3", "Give the second approval of enhanced due diligence (level 3)"),
                    ("claim_review", "Take the next KYC review from the queue"),
                ]
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
