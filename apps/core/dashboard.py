"""Dashboard panels on the admin's start page: figures for the signed-in member above their work queues.

The start page belongs to the staff app, which sits below every app that has figures to show (the reports read
every app). So the page does not import them: an app registers a panel from its ``AppConfig.ready`` with
:func:`register_panel` (a key, the template partial that draws it, and a ``context(request, work)`` function), and
the page asks :func:`panels_for` for the member in front of it. ``work`` is the member's work queues as the page
already counted them (:func:`apps.core.workqueues.work_for`): a panel that summarises queues reads those counts
instead of counting again.

``context`` decides who sees what, on the server, per request: it returns the partial's context, or None when the
member may see nothing of the panel (then nothing of it is rendered, not even its heading). A panel must be cheap
on a big database, as the work queues are: rollups, capped counts, estimates, a cache; never a full-table count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from apps.core.workqueues import WorkItem

ContextFn = Callable[[HttpRequest, Sequence[WorkItem]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Panel:
    key: str  # "<app_label>.<what>", unique
    template: str  # the partial the start page includes, with the context as ``panel``
    context: ContextFn
    order: int = 100  # panels are shown by order, then key


@dataclass(frozen=True)
class ShownPanel:
    """A panel with what it shows to this member."""

    panel: Panel
    context: dict[str, Any]

    @property
    def template(self) -> str:
        return self.panel.template


_PANELS: dict[str, Panel] = {}


def register_panel(key: str, template: str, *, context: ContextFn, order: int = 100) -> Panel:
    """Called from the owning app's ``ready()``. The same key registered again with other settings is a bug."""
    if "." not in key:
        raise ValueError(f"dashboard panel {key!r}: keys are '<app_label>.<what>'")
    panel = Panel(key=key, template=template, context=context, order=order)
    known = _PANELS.get(key)
    if known is not None and known != panel:
        raise ValueError(f"dashboard panel {key!r} is already registered differently")
    _PANELS[key] = panel
    return panel


def unregister_panel(key: str) -> None:
    """For tests that register a panel of their own."""
    _PANELS.pop(key, None)


def panels() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.key))


def panels_for(request: HttpRequest, work: Sequence[WorkItem]) -> list[ShownPanel]:
    """The panels this member sees, each with its context; a panel whose context is None is left out."""
    shown = []
    for panel in panels():
        context = panel.context(request, work)
        if context is not None:
            shown.append(ShownPanel(panel=panel, context=context))
    return shown
