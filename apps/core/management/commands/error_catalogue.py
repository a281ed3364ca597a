"""The public list of error codes, generated from the error classes (apps.core.errors.CATALOGUE).

``manage.py error_catalogue`` prints it (markdown, one table per domain); ``--write`` replaces the tables between
the ``<!-- errors:<domain> -->`` markers of docs/ERRORS.md, keeping the prose around them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules

from apps.core.errors import public_catalogue

DOCS = Path(settings.BASE_DIR) / "docs" / "ERRORS.md"
BLOCK = re.compile(r"<!-- errors:([a-z_]+) -->\n.*?<!-- /errors:\1 -->", re.DOTALL)


def tables() -> dict[str, str]:
    """Each domain's table, from every installed app's ``errors`` module."""
    autodiscover_modules("errors")
    out: dict[str, str] = {}
    for domain, entries in public_catalogue().items():
        rows = ["| code | status | when |", "|---|---|---|"]
        rows += [f"| `{e.code}` | {e.status} | {e.when} |" for e in entries]
        out[domain] = "\n".join(rows)
    return out


def render(text: str) -> str:
    """docs/ERRORS.md with every domain's block regenerated (a new domain gets its section at the end)."""
    generated = tables()
    seen = set(BLOCK.findall(text))
    unknown = seen - set(generated)
    if unknown:
        raise CommandError(f"docs/ERRORS.md has blocks for domains no error class declares: {sorted(unknown)}")
    text = BLOCK.sub(lambda m: block(m.group(1), generated[m.group(1)]), text)
    for domain in sorted(set(generated) - seen):
        text = text.rstrip("\n") + f"\n\n## {domain.capitalize()}\n\n{block(domain, generated[domain])}\n"
    return text


def block(domain: str, table: str) -> str:
    return f"<!-- errors:{domain} -->\n{table}\n<!-- /errors:{domain} -->"


class Command(BaseCommand):
    help = "Print the public list of error codes, or rewrite docs/ERRORS.md's generated tables (--write)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--write", action="store_true", help="rewrite the generated tables of docs/ERRORS.md")

    def handle(self, *args: Any, write: bool = False, **options: Any) -> None:
        if write:
            text = DOCS.read_text()
            new = render(text)
            if new != text:
                DOCS.write_text(new)
            self.stdout.write(f"{DOCS.name}: {'rewritten' if new != text else 'up to date'}")
            return
        for domain, table in tables().items():
            self.stdout.write(f"## {domain}\n\n{table}\n")
