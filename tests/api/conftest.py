from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the API contract test's figures (share of operations that reached a 2xx) at the end of every run,
    with or without xdist (the worker's report carries them as a user property)."""
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        for name, value in getattr(report, "user_properties", ()):
            if name == "contract_summary":
                terminalreporter.write_line(value)
