"""``manage.py import_watchlist FORMAT FILE [--alt alt.csv] [--list CODE]``: import a watchlist file.

FORMAT is ``ofac_sdn`` (sdn.csv; ``--alt`` adds OFAC's alt.csv aliases), ``un_xml`` (the UN consolidated list) or
``csv`` (name, aliases, date_of_birth, country, list, type). A malformed file is refused with the line and the
reason and nothing is stored; the same file again changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import SystemActor
from apps.screening.errors import ListFileInvalid, ListFormatUnknown
from apps.screening.imports import FORMATS, import_list_file


class Command(BaseCommand):
    help = "Import a watchlist file (OFAC sdn.csv + alt.csv, UN consolidated XML, simple CSV) as a new snapshot."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("format", choices=FORMATS)
        parser.add_argument("path")
        parser.add_argument("--alt", default=None, help="OFAC alt.csv (aliases)")
        parser.add_argument("--list", dest="list_code", default=None, help="import under another list code")

    def handle(self, *args: Any, format: str, path: str, alt: str | None, list_code: str | None, **kw: Any) -> None:
        try:
            results = import_list_file(
                fmt=format,
                path=path,
                alt_path=alt,
                actor=SystemActor("manage.py import_watchlist"),
                list_code=list_code,
            )
        except (ListFileInvalid, ListFormatUnknown) as exc:
            raise CommandError(f"refused, nothing imported: {exc.message}") from exc
        for result in results:
            self.stdout.write(result.summary())
