"""Options of ``manage.py serve`` contributed by the apps (``core`` knows none of them: docs/ARCHITECTURE.md,
"Layers").

An app registers a flag from its ``AppConfig.ready()``: ``register_serve_option("--register-sandbox", start,
help=..., demo_only=True)``. When the flag is given, ``serve`` calls ``start()`` in its own process before it
starts web, worker and beat; whatever ``start`` puts in ``os.environ`` they inherit, and the line it returns is
printed. A demo-only option is refused (exit 2) where ``DEMO_TOOLS`` is off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ServeOption:
    flag: str
    start: Callable[[], str]
    help: str
    demo_only: bool

    @property
    def dest(self) -> str:
        """The option's name in the parsed options (argparse's)."""
        return self.flag.lstrip("-").replace("-", "_")


_options: dict[str, ServeOption] = {}


def register_serve_option(flag: str, start: Callable[[], str], *, help: str, demo_only: bool = True) -> None:
    """Register (or replace) a ``serve`` flag; ``start`` runs before the processes start, in flag order."""
    if not flag.startswith("--"):
        raise ValueError(f"serve option {flag!r}: a long option, e.g. --register-sandbox")
    _options[flag] = ServeOption(flag, start, help, demo_only)


def serve_options() -> list[ServeOption]:
    return sorted(_options.values(), key=lambda o: o.flag)
