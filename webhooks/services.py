"""Webhooks: registering receivers, claiming one delivery per event, and sending it signed."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from cases.access import can_see_internal, during_draft
from cases.models import Case, CaseEvent
from cases.status import ANNOUNCED_EVENTS
from core import crypto, netguard, outbox
from core.errors import ActionRefused, BadInput, NotAllowed
from webhooks.models import Webhook, WebhookChange, WebhookDelivery

logger = logging.getLogger(__name__)

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret
# Bytes of HMAC key behind each secret (Standard Webhooks: 24 to 64).
WEBHOOK_KEY_BYTES = 32


def new_webhook_secret() -> str:
    """Return a fresh secret as Standard Webhooks writes one: "whsec_" + base64 of the key."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_KEY_BYTES)).decode()


def webhook_key(secret: str) -> bytes:
    """Return the HMAC key a secret stands for (the base64 after the prefix)."""
    return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))


@transaction.atomic
def register_webhook(*, owner, url: str) -> tuple[Webhook, str]:
    """Register a URL for signed status-change events; return it with its secret (shown once)."""
    url = url.strip()
    check_receiver_url(url)
    if owner.role is None:
        raise NotAllowed("Only a company liaison or CAISI staff can register webhooks.")
    secret = new_webhook_secret()
    webhook = Webhook.objects.create(owner=owner, url=url, secret_encrypted=crypto.encrypt(secret))
    _record(webhook, WebhookChange.Kind.REGISTERED)
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
        _record(webhook, WebhookChange.Kind.TURNED_OFF)
    return webhook


@transaction.atomic
def rotate_webhook_secret(*, actor, webhook: Webhook) -> tuple[Webhook, str]:
    """Give one of the actor's webhooks a new secret (shown once); the old one stops at once."""
    webhook = _own_locked(actor, webhook, "rotate its secret")
    secret = new_webhook_secret()
    webhook.secret_encrypted = crypto.encrypt(secret)
    webhook.save(update_fields=["secret_encrypted"])
    _record(webhook, WebhookChange.Kind.SECRET_ROTATED)
    return webhook, secret


@transaction.atomic
def delete_webhook(*, actor, webhook: Webhook) -> None:
    """Remove one of the actor's webhooks with its delivery log; the record of changes stays."""
    webhook = _own_locked(actor, webhook, "delete it")
    _record(webhook, WebhookChange.Kind.DELETED)
    webhook.delete()


@transaction.atomic
def request_test_event(*, actor, webhook: Webhook) -> Webhook:
    """Queue a signed `webhook.test` event to one of the actor's webhooks, sent once."""
    webhook = _own_locked(actor, webhook, "send it a test event")
    if not webhook.active:
        raise ActionRefused("The webhook is turned off; register it again to receive events.")
    webhook.test_requested_at = timezone.now()
    webhook.test_sent_at = None
    webhook.test_response_code = None
    webhook.test_error = ""
    webhook.save(
        update_fields=["test_requested_at", "test_sent_at", "test_response_code", "test_error"]
    )
    _record(webhook, WebhookChange.Kind.TEST_REQUESTED)
    outbox.enqueue(outbox.task("webhooks.tasks.send_test_event", webhook.pk))
    return webhook


def send_test_event(*, webhook_id: int) -> None:
    """Send the requested test event once and record what the receiver answered."""
    webhook = Webhook.objects.filter(pk=webhook_id, active=True).first()
    if webhook is None or webhook.test_requested_at is None or webhook.test_sent_at:
        return
    message_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "id": message_id,
            "type": "webhook.test",
            "occurred_at": timezone.now().isoformat(),
            "webhook": webhook.pk,
        },
        separators=(",", ":"),
    ).encode()
    code, error = None, ""
    try:
        code = _post_signed(webhook, message_id=message_id, body=body)
    except netguard.Refused as refusal:
        error = refusal.reason
    except Exception:  # noqa: BLE001 - the owner is told it failed; the cause stays in the log
        logger.exception("Test event to webhook %s failed", webhook.pk)
        error = netguard.Refused.reason
    if code is not None and not 200 <= code < 300:
        error = f"The receiver answered {code}."
    Webhook.objects.filter(pk=webhook.pk).update(
        test_sent_at=timezone.now(), test_response_code=code, test_error=error[:500]
    )


def _record(webhook: Webhook, kind: str) -> None:
    WebhookChange.objects.create(
        owner_id=webhook.owner_id, webhook_id=webhook.pk, url=webhook.url, kind=kind
    )


def _own_locked(actor, webhook: Webhook, doing: str) -> Webhook:
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if webhook.owner_id != actor.pk:
        raise NotAllowed(f"Only the webhook's owner can {doing}.")
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


def retry_due(*, delivery_id: int) -> dt.datetime | None:
    """Return when a pending delivery's next try is due (None once it is done)."""
    return (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.DeliveryStatus.PENDING
        )
        .values_list("published_at", flat=True)
        .first()
    )


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


def sign_webhook(*, secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Return the `webhook-signature` value: "v1," + base64 HMAC-SHA256 of "id.timestamp.body".

    The Standard Webhooks scheme (standardwebhooks.com), so its libraries verify
    our deliveries as they are.
    """
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


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
    return _post_signed(delivery.webhook, message_id=str(delivery.event_uid), body=body)


def _post_signed(webhook: Webhook, *, message_id: str, body: bytes) -> int:
    """POST a body with the Standard Webhooks headers; return the receiver's status code."""
    timestamp = str(int(time.time()))
    secret = crypto.decrypt(webhook.secret_encrypted)
    signature = sign_webhook(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
    return netguard.post(
        webhook.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "CAISI-Review-Portal-Webhooks/2",
            # The same id on every retry of one event, so a receiver can drop repeats.
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature,
        },
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    )
