from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from accounts import password_views, sso, webauthn
from caisi_portal import api_urls
from caisi_portal.health import healthz
from core import pages

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accessibility/", pages.accessibility_statement, name="accessibility"),
    path("privacy/", pages.privacy_notice, name="privacy"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_urls.urls())),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        # The split view serves Swagger UI's init script as a file, so the page runs
        # under the portal's Content-Security-Policy with no inline script; its
        # stylesheet is inline, so this one page allows inline style.
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(
                permission_classes=[AllowAny], url_name="api-schema"
            )
        ),
        name="api-docs",
    ),
    # Before Django's own: the reset link on SITE_URL, a change that records the new session.
    path("accounts/password_reset/", password_views.password_reset, name="password_reset"),
    path("accounts/password_change/", password_views.password_change, name="password_change"),
    # The sign-in page with the providers' buttons, and a sign-out that ends the provider's too.
    path("accounts/login/", password_views.login, name="login"),
    path("accounts/logout/", sso.sign_out, name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    # Security keys and passkeys: the library's ceremonies under the portal's rules.
    path("webauthn/", include((webauthn.urlpatterns, "otp_webauthn"))),
    path("", include("accounts.urls")),
    path("", include("clearance.urls")),
    path("", include("submissions.urls")),
    path("", include("findings.urls")),
    path("", include("incidents.urls")),
    path("", include("notifications.urls")),
    path("", include("webhooks.urls")),
    path("", include("review.urls")),
]
