"""The responsible-gambling demo tool of ``make run``: ``serve --register-sandbox`` answers the national
self-exclusion registers from a loopback sandbox, so that logins work without vendor credentials.

Registered with ``apps.core.serve`` from ``ResponsibleConfig.ready()``; demo only (``DEMO_TOOLS``)."""

from __future__ import annotations

import os

from django.conf import settings

from apps.responsible.sandbox import Sandbox

SANDBOX_FLAG = "--register-sandbox"
SANDBOX_HELP = (
    "answer national self-exclusion registers from a loopback sandbox (nobody is registered but last names in "
    "REGISTER_SANDBOX_EXCLUDED) for each register without a configured URL"
)

_running: list[Sandbox] = []  # the serving process keeps its sandbox for as long as it runs


def start_register_sandbox() -> str:
    """Start the sandbox in this process and point every register without a URL at it, through the
    environment that web, worker and beat inherit."""
    sandbox = Sandbox().start()
    _running.append(sandbox)
    sandbox.excluded.update(filter(None, os.environ.get("REGISTER_SANDBOX_EXCLUDED", "").split(",")))
    for code, config in settings.SELF_EXCLUSION_REGISTERS.items():
        if not config["url"]:
            os.environ[f"REGISTER_{code.upper()}_URL"] = sandbox.url
            os.environ[f"REGISTER_{code.upper()}_KEY"] = "sandbox"
    return f"national registers: sandbox at {sandbox.url} (demo only)"
