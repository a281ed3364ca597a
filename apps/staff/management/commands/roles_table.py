"""README's Roles table, generated from the roles modules (apps/staff/roles_doc.py says each permission in words).

``manage.py roles_table`` prints it; ``--write`` replaces the table between the ``<!-- roles-table -->`` markers of
README.md, keeping the prose around it. Run it after changing a roles module (a test keeps the two equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.staff.roles_doc import RolesTableError, render, table

README = Path(settings.BASE_DIR) / "README.md"


class Command(BaseCommand):
    help = "Print the roles table, or rewrite README.md's generated Roles table (--write)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--write", action="store_true", help="rewrite the generated table of README.md")

    def handle(self, *args: Any, write: bool = False, **options: Any) -> None:
        try:
            if not write:
                self.stdout.write(table())
                return
            text = README.read_text()
            new = render(text)
        except RolesTableError as exc:
            raise CommandError(str(exc)) from exc
        if new != text:
            README.write_text(new)
        self.stdout.write(f"{README.name}: {'rewritten' if new != text else 'up to date'}")
