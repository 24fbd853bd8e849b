"""Security keys and passkeys (WebAuthn) as a second factor, on django-otp-webauthn.

The library runs the two ceremonies (registering a credential, using one); these
views hold them to the portal's rules: a key is a second factor only, never a
sign-in by itself; a person who already has a second factor must have passed it
before adding a key; and passing a key marks the session exactly as a TOTP code
does (accounts.mfa_views).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn import exceptions
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from accounts import services
from accounts import session_keys as keys
from core.errors import ActionRefused
from core.security_log import security_event
from core.web import safe_next


def has_security_key(user) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def has_recovery_codes(user) -> bool:
    return StaticDevice.objects.filter(user=user, confirmed=True).exists()


def security_key_owed(request) -> bool:
    """Return whether this staff session must enrol a security key before going on.

    Staff who signed in through the staff provider proved their authenticator there;
    the others (a password) must hold a key of their own when the setting asks it.
    Once a key is found the session remembers it, so later requests need no query.
    """
    user = request.user
    if not (user.is_authenticated and user.is_caisi_staff and settings.STAFF_REQUIRE_WEBAUTHN):
        return False
    session = request.session
    if session.get(keys.SSO_PROVIDER) == "staff" or session.get(keys.SECURITY_KEY_ENROLLED):
        return False
    if has_security_key(user):
        session[keys.SECURITY_KEY_ENROLLED] = True
        return False
    return True


class SecondFactorStateMixin:
    """Tell the library whether the session passed its second factor, the portal's way."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            passed = bool(request.session.get(keys.SECOND_FACTOR_DEVICE))
            request.user.is_verified = lambda: passed
        return super().dispatch(request, *args, **kwargs)


class PortalRegistrationMixin(SecondFactorStateMixin):
    def _check_user_verified(self, user) -> None:
        # A password alone must never be enough to add a way past the second factor.
        if user_has_device(user) and not self.request.session.get(keys.SECOND_FACTOR_DEVICE):
            raise exceptions.UserDisabled()


class CompleteRegistration(PortalRegistrationMixin, CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        request = self.request
        request.session[keys.SECURITY_KEY_ENROLLED] = True
        if not request.session.get(keys.SECOND_FACTOR_DEVICE):
            device = WebAuthnCredential.objects.filter(user=request.user).latest("pk")
            services.second_factor_passed(request, device)
        if not has_recovery_codes(request.user):
            # A lost key must not lock the person out (with TOTP off the key is all they
            # have): recovery codes come with the first key, shown once on the next page.
            request.session[keys.NEW_RECOVERY_CODES] = services.issue_recovery_codes(
                user=request.user
            )
        security_event("security_key_enrolled", request=request)
        return response


class BeginRegistration(PortalRegistrationMixin, BeginCredentialRegistrationView):
    pass


class CompleteAuthentication(SecondFactorStateMixin, CompleteCredentialAuthenticationView):
    def check_can_authenticate(self):
        # Only as the second factor of someone signed in already: never a sign-in of its own.
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()

    def complete_auth(self, device):
        if device.user_id != self.request.user.pk:
            raise exceptions.CredentialNotFound()
        services.second_factor_passed(self.request, device)
        self.request.session[keys.SECURITY_KEY_ENROLLED] = True
        security_event("second_factor_passed", request=self.request, security_key=True)

    def get_success_url(self):
        return safe_next(self.request, self.request.GET.get("next"), "/")


class BeginAuthentication(SecondFactorStateMixin, BeginCredentialAuthenticationView):
    def check_can_authenticate(self):
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()


@never_cache
@login_required
def security_key(request):
    """Enrol a security key or passkey; staff who must have one are held here until they do."""
    next_url = safe_next(request, request.GET.get("next"), "/")
    if not has_recovery_codes(request.user):
        # The first key comes with recovery codes (CompleteRegistration): show them next.
        next_url = f"{reverse('accounts:mfa_recovery_codes')}?{urlencode({'next': next_url})}"
    return render(
        request,
        "accounts/security_key.html",
        {
            "keys": WebAuthnCredential.objects.filter(user=request.user, confirmed=True),
            "required": security_key_owed(request),
            "next": next_url,
        },
    )


def _key_list(request, *, status: int = 200):
    own = WebAuthnCredential.objects.filter(user=request.user, confirmed=True).order_by(
        "created_at"
    )
    return render(
        request,
        "accounts/settings/security_keys.html",
        {
            "keys": own,
            # The last key stays when the account must keep one: no button offers otherwise.
            "last_one_kept": len(own) == 1 and services.security_key_required(request.user),
        },
        status=status,
    )


@never_cache
@login_required
def security_keys(request):
    """The person's security keys and passkeys: name, added, last used; each can be removed."""
    return _key_list(request)


@login_required
@require_POST
def security_key_remove(request, pk: int):
    key = get_object_or_404(WebAuthnCredential, pk=pk, user=request.user, confirmed=True)
    try:
        removed = services.remove_security_key(user=request.user, key=key)
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
        return _key_list(request, status=refusal.http_status)
    if not has_security_key(request.user):
        request.session.pop(keys.SECURITY_KEY_ENROLLED, None)
    security_event("security_key_removed", request=request, key=removed.name)
    messages.success(request, f"The security key “{removed.name}” was removed.")
    return redirect("accounts:security_keys")


# The library's URL names (its scripts read them), under the portal's views.
urlpatterns = [
    path("registration/begin/", BeginRegistration.as_view(), name="credential-registration-begin"),
    path(
        "registration/complete/",
        CompleteRegistration.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        BeginAuthentication.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
