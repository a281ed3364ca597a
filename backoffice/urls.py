from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.api.exceptions import json_not_found
from apps.compliance.admin.dashboard import dashboard_view as compliance_dashboard
from apps.core import branding
from apps.core import views as core_views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # the compliance dashboard (compliance roles only; a 404 for everyone else)
    path("admin/compliance/dashboard/", admin.site.admin_view(compliance_dashboard), name="compliance-dashboard"),
    path("admin/", admin.site.urls),
    # browsers ask for /favicon.ico before they read the page's <link rel="icon">
    path("favicon.ico", branding.favicon, name="favicon"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", include("apps.api.urls")),
    path("api/v1/", include("apps.players.api.urls")),
    path("api/v1/", include("apps.wallet.api.urls")),
    path("api/v1/", include("apps.responsible.api.urls")),
    path("api/v1/", include("apps.kyc.api.urls")),
    path("api/v1/", include("apps.bonuses.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, never Django's HTML page (nor its CSRF page for a POST).
    re_path(r"^api/", csrf_exempt(json_not_found)),
]

if settings.BENCH_FLOOR_ENDPOINT:
    urlpatterns.insert(
        0, path("api/v1/bench/floor", core_views.bench_floor)
    )  # the API lane, as what it is compared with

handler400 = "backoffice.errors.bad_request"
handler500 = "backoffice.errors.server_error"
handler404 = "backoffice.errors.not_found"
handler403 = "backoffice.errors.permission_denied"
