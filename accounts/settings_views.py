"""A person's settings page for programs: API tokens."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.models import ApiToken
from core.errors import ActionRefused

# A session key (not a secret) under which a new token waits to be shown.
NEW_TOKEN_KEY = "accounts:new_api_token"  # noqa: S105


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What the token is for, e.g. “release pipeline”."
    )
    access = forms.ChoiceField(
        choices=[("read_only", "Read only"), ("read_write", "Read and write")],
        initial="read_only",
        widget=forms.RadioSelect,
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Expires in (days)",
        help_text="Leave empty for a token that does not expire.",
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """List the person's tokens and create one; a new token is shown once, after the redirect."""
    form = ApiTokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            try:
                _, raw = services.create_api_token(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    read_only=form.cleaned_data["access"] == "read_only",
                    expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                )
            except ActionRefused as refusal:
                for blocker in refusal.blockers:
                    form.add_error(None, blocker)
                status = 400
            else:
                # Redirect so a reload cannot create a second token; the text
                # waits in the session only until that next page shows it.
                request.session[NEW_TOKEN_KEY] = raw
                return redirect("accounts:api_tokens")
        else:
            status = 400
    return render(
        request,
        "accounts/settings/api_tokens.html",
        {
            "form": form,
            "new_token": request.session.pop(NEW_TOKEN_KEY, None),
            "tokens": ApiToken.objects.filter(user=request.user),
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_api_token(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("accounts:api_tokens")
