"""Per-request / per-task context (request id, client IP) for logs and audit events.

Context variables rather than thread-locals: correct under threads, and copied into Celery tasks explicitly.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)

# An incoming X-Request-ID is kept only if it is short and plain, so it cannot inject into logs or headers.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id(incoming: str | None = None) -> str:
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


def current_client_ip() -> str | None:
    return client_ip_var.get()


@contextmanager
def bound(*, request_id: str | None, client_ip: str | None = None) -> Iterator[None]:
    rid_token = request_id_var.set(request_id)
    ip_token = client_ip_var.set(client_ip)
    try:
        yield
    finally:
        request_id_var.reset(rid_token)
        client_ip_var.reset(ip_token)
