"""A person's webhook settings: register a receiver, read its delivery log, turn it off."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ActionRefused
from webhooks import services
from webhooks.models import Webhook

# A session key (not a secret) under which a new secret waits to be shown.
NEW_SECRET_KEY = "accounts:new_webhook_secret"  # noqa: S105


class WebhookForm(forms.Form):
    url = forms.URLField(
        max_length=500,
        label="Receiver URL",
        assume_scheme="https",
        help_text="Status changes of the cases you can see are POSTed here, signed.",
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    """List the person's webhooks and register one; its secret is shown once, after the redirect."""
    form = WebhookForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, secret = services.register_webhook(
                    owner=request.user, url=form.cleaned_data["url"]
                )
            except ActionRefused as refusal:
                for blocker in refusal.blockers:
                    form.add_error("url", blocker)
                status = 400
            else:
                request.session[NEW_SECRET_KEY] = secret
                return redirect("webhooks:webhooks")
        else:
            status = 400
    return render(
        request,
        "accounts/settings/webhooks.html",
        {
            "form": form,
            "new_secret": request.session.pop(NEW_SECRET_KEY, None),
            "webhooks": Webhook.objects.filter(owner=request.user),
        },
        status=status,
    )


@login_required
def webhook_deliveries(request, pk: int):
    """Show one webhook's delivery log, newest first."""
    webhook = get_object_or_404(Webhook, pk=pk, owner=request.user)
    deliveries = webhook.deliveries.select_related("event__case")[:100]
    return render(
        request,
        "accounts/settings/webhook_deliveries.html",
        {"webhook": webhook, "deliveries": deliveries},
    )


@login_required
@require_POST
def webhook_deactivate(request, pk: int):
    webhook = get_object_or_404(Webhook, pk=pk, owner=request.user)
    services.deactivate_webhook(actor=request.user, webhook=webhook)
    messages.success(request, f"Webhook {webhook.url} turned off: no more events go there.")
    return redirect("webhooks:webhooks")
