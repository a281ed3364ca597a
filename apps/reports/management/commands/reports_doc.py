"""manage.py reports_doc [--write]: docs/REPORTS.md's "Report types" section, generated from the registered report
types (title, code, parameters, formats, permission, due date, schedules) and each definition module's docstring,
which defines every figure the report writes. The text above the marker line is written by hand and kept; a test
keeps the section equal to what this prints, so the documentation cannot drift from the code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

MARKER = "<!-- generated below by manage.py reports_doc --write: do not edit by hand -->"
DOC = Path(settings.BASE_DIR) / "docs" / "REPORTS.md"
# Definition modules that several reports share (what a protection event is, how a local day is found)
SHARED = ("protection_sql", "common")


def _markdown(docstring: str) -> str:
    """The definitions' docstrings are written for both readers: ``code`` becomes `code`; an indented block (a table)
    stays indented, which Markdown shows as it is."""
    text = re.sub(r"``([^`]+)``", r"`\1`", docstring.strip())
    return text


def _module_doc(kind: Any) -> str:
    module = importlib.import_module(type(kind).__module__)
    return _markdown(module.__doc__ or "")


def section() -> str:
    from apps.reports.types import report_types

    lines = ["## Report types", ""]
    for code, kind in report_types().items():
        if not type(kind).__module__.startswith("apps.reports.definitions."):
            continue  # a test's type
        lines += [f"### {kind.title} (`{code}`)", ""]
        if kind.description:
            lines += [kind.description, ""]
        params = "; ".join(
            f"`{p.name}` ({p.kind}{'' if p.required else ', optional'}"
            + (f", default {p.default if isinstance(p.default, str) else p.default.__name__}" if p.default else "")
            + ")"
            for p in kind.params
        )
        lines.append(f"- Parameters: {params or 'none'}")
        lines.append(f"- Formats: {', '.join(kind.formats)}; permission `{kind.permission}`")
        if kind.due is not None:
            due = kind.due
            when = f"the {due.day}th of the next month" if due.cadence == "monthly" else f"{due.days} days after"
            lines.append(f"- Due ({due.regulator}): {when} (period parameter `{due.param}`)")
        for spec in kind.schedules:
            cron = " ".join(
                spec.crontab.get(part, "*")
                for part in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
            )
            lines.append(f"- Schedule declared in code: {spec.name}, `{cron}`, {spec.format}")
        lines += ["", _module_doc(kind), ""]
    for name in SHARED:
        try:
            module = importlib.import_module(f"apps.reports.definitions.{name}")
        except ImportError:
            continue
        lines += [f"### Shared definitions: `{name}`", "", _markdown(module.__doc__ or ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def render(text: str) -> str:
    head = text.split(MARKER)[0].rstrip() + "\n\n" if MARKER in text else text.rstrip() + "\n\n"
    return head + MARKER + "\n\n" + section()


class Command(BaseCommand):
    help = "Print (or --write into docs/REPORTS.md) the report types' documentation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["write"]:
            DOC.write_text(render(DOC.read_text() if DOC.exists() else "# Reports\n"))
            self.stdout.write(f"{DOC.name}: rewritten")
        else:
            self.stdout.write(section())
