"""A person's webhook settings: register, read the log, test, rotate, turn off, delete."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ActionRefused
from webhooks import services
from webhooks.models import Webhook, WebhookChange

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
            "changes": WebhookChange.objects.filter(owner=request.user)[:20],
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


def _confirmed(request, doing: str) -> bool:
    """Whether the person ticked the confirmation of a change that cannot be undone."""
    if request.POST.get("confirm"):
        return True
    messages.error(request, f"Tick the confirmation to {doing}; nothing was changed.")
    return False


@login_required
@require_POST
def webhook_rotate_secret(request, pk: int):
    """Give the webhook a new secret, shown once after the redirect; the old one stops at once."""
    webhook = get_object_or_404(Webhook, pk=pk, owner=request.user)
    if not _confirmed(request, "rotate the secret"):
        return redirect("webhooks:webhooks")
    _, secret = services.rotate_webhook_secret(actor=request.user, webhook=webhook)
    request.session[NEW_SECRET_KEY] = secret
    messages.success(
        request, f"Webhook {webhook.url} has a new secret: the old one no longer verifies."
    )
    return redirect("webhooks:webhooks")


@login_required
@require_POST
def webhook_delete(request, pk: int):
    webhook = get_object_or_404(Webhook, pk=pk, owner=request.user)
    if not _confirmed(request, "delete the webhook"):
        return redirect("webhooks:webhooks")
    services.delete_webhook(actor=request.user, webhook=webhook)
    messages.success(request, f"Webhook {webhook.url} deleted with its delivery log.")
    return redirect("webhooks:webhooks")


@login_required
@require_POST
def webhook_test(request, pk: int):
    webhook = get_object_or_404(Webhook, pk=pk, owner=request.user)
    try:
        services.request_test_event(actor=request.user, webhook=webhook)
    except ActionRefused as refusal:
        for blocker in refusal.blockers:
            messages.error(request, blocker)
    else:
        messages.success(
            request,
            f"A signed webhook.test event is on its way to {webhook.url}; "
            "reload to see what the receiver answered.",
        )
    return redirect("webhooks:webhooks")
