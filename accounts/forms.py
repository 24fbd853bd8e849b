import datetime as dt
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import timezone

from accounts.models import Organization


class ConflictForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.all(), empty_label="Choose a company"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    valid_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    valid_until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Until",
        help_text="Its last day. Leave empty for a conflict with no end date.",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", "The conflict cannot end before it begins.")
        return data


class SiteUrlPasswordResetForm(PasswordResetForm):
    """Send the reset link on SITE_URL, never on the host the request named.

    A request's Host (any allowed name, any port) is the client's to choose; a
    link built from it could send the person, and their reset token, elsewhere.
    """

    def save(self, **kwargs):
        site = urlsplit(settings.SITE_URL)
        kwargs["domain_override"] = site.netloc
        kwargs["use_https"] = site.scheme == "https"
        kwargs["subject_template_name"] = "registration/password_reset_subject.txt"
        kwargs["email_template_name"] = "registration/password_reset_email.txt"
        kwargs["html_email_template_name"] = "registration/password_reset_email.html"
        lifetime = dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        kwargs["extra_email_context"] = {
            **(kwargs.get("extra_email_context") or {}),
            "site_url": settings.SITE_URL,
            "link_lifetime": duration_in_words(lifetime),
            "link_expires_at": timezone.now() + lifetime,
        }
        return super().save(**kwargs)


def duration_in_words(span: dt.timedelta) -> str:
    """Say how long a link lasts: "1 hour", "30 minutes", "3 days"."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


class ConflictEndForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        label="Why it ends early",
        help_text="Kept on record with your name, on the conflicts page and the company's cases.",
    )


class PortalAuthenticationForm(AuthenticationForm):
    """The password sign-in, refused to roles that must use their provider instead."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_superuser:
            return  # the break-glass accounts
        if (user.role or "") in settings.PASSWORD_SIGN_IN_DISABLED_ROLES:
            raise forms.ValidationError(
                "Password sign-in is switched off for your role. Use "
                + ("CAISI staff sign-in" if user.is_caisi_staff else "Sign in with Login.gov")
                + " instead.",
                code="password_sign_in_off",
            )
