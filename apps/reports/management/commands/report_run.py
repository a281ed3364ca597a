"""manage.py report_run TYPE --param name=value ... [--format csv|xlsx|pdf|xml]: run a report now, in this process.

Prints the run id, the file's path and its SHA-256; exits 1 when the run fails or is refused, 2 on a usage error.
``--list`` lists the report types with their parameters. The run is recorded (source "command") like any other."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Run a report synchronously and print the run id, file path and SHA-256."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", nargs="?", help="The report type's code (see --list)")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="A parameter")
        parser.add_argument("--format", default="csv", help="csv, xlsx, pdf or xml (what the report offers)")
        parser.add_argument("--list", action="store_true", help="List the report types and their parameters")

    def handle(self, *args: Any, **options: Any) -> None:
        from apps.reports.models import RunState
        from apps.reports.runs import run_execute, run_request, storage
        from apps.reports.types import report_types

        if options["list"]:
            for code, kind in report_types().items():
                names = ", ".join(f"{p.name} ({p.kind}{'' if p.required else ', optional'})" for p in kind.params)
                self.stdout.write(f"{code}: {kind.title} [{', '.join(kind.formats)}] {names}")
            return
        if not options["report"]:
            raise CommandError("Name a report (manage.py report_run --list shows them).", returncode=2)
        params: dict[str, str] = {}
        for item in options["param"]:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"--param {item!r}: give NAME=VALUE.", returncode=2)
            params[name.strip()] = value
        try:
            run = run_request(
                actor=None,
                report=options["report"],
                params=params,
                format=options["format"],
                source="command",
                send=False,
            )
        except ApplicationError as exc:
            details = "; ".join(f"{field}: {message}" for field, message in exc.fields.items())
            raise CommandError(
                f"{exc.code}: {exc.message}" + (f" ({details})" if details else ""), returncode=1
            ) from None
        run_execute(run.pk)
        run.refresh_from_db()
        self.stdout.write(f"run {run.pk}: {run.state}")
        if run.state != RunState.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.state}: {run.error}", returncode=1)
        self.stdout.write(f"file {storage().path(run.file_name)}")
        self.stdout.write(f"sha256 {run.sha256}")
        self.stdout.write(f"rows {run.row_count} bytes {run.file_size}")
