"""Two-step verification pages: enrol an authenticator, pass the second factor, settings."""

import base64
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticToken
from django_otp_webauthn.models import WebAuthnCredential

from accounts import services
from accounts import session_keys as keys
from accounts.webauthn import has_security_key
from core.errors import ActionRefused
from core.security_log import security_event
from core.web import safe_next


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


def _next_url(request) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"), "/")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """Ask for the second factor of a person who has an authenticator."""
    if request.session.get(keys.SECOND_FACTOR_DEVICE):
        return redirect(_next_url(request))
    if not user_has_device(request.user):
        return redirect(f"{_enrol_url()}?{urlencode({'next': _next_url(request)})}")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        device = form.is_valid() and services.verify_second_factor(
            user=request.user, code=form.cleaned_data["code"]
        )
        if device:
            recovery = device.persistent_id.startswith("otp_static")
            services.second_factor_passed(request, device)
            security_event("second_factor_passed", request=request, recovery_used=recovery)
            if recovery:
                messages.warning(
                    request,
                    "You used a recovery code; it will not work again. "
                    "Make new ones under Settings → Security when you are low.",
                )
            return redirect(_next_url(request))
        security_event("second_factor_failed", request=request)
        form.add_error(
            None, "That code was not accepted. Enter the current code, or an unused recovery code."
        )
        status = 400
    return render(
        request,
        "accounts/mfa_verify.html",
        {
            "form": form,
            "next": _next_url(request),
            "security_key": has_security_key(request.user),
            "totp_allowed": settings.TOTP_ALLOWED,
        },
        status=status,
    )


def _enrol_url() -> str:
    from django.urls import reverse

    return reverse("accounts:mfa_enrol")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    # The QR code holds only the otpauth URI's modules; drop the XML prologue to inline it.
    return svg[svg.index("<svg") :]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request):
    """Set up an authenticator: show its key as QR and text, and confirm a code from it."""
    if not settings.TOTP_ALLOWED:
        return redirect(
            f"{reverse('accounts:security_key')}?{urlencode({'next': _next_url(request)})}"
        )
    verified = bool(request.session.get(keys.SECOND_FACTOR_DEVICE))
    if not verified and user_has_device(request.user):
        # A password alone must never be enough to replace someone's authenticator.
        return redirect("accounts:mfa_verify")
    device = services.start_totp_enrolment(user=request.user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.confirm_totp_enrolment(
                user=request.user, code=form.cleaned_data["code"]
            )
        except ActionRefused as refusal:
            form.add_error("code", refusal.blockers)
            status = 400
        else:
            services.second_factor_passed(request, device)
            request.session[keys.NEW_RECOVERY_CODES] = codes
            security_event("second_factor_enrolled", request=request)
            return redirect(f"{_recovery_url()}?{urlencode({'next': _next_url(request)})}")
    elif request.method == "POST":
        status = 400
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308  (generated here)
            "manual_key": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": request.user.must_pass_second_factor,
            "next": _next_url(request),
        },
        status=status,
    )


def _recovery_url() -> str:
    from django.urls import reverse

    return reverse("accounts:mfa_recovery_codes")


@never_cache
@login_required
def mfa_recovery_codes(request):
    """Show new recovery codes once; a reload shows them no more."""
    codes = request.session.pop(keys.NEW_RECOVERY_CODES, None)
    return render(
        request,
        "accounts/mfa_recovery_codes.html",
        {"codes": codes, "next": _next_url(request)},
    )


@never_cache
@login_required
def security_settings(request):
    """Show the person's two-step verification and what they can do about it."""
    return render(
        request,
        "accounts/settings/security.html",
        {
            "enabled": user_has_device(request.user),
            "required": request.user.must_pass_second_factor,
            "recovery_left": StaticToken.objects.filter(device__user=request.user).count(),
            "totp_allowed": settings.TOTP_ALLOWED,
            "key_count": WebAuthnCredential.objects.filter(
                user=request.user, confirmed=True
            ).count(),
        },
    )


@login_required
@require_POST
def recovery_codes_renew(request):
    """Replace the person's recovery codes; only a session that passed its second factor may."""
    if not request.session.get(keys.SECOND_FACTOR_DEVICE):
        messages.error(request, "Set up two-step verification first.")
        return redirect("accounts:security")
    request.session[keys.NEW_RECOVERY_CODES] = services.issue_recovery_codes(user=request.user)
    security_event("recovery_codes_renewed", request=request)
    return redirect("accounts:mfa_recovery_codes")
