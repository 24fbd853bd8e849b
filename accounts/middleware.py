"""Sign-in hardening on every request: timeouts, the second factor, no-store, security events."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_otp import user_has_device

from accounts import session_keys as keys
from accounts import sso
from accounts.organizations import note_service_account_write
from accounts.webauthn import security_key_owed
from core.api import problem_response
from core.security_log import security_event
from core.web import keep_posted_form

# Writing the session on every request would cost a write each time; a minute's
# precision is plenty for a 30-minute idle timeout.
LAST_SEEN_PRECISION_SECONDS = 60
# URLs a person between password and second factor may still reach.
SECOND_FACTOR_OPEN_URL_NAMES = {
    "accounts:mfa_verify",
    "accounts:mfa_enrol",
    "accounts:mfa_recovery_codes",
    "accounts:sso_company_start",
    "accounts:sso_company_callback",
    "accounts:sso_step_up",
    "accounts:sso_staff_start",
    "accounts:sso_staff_callback",
    "accounts:security_key",
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
    "logout",
}
# The acts a liaison takes only with a verified identity (the step-up), by view
# name and, for case actions, the action. The act is held when it is sent (a
# POST), not when its page opens: the form is filled at the basic level, kept
# while the person steps up, and shown filled again on their return.
STEP_UP_VIEWS = {
    "cases:action": sso.SENSITIVE_CASE_ACTIONS,
    "findings:finding_respond": None,
    "incidents:new": None,
}
# The page that shows a held act's form, where it is not the act's own URL.
STEP_UP_FORM_PAGES = {"findings:finding_respond": "findings:finding"}
CONFIDENTIAL_PREFIXES = ("/api/v1/",)
DOWNLOAD_URL_NAMES = {
    "statement_download",
    "statement-download",
    "artifact_download",
    "document_download",
    "document-download",
}


def second_factor_pending(request) -> bool:
    """Return whether the signed-in person still owes their second factor."""
    user = request.user
    if not user.is_authenticated:
        return False
    if request.session.get(keys.SECOND_FACTOR_DEVICE):
        return False
    return user.must_pass_second_factor or bool(request.session.get(keys.SECOND_FACTOR_REQUIRED))


class SessionTimeoutMiddleware:
    """End a session idle too long, or signed in too long ago, server-side."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):

        if request.user.is_authenticated:
            session = request.session
            now = timezone.now().timestamp()
            signed_in_at = session.setdefault(keys.SIGNED_IN_AT, now)
            last_seen = session.setdefault(keys.LAST_SEEN, now)
            idle = now - last_seen > settings.SESSION_IDLE_MINUTES * 60
            too_old = now - signed_in_at > settings.SESSION_ABSOLUTE_HOURS * 3600
            if idle or too_old:
                user = request.user
                logout(request)  # flushes: the old session is deleted from the store
                messages.info(
                    request,
                    "You were signed out after "
                    + (
                        f"{settings.SESSION_IDLE_MINUTES} minutes without activity."
                        if idle
                        else f"{settings.SESSION_ABSOLUTE_HOURS} hour"
                        f"{'s' if settings.SESSION_ABSOLUTE_HOURS != 1 else ''} signed in."
                    )
                    + " Please sign in again.",
                )
                security_event(
                    "session_expired",
                    request=request,
                    user=user,
                    reason="idle" if idle else "absolute",
                )
            elif now - last_seen >= LAST_SEEN_PRECISION_SECONDS:
                session[keys.LAST_SEEN] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Hold a person who owes a second factor at the verification (or enrolment) page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        pending = second_factor_pending(request)
        if not pending and not security_key_owed(request):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_OPEN_URL_NAMES:
            return None
        if request.path.startswith(("/static/", "/api/")):
            if request.path.startswith("/api/"):
                return problem_response(
                    request,
                    403,
                    "Complete two-step verification in the browser first.",
                    "second-factor-required",
                )
            return None

        if not pending:
            target = "accounts:security_key"  # passed a code, but staff must hold a key
        elif user_has_device(request.user):
            target = "accounts:mfa_verify"
        elif settings.TOTP_ALLOWED:
            target = "accounts:mfa_enrol"
        else:
            target = "accounts:security_key"
        return redirect(f"{reverse(target)}?next={_safe_next(request)}")


class StepUpMiddleware:
    """Send a liaison to prove the verified identity level before a sensitive act.

    Only while the company provider is configured and SSO_STEP_UP_REQUIRED is on.
    The API is not held here: a token cannot step up, see
    `accounts.api_permissions` for the answer it gets instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in STEP_UP_VIEWS:
            return None
        actions = STEP_UP_VIEWS[match.view_name]
        if actions is not None and view_kwargs.get("action") not in actions:
            return None
        if not sso.step_up_applies(request.user) or sso.identity_verified(request):
            return None
        page = request.path
        if match.view_name in STEP_UP_FORM_PAGES:
            page = reverse(STEP_UP_FORM_PAGES[match.view_name], kwargs=view_kwargs)
        keep_posted_form(request, page=page)
        messages.info(
            request,
            "Confirm your verified identity with Login.gov to send this. What you wrote is "
            "kept: it is shown again when you are back, ready to send.",
        )
        security_event("step_up_required", request=request, view=match.view_name)
        return redirect(sso.step_up_url(page))


def _safe_next(request) -> str:
    from urllib.parse import quote

    return quote(request.get_full_path(), safe="/")


class NoStoreMiddleware:
    """Keep confidential pages out of every cache: whatever a signed-in person sees, and the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith(CONFIDENTIAL_PREFIXES):
            add_never_cache_headers(response)
        return response


class SecurityEventMiddleware:
    """Log denied access to case URLs, credential reveals and downloads as security events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        status = response.status_code
        number = match.kwargs.get("number") if match is not None else None
        on_case = number is not None or "/cases/" in request.path
        if status in (403, 404) and on_case:
            security_event(
                "access_denied",
                request=request,
                status=status,
                case=str(number) if number is not None else None,
            )
        elif match is not None and 200 <= status < 300:
            if match.url_name == "grant_reveal":
                security_event(
                    "credential_revealed",
                    request=request,
                    case=str(number),
                    grant_id=match.kwargs.get("pk"),
                )
            elif match.url_name in DOWNLOAD_URL_NAMES:
                security_event(
                    "download",
                    request=request,
                    case=str(number) if number is not None else None,
                    view=match.url_name,
                    object_id=match.kwargs.get("pk"),
                )
        return response


class ServiceAccountAuditMiddleware:
    """Put every change a service account makes through the API on its company's audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.path.startswith("/api/"):
            return response
        # The API's authentication puts the token's user on the request it wraps.
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_service_account", False):
            note_service_account_write(
                user=user, method=request.method, path=request.path, status=response.status_code
            )
        return response
