"""staff/0004 removes the ``AnonymousUser`` row django-guardian made, and guardian makes no new one."""

from __future__ import annotations

import importlib
import weakref
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.models.signals import post_migrate
from guardian.conf import settings as guardian_settings
from guardian.management import create_anonymous_user

from apps.players.models import PlayerNote
from apps.staff.models import StaffUser
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("apps.staff.migrations.0004_remove_guardian_anonymous_user")


class _SchemaEditor:
    connection = connection


def run_migration() -> None:
    migration.remove_anonymous_user(django_apps, _SchemaEditor())


def guardian_made_anonymous_user() -> StaffUser:
    user = StaffUser(username="AnonymousUser")
    user.set_unusable_password()
    user.save()
    return user


def test_it_configures_guardian_without_an_anonymous_user():
    assert guardian_settings.ANONYMOUS_USER_NAME is None
    assert not StaffUser.objects.filter(username="AnonymousUser").exists()


def test_it_keeps_guardian_from_creating_the_row_after_migrate():
    receivers = [entry[1] for entry in post_migrate.receivers]
    functions = [r() if isinstance(r, weakref.ReferenceType) else r for r in receivers]
    assert create_anonymous_user not in functions


def test_it_removes_the_row_guardian_made_and_is_idempotent():
    guardian_made_anonymous_user()
    run_migration()
    assert not StaffUser.objects.filter(username="AnonymousUser").exists()
    run_migration()  # nothing left to do
    assert not StaffUser.objects.filter(username="AnonymousUser").exists()


def test_it_leaves_a_real_staff_member_with_that_name_alone():
    real = StaffUserFactory(username="AnonymousUser")  # a usable password and an e-mail: a person
    run_migration()
    assert StaffUser.objects.filter(pk=real.pk, is_active=True).exists()


def test_it_disables_the_row_when_a_protected_record_points_at_it(player: Any):
    from django.contrib.auth.models import Group

    anonymous = guardian_made_anonymous_user()
    anonymous.is_staff = True
    anonymous.save()
    anonymous.groups.add(Group.objects.first())
    PlayerNote.objects.create(player=player, author=anonymous, text="written under the anonymous row")
    run_migration()
    anonymous.refresh_from_db()
    assert (anonymous.is_active, anonymous.is_staff, anonymous.is_superuser) == (False, False, False)
    assert not anonymous.groups.exists()
    assert PlayerNote.objects.filter(author=anonymous).count() == 1
    run_migration()  # again: still there, still disabled, no error
    assert StaffUser.objects.filter(pk=anonymous.pk, is_active=False).exists()
