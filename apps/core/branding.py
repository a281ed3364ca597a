"""The backoffice's favicon: one SVG in static/, linked from every admin page (Unfold's SITE_FAVICONS) and answered at
/favicon.ico, which browsers ask for on pages without the link (the API docs, error pages)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static

FAVICON = "pitboss/favicon.svg"


def favicon_url(request: HttpRequest | None = None) -> str:
    return static(FAVICON)


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(favicon_url(request))
