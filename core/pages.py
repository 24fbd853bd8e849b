"""The pages every visitor may read, and what every page's frame needs to know."""

from django.conf import settings
from django.shortcuts import render

from core.web import safe_next


def site_identity(request) -> dict:
    """Give every template the agency and the identifier's required links."""
    return {
        "identity": {
            "agency_name": settings.AGENCY_NAME,
            "agency_parent_name": settings.AGENCY_PARENT_NAME,
            "agency_url": settings.AGENCY_URL,
            "about_url": settings.ABOUT_URL,
            "accessibility_url": settings.ACCESSIBILITY_URL,
            "foia_url": settings.FOIA_URL,
            "no_fear_act_url": settings.NO_FEAR_ACT_URL,
            "privacy_url": settings.PRIVACY_URL,
            "usagov_url": settings.USAGOV_URL,
            "accessibility_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
        }
    }


def accessibility_statement(request):
    return render(request, "public/accessibility.html")


def privacy_notice(request):
    return render(request, "public/privacy.html")


def csrf_failure(request, reason: str = ""):
    """Explain a refused form in plain words; the browser keeps what was typed (portal.js)."""
    back = safe_next(request, request.headers.get("Referer"), "")
    return render(request, "403_csrf.html", {"back": back}, status=403)
