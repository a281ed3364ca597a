"""Refusal tables: a service refuses with its exact code, and the refused call changed nothing at all.

``assert_refused`` photographs every row of the given models (tests hold a handful), calls, and compares: a
refusal that left a half-made change, an audit event or an outbox message behind fails with a diff.
``codes_raised_by`` reads the codes a module raises, so a table can prove it covers all of them.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import models

from apps.audit.models import AuditEvent
from apps.core.errors import ApplicationError
from apps.core.models import OutboxEvent

ALWAYS = (AuditEvent, OutboxEvent)
CODE = re.compile(r'\bcode ?= ?"([a-z_]+)"')


def snapshot(tables: Iterable[type[models.Model]]) -> dict[str, list[dict[str, Any]]]:
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in tables}


def app_tables(*app_labels: str) -> tuple[type[models.Model], ...]:
    """Every model of these apps, the ones added after this test was written included."""
    return tuple(model for label in app_labels for model in django_apps.get_app_config(label).get_models())


def assert_refused(call: Callable[[], object], code: str, *, tables: Iterable[type[models.Model]]) -> ApplicationError:
    tables = (*ALWAYS, *tables)
    before = snapshot(tables)
    with pytest.raises(ApplicationError) as refused:
        call()
    assert refused.value.code == code, refused.value.message
    assert snapshot(tables) == before, "the refused call changed something"
    return refused.value


def codes_raised_by(module: ModuleType) -> set[str]:
    """The module's ``code="..."`` literals (its own classes), and the codes of the ``errors`` modules' classes
    it calls (one class per code, apps/<app>/errors.py; the bases' own codes are not counted)."""
    source = inspect.getsource(module)
    codes = set(CODE.findall(source))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called = vars(module).get(node.func.id)
            if (
                isinstance(called, type)
                and issubclass(called, ApplicationError)
                and called.__module__.rsplit(".", 1)[-1] == "errors"
                and called.__name__
                not in ("ApplicationError", "ValidationFailed", "NotFound", "Conflict", "PermissionDenied")
            ):
                codes.add(called.code)
    return codes
