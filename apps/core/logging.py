"""Request log metadata. django-structlog's own IP logging is off: it asks ipware again (slow, and blind to
TRUSTED_PROXY_COUNT); the address we resolved once per request is bound instead."""

from __future__ import annotations

from typing import Any

import structlog
from django.http import HttpRequest

from apps.core.net import client_ip


def bind_client_ip(sender: Any, request: HttpRequest, logger: Any, **kwargs: Any) -> None:
    structlog.contextvars.bind_contextvars(ip=client_ip(request))
