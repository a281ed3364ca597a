"""Reading configuration from the environment, failing loudly and by name.

django-environ raises a bare ``ValueError`` on a malformed value ("abc" for an integer) and does not say
which variable was wrong. Every read goes through :func:`read` so that start-up stops with
``ImproperlyConfigured: <NAME>: <what was wrong>``. ``<NAME>_FILE`` may hold a path whose content is the
value (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.is_file() and not os.environ.get("PITBOSS_IGNORE_DOTENV"):
    env.read_env(str(_dotenv), overwrite=False)

_MISSING = object()


def _from_file(name: str) -> None:
    """Support ``NAME_FILE``: copy the file's content into ``NAME`` unless ``NAME`` is set."""
    path = os.environ.get(f"{name}_FILE")
    if path and name not in os.environ:
        try:
            os.environ[name] = Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path!r}: {exc}") from exc


def provided(name: str) -> bool:
    """Whether ``NAME`` (or ``NAME_FILE``) is set, for defaults that depend on another variable."""
    return name in os.environ or f"{name}_FILE" in os.environ


def read(name: str, cast: Callable[..., Any] | str = "str", default: Any = _MISSING) -> Any:
    _from_file(name)
    if name not in os.environ:
        if default is _MISSING:
            raise ImproperlyConfigured(f"{name}: this environment variable is required and is not set")
        return default
    try:
        if isinstance(cast, str):
            return getattr(env, cast)(name)
        return cast(os.environ[name])
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    except (ValueError, TypeError, ArithmeticError) as exc:  # decimal.InvalidOperation is an ArithmeticError
        raise ImproperlyConfigured(f"{name}: malformed value {os.environ[name]!r} ({exc})") from exc


def read_url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = read(name, default=default)
    if not any(value.startswith(f"{scheme}://") for scheme in schemes):
        raise ImproperlyConfigured(f"{name}: expected a {'/'.join(schemes)} URL, got {value!r}")
    return str(value)


def read_database(name: str, default: str) -> dict[str, Any]:
    url = read_url(name, default, ("postgres", "postgresql", "pgsql"))
    try:
        return dict(environ.Env.db_url_config(url))
    except Exception as exc:  # django-environ raises several types on a bad URL
        raise ImproperlyConfigured(f"{name}: malformed database URL ({exc})") from exc


def read_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = read(name, default="")
    networks = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {part!r} is not a CIDR network ({exc})") from exc
    return networks
