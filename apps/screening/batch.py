"""Batch screening of a customer file (a back-book check, a partner's onboarding list) against the current
snapshots, storing nobody: columns ``name``, ``birth_date`` (YYYY-MM-DD, YYYY or empty) and ``country``; per row
the best match (entry id, list, matched name, score, evidence) or none. The whole file is validated first, so a
bad line 9,000 is refused before 9,000 rows are written."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import IO

from apps.screening.errors import ScreenFileInvalid
from apps.screening.services import index_or_fail, threshold

OUT_COLUMNS = ("line", "name", "birth_date", "country", "hit", "list", "entry_id", "matched_name", "score", "evidence")


def read_people(text: str) -> list[tuple[int, str, str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header:
        raise ScreenFileInvalid("line 1: no `name` column (columns: name, birth_date, country)")
    reader.fieldnames = header
    people = []
    for row in reader:
        line = reader.line_num
        name = (row.get("name") or "").strip()
        born = (row.get("birth_date") or "").strip()
        country = (row.get("country") or "").strip().upper()
        if not name:
            raise ScreenFileInvalid(f"line {line}: the name is empty")
        if born and not re.fullmatch(r"\d{4}", born):
            try:
                date.fromisoformat(born)
            except ValueError:
                raise ScreenFileInvalid(f"line {line}: birth_date {born!r} is not YYYY-MM-DD or YYYY") from None
        people.append((line, name, born, country))
    return people


def screen_rows(people: Iterable[tuple[int, str, str, str]]) -> Iterator[dict[str, object]]:
    index = index_or_fail()
    th = threshold()
    from apps.screening.match import BirthDate

    for line, name, born, country in people:
        matches = index.screen(name, BirthDate.parse(born or None), country or None, threshold=th, limit=1)
        row: dict[str, object] = {"line": line, "name": name, "birth_date": born, "country": country}
        if matches:
            m = matches[0]
            row |= {
                "hit": "yes",
                "list": m.entry.list_code,
                "entry_id": m.entry.entry_id,
                "matched_name": m.evidence.matched_name,
                "score": f"{m.score:.3f}",
                "evidence": json.dumps(m.evidence.as_dict(), ensure_ascii=False),
            }
        else:
            row |= {"hit": "no", "list": "", "entry_id": "", "matched_name": "", "score": "", "evidence": ""}
        yield row


def screen_file(source: IO[str], target: IO[str]) -> tuple[int, int]:
    """(rows screened, rows with a hit)."""
    return write_results(read_people(source.read()), target)


def write_results(people: list[tuple[int, str, str, str]], target: IO[str]) -> tuple[int, int]:
    writer = csv.DictWriter(target, fieldnames=OUT_COLUMNS)
    writer.writeheader()
    hits = 0
    for row in screen_rows(people):
        hits += row["hit"] == "yes"
        writer.writerow(row)
    return len(people), hits
