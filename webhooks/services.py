"""Webhooks: registering receivers, claiming one delivery per event, and sending it signed."""

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from cases.access import can_see_internal, during_draft
from cases.models import Case, CaseEvent
from cases.status import ANNOUNCED_EVENTS
from core import crypto, netguard
from core.errors import ActionRefused, BadInput
from webhooks.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret


@transaction.atomic
def register_webhook(*, owner, url: str) -> tuple[Webhook, str]:
    """Register a URL for signed status-change events; return it with its secret (shown once)."""
    url = url.strip()
    check_receiver_url(url)
    if owner.role is None:
        raise ActionRefused("Only a company liaison or CAISI staff can register webhooks.")
    secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(owner=owner, url=url, secret_encrypted=crypto.encrypt(secret))
    return webhook, secret


def check_receiver_url(url: str) -> None:
    """Refuse a receiver URL that is malformed or whose name does not resolve to public addresses.

    Webhooks are sent from inside CAISI's network: a receiver on a private,
    loopback, link-local or reserved address could reach internal services.
    A name that does not resolve is refused with the same words as one that
    resolves inside, so the refusal tells nothing of CAISI's own names; each
    delivery checks again, and connects only to the address it checked.
    """
    if len(url) > Webhook._meta.get_field("url").max_length:
        raise BadInput("The webhook URL is longer than 500 characters.")
    try:
        target = netguard.parse_url(url)
    except netguard.Refused as refusal:
        raise BadInput(refusal.reason) from None
    try:
        netguard.resolve_public(
            target.host, target.port, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
        )
    except netguard.Refused:
        raise BadInput(
            "The webhook URL must point to the public internet: its host name must resolve, "
            "and only to public addresses (not private, loopback, link-local or reserved ones)."
        ) from None


@transaction.atomic
def deactivate_webhook(*, actor, webhook: Webhook) -> Webhook:
    """Stop sending events to one of the actor's webhooks; its delivery log stays."""
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if webhook.owner_id != actor.pk:
        raise ActionRefused("Only the webhook's owner can turn it off.")
    if webhook.active:
        webhook.active = False
        webhook.save(update_fields=["active"])
    return webhook


def webhook_recipients(event) -> list[Webhook]:
    """Return the active webhooks whose owners may see this event.

    Staff hear nothing of what happened while the case was the company's draft.
    """
    hooks = Webhook.objects.filter(active=True, owner__is_active=True).select_related("owner")
    draft = during_draft(event, event.case)
    recipients = []
    for hook in hooks:
        owner = hook.owner
        if event.internal and not can_see_internal(owner):
            continue
        if draft and owner.is_caisi_staff:
            continue
        if Case.objects.visible_to(owner).filter(pk=event.case_id).exists():
            recipients.append(hook)
    return recipients


def retry_delay(retries: int) -> int:
    """Return the seconds to wait before the next try: twice as long after each failure."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 2**retries


def claim_webhook_deliveries(*, event_id: int) -> list[int]:
    """Create one delivery per recipient of a status change; return the newly claimed ids.

    The (webhook, event) unique insert is the claim: running this twice, or on
    two workers at once, claims each delivery exactly once.
    """
    event = CaseEvent.objects.filter(pk=event_id).first()
    if event is None or not (event.to_status or event.verb in ANNOUNCED_EVENTS):
        return []
    claimed = []
    for hook in webhook_recipients(event):
        try:
            with transaction.atomic():
                claimed.append(
                    WebhookDelivery.objects.create(
                        webhook=hook, event=event, published_at=timezone.now()
                    ).pk
                )
        except IntegrityError:
            continue  # claimed already
    return claimed


def webhook_payload(delivery: WebhookDelivery) -> dict[str, Any]:
    event, case = delivery.event, delivery.event.case
    return {
        "id": str(delivery.event_uid),
        "type": ANNOUNCED_EVENTS.get(event.verb, "case.status_changed"),
        "occurred_at": event.created_at.isoformat(),
        "action": event.verb,
        "from_status": event.from_status or None,
        "to_status": event.to_status,
        "case": {
            "number": case.number,
            "title": case.title,
            "url": settings.SITE_URL + reverse("api:case-detail", kwargs={"number": case.number}),
        },
    }


def sign_webhook(*, secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value: HMAC-SHA256 over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class DeliveryOutcome(models.TextChoices):
    DELIVERED = "delivered"
    RETRY = "retry"
    GAVE_UP = "gave_up"
    NOTHING_TO_DO = "nothing_to_do"


def deliver_webhook(*, delivery_id: int) -> DeliveryOutcome:
    """Send one claimed delivery once; a delivered one is never sent again."""
    with transaction.atomic():
        # The row lock is held over the request so two workers never send the
        # same delivery at once; the other one skips it.
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook", "event__case")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.DeliveryStatus.PENDING:
            return DeliveryOutcome.NOTHING_TO_DO
        if not delivery.webhook.active:
            return DeliveryOutcome.NOTHING_TO_DO
        code, error, retry = None, "", True
        try:
            code = _send(delivery)
        except netguard.Refused as refusal:
            # The owner sees the reason; the raw cause stays in the server's log.
            logger.info(
                "Webhook delivery %s not sent: %s (%r)",
                delivery.pk,
                refusal.reason,
                refusal.__context__,
            )
            error, retry = refusal.reason, refusal.retry
        except Exception:  # noqa: BLE001 - one delivery's failure is its own, never the loop's
            logger.exception("Webhook delivery %s failed", delivery.pk)
            error = netguard.Refused.reason
        if code is not None and not 200 <= code < 300:
            error = f"The receiver answered {code}."
            if 300 <= code < 400:
                error = f"The receiver answered {code}; redirects are not followed."
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = code
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
            outcome = DeliveryOutcome.DELIVERED
        elif not retry or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.DeliveryStatus.FAILED
            delivery.last_error = error
            outcome = DeliveryOutcome.GAVE_UP
        else:
            delivery.last_error = error
            # The retry waits its turn: the sweep must not count it lost before then.
            delivery.published_at = now + dt.timedelta(seconds=retry_delay(delivery.attempts - 1))
            outcome = DeliveryOutcome.RETRY
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "response_code",
                "status",
                "delivered_at",
                "last_error",
                "published_at",
            ]
        )
    return outcome


def _send(delivery: WebhookDelivery) -> int:
    """POST the signed event to the receiver, connecting only where it was checked to be."""
    body = json.dumps(webhook_payload(delivery), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    secret = crypto.decrypt(delivery.webhook.secret_encrypted)
    return netguard.post(
        delivery.webhook.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "CAISI-Review-Portal-Webhooks/1",
            "X-CAISI-Event-Id": str(delivery.event_uid),
            "X-CAISI-Timestamp": timestamp,
            "X-CAISI-Signature": sign_webhook(secret=secret, timestamp=timestamp, body=body),
        },
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    )
