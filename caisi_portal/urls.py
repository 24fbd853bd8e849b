from django.contrib import admin
from django.urls import include, path

from .health import healthz

admin.site.site_header = "CAISI Review Portal administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("accounts.urls")),
    path("", include("clearance.urls")),
    path("", include("submissions.urls")),
    path("", include("findings.urls")),
    path("", include("cases.urls")),
]
