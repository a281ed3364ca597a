"""The roles the migrations build are the roles the code defines, and the migrations do not read live code.

Each app's data migration grants a frozen copy of its permission sets; ``apps/<app>/roles.py`` says what the code
expects today. If the two drift apart (a permission added to roles.py without a migration, or a migration that
grants what roles.py does not list), the test below names the role and the permission.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from apps.staff import roles

pytestmark = pytest.mark.django_db
APPS_DIR = Path(__file__).resolve().parents[2] / "apps"


def defined_role_permissions() -> dict[str, set[str]]:
    return roles.defined_role_permissions()


def migrated_role_permissions() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }


def test_it_grants_each_role_exactly_what_the_roles_modules_define():
    migrated = migrated_role_permissions()
    assert set(roles.ROLES) <= set(migrated), "the role groups are missing: were the tables flushed?"
    defined = defined_role_permissions()
    assert set(defined) <= set(roles.ROLES), "a roles module names a role that does not exist"
    drift = {
        role: {
            "granted by a migration, not defined in roles.py": sorted(migrated[role] - defined.get(role, set())),
            "defined in roles.py, granted by no migration": sorted(defined.get(role, set()) - migrated[role]),
        }
        for role in roles.ROLES
        if migrated[role] != defined.get(role, set())
    }
    assert drift == {}


def test_it_knows_every_roles_module():
    # the merge above finds roles modules by their app; this guards it against finding none (a silent pass)
    defined = defined_role_permissions()
    assert "wallet.approve_withdrawal" in defined[roles.FINANCE_OFFICER]
    assert "core.change_outboxdelivery" in defined[roles.ADMINISTRATOR]
    assert "players.change_player" in defined[roles.KYC_OFFICER]


def _live_imports(path: Path) -> list[str]:
    """Imports of our own code in a migration, except ``import apps.<app>.models`` (Django writes those for a
    field's validators and defaults, and its autodetector compares them with the model's)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "apps":
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "apps" and not (len(parts) == 3 and parts[2] == "models"):
                    found.append(f"import {alias.name}")
    return found


def test_it_keeps_migrations_off_live_code():
    offenders = {
        str(path.relative_to(APPS_DIR.parent)): imports
        for path in sorted(APPS_DIR.glob("*/migrations/0*.py"))
        if (imports := _live_imports(path))
    }
    assert offenders == {}
