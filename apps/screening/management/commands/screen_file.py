"""``manage.py screen_file IN.csv OUT.csv``: screen a customer file against the current watchlist snapshots.

IN has the columns name, birth_date (YYYY-MM-DD, YYYY or empty) and country (ISO alpha-2 or empty). OUT has one
row per input row: the best hit (list, entry id, matched name, score, evidence as JSON) or ``hit=no``. Nobody is
stored as a player. Refused without an imported list (screening fails closed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.screening.batch import read_people, write_results
from apps.screening.errors import ListMissing, ScreenFileInvalid
from apps.screening.services import index_or_fail


class Command(BaseCommand):
    help = "Screen a CSV of people (name, birth_date, country) against the watchlists; write the best hit per row."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source")
        parser.add_argument("target")

    def handle(self, *args: Any, source: str, target: str, **options: Any) -> None:
        try:
            with open(source, encoding="utf-8-sig", newline="") as src:
                people = read_people(src.read())
            index_or_fail()  # before OUT is created: a refusal leaves no file behind
        except (ScreenFileInvalid, ListMissing) as exc:
            raise CommandError(f"refused: {exc.message}") from exc
        with open(target, "w", encoding="utf-8", newline="") as out:
            screened, hits = write_results(people, out)
        self.stdout.write(f"{screened} screened, {hits} with a hit: {target}")
