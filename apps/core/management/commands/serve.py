from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.serve import serve_options


class Command(BaseCommand):
    help = "Run web (gunicorn), a Celery worker and Celery beat in the foreground until Ctrl-C."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "4")))
        parser.add_argument("--worker-concurrency", type=int, default=2)
        for option in serve_options():  # registered by the apps (apps.core.serve)
            parser.add_argument(
                option.flag, action="store_true", help=("demo only: " if option.demo_only else "") + option.help
            )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        chosen = [option for option in serve_options() if options[option.dest]]
        for option in chosen:
            if option.demo_only and not settings.DEMO_TOOLS:
                self.stderr.write(f"{option.flag} is a demo tool; DEMO_TOOLS is off here")
                sys.exit(2)
        for option in chosen:
            self.stdout.write(option.start())
        bindir = os.path.dirname(sys.executable)
        commands = {
            "web": [
                os.path.join(bindir, "gunicorn"),
                "backoffice.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["web_workers"]),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            "worker": [
                os.path.join(bindir, "celery"),
                "-A",
                "backoffice",
                "worker",
                "-Q",
                "default,compliance,reports",
                "--concurrency",
                str(options["worker_concurrency"]),
                "--loglevel",
                "INFO",
            ],
            "beat": [os.path.join(bindir, "celery"), "-A", "backoffice", "beat", "--loglevel", "INFO"],
        }
        # fixed argv of our own venv's binaries, no shell
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(f"serving http://{options['bind']}/admin/ (web, worker, beat); Ctrl-C stops all")
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with {process.returncode}; stopping the others")
                    exit_code = process.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)
