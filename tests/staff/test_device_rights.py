from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission

pytestmark = pytest.mark.django_db


def test_administrators_lose_the_device_deletion_an_old_migration_gave_them():
    admins = Group.objects.get(name="Administrator")
    stale = Permission.objects.filter(codename__in=["delete_totpdevice", "delete_staticdevice"])
    admins.permissions.add(*stale)  # as a database migrated with the first version of staff/0002 has it
    importlib.import_module("apps.staff.migrations.0003_revoke_device_deletion").revoke(django_apps, None)
    assert not admins.permissions.filter(codename__in=["delete_totpdevice", "delete_staticdevice"]).exists()
    assert admins.permissions.filter(codename="view_totpdevice").exists()
