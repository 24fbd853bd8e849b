"""The portal's URLconf, plus the bare baseline view every figure is compared with."""

from django.http import JsonResponse
from django.urls import include, path


def baseline(request) -> JsonResponse:
    """Answer with a small JSON body and nothing else: the cost of Django itself."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("bench/baseline/", baseline),
    path("", include("caisi_portal.urls")),
]
