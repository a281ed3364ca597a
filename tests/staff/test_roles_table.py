"""README's Roles table is generated from the roles modules: run ``manage.py roles_table --write`` after a change."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.staff import roles
from apps.staff.roles_doc import ROWS, TICK, RolesTableError, render, table

README = Path(settings.BASE_DIR) / "README.md"


def test_readme_says_what_the_roles_modules_grant():
    text = README.read_text()
    assert render(text) == text, "README's Roles table is stale: run `manage.py roles_table --write`"


def test_the_table_ticks_exactly_the_rows_a_role_holds():
    lines = table().splitlines()[2:]
    defined = roles.defined_role_permissions()
    for (_, words, perms), line in zip(ROWS, lines, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")][2:]
        assert words in line
        for role, cell in zip(roles.ROLES, cells, strict=True):
            assert (cell == TICK) == (set(perms) <= defined.get(role, set())), (role, words)


def test_a_permission_without_words_fails_naming_it():
    defined = {roles.SUPPORT_AGENT: {"players.view_player", "wallet.pay_everyone"}}
    with pytest.raises(RolesTableError, match=r"wallet\.pay_everyone"):
        table(defined)


def test_half_a_row_fails_naming_the_role():
    defined = {roles.ADMINISTRATOR: {"players.view_brand"}}  # the row is view, add and change
    with pytest.raises(RolesTableError, match="Administrator holds only part of 'brands"):
        table(defined)


def test_what_support_and_administrators_may_not_do():
    """The decisions of staff/0006 (issue 12): support sees no money and no plumbing; nobody outside compliance
    reads compliance reasons; administrators move no money."""
    defined = roles.defined_role_permissions()
    support = defined[roles.SUPPORT_AGENT]
    assert not {p for p in support if p.startswith(("wallet.", "core."))}
    readers = {role for role, perms in defined.items() if "players.view_compliance" in perms}
    assert readers == {roles.MLRO, roles.AML_ANALYST}
    assert (
        not {"wallet.approve_withdrawal", "wallet.add_adjustment", "wallet.approve_adjustment"}
        & defined[roles.ADMINISTRATOR]
    )


def test_the_command_prints_the_table_and_rewrites_only_a_stale_readme(tmp_path, monkeypatch):
    out = StringIO()
    call_command("roles_table", stdout=out)
    assert out.getvalue().strip() == table()

    from apps.staff.management.commands import roles_table

    stale = tmp_path / "README.md"
    stale.write_text("# Roles\n\nprose\n\n<!-- roles-table -->\n| old |\n<!-- /roles-table -->\n\nmore prose\n")
    monkeypatch.setattr(roles_table, "README", stale)
    call_command("roles_table", "--write", stdout=StringIO())
    text = stale.read_text()
    assert text.startswith("# Roles\n\nprose\n\n<!-- roles-table -->\n| area | may |")
    assert text.endswith("<!-- /roles-table -->\n\nmore prose\n") and "| old |" not in text
    out = StringIO()
    call_command("roles_table", "--write", stdout=out)
    assert "up to date" in out.getvalue()

    stale.write_text("no markers\n")
    with pytest.raises(CommandError, match="no <!-- roles-table -->"):
        call_command("roles_table", "--write", stdout=StringIO())
