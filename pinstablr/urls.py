from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.photos.views import home, rendition_file
from pinstablr import health
from pinstablr.observability.views import metrics

urlpatterns = [
    path("", home, name="home"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.photos.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.teams.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("media/r/<path:key>", rendition_file, name="rendition-file"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("pinstablr.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script): no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
