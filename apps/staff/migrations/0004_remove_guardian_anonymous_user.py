"""Remove the ``AnonymousUser`` staff row django-guardian created while ``ANONYMOUS_USER_NAME`` was its default.

Guardian made it after every migrate (a username, an unusable password, no e-mail). It is not a person, yet it sat
among the staff. Only that row is touched: the username guardian used, an unusable password (``!``) and no e-mail.
If a protected row points at it (a note, a hold or a request with it as author), it cannot be deleted without
losing that record, so it is disabled instead: inactive, no staff flag, no roles and no direct permissions.
Running it again finds nothing to do (a disabled row is disabled again).
"""

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import DatabaseError, migrations, transaction
from django.db.models import ProtectedError, RestrictedError

# Frozen: guardian's default ANONYMOUS_USER_NAME.
GUARDIAN_ANONYMOUS_USERNAME = "AnonymousUser"


def remove_anonymous_user(apps, schema_editor):
    StaffUser = apps.get_model("staff", "StaffUser")
    db = schema_editor.connection.alias
    candidates = StaffUser.objects.using(db).filter(
        username=GUARDIAN_ANONYMOUS_USERNAME, password__startswith=UNUSABLE_PASSWORD_PREFIX, email=""
    )
    for user in candidates:
        try:
            with transaction.atomic(using=db):
                user.delete()
                # A row the migration state does not know (another app's foreign key) must refuse here, inside
                # the savepoint, not at commit: check the deferred foreign keys now, then defer them again.
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        except (ProtectedError, RestrictedError, DatabaseError):
            user.is_active = False
            user.is_staff = False
            user.is_superuser = False
            user.save(using=db, update_fields=["is_active", "is_staff", "is_superuser"])
            user.groups.clear()
            user.user_permissions.clear()


class Migration(migrations.Migration):
    dependencies = [("staff", "0003_revoke_device_deletion")]
    operations = [migrations.RunPython(remove_anonymous_user, migrations.RunPython.noop)]
