"""Writes about people: conflicts of interest, API tokens and webhooks."""

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from cases.services import ActionRefused

from .models import ApiToken, ConflictOfInterest, Organization, Webhook, WebhookDelivery


@transaction.atomic
def declare_conflict(
    *,
    actor,
    organization: Organization,
    reason: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> ConflictOfInterest:
    """Declare the actor's conflict of interest with a company; assignments then refuse them."""
    if not actor.is_authenticated or not actor.is_caisi_staff:
        raise ActionRefused("Conflicts of interest are declared by CAISI staff.")
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Give the reason for the conflict.")
    valid_from = valid_from or timezone.localdate()
    if valid_until is not None and valid_until < valid_from:
        raise ActionRefused("The conflict cannot end before it begins.")
    return ConflictOfInterest.objects.create(
        user=actor,
        organization=organization,
        reason=reason,
        valid_from=valid_from,
        valid_until=valid_until,
    )


@transaction.atomic
def end_conflict(*, actor, conflict: ConflictOfInterest, on: dt.date | None = None):
    """End one of the actor's own declared conflicts (it stays on record)."""
    conflict = ConflictOfInterest.objects.select_for_update().get(pk=conflict.pk)
    if conflict.user_id != actor.pk:
        raise ActionRefused("Only the person who declared a conflict can end it.")
    on = on or timezone.localdate()
    if conflict.valid_until is not None and conflict.valid_until < on:
        raise ActionRefused("This conflict has ended already.")
    # It ends the day before, so from `on` the person may be assigned again.
    conflict.valid_until = on - dt.timedelta(days=1)
    conflict.save(update_fields=["valid_until"])
    return conflict


# --- API tokens -------------------------------------------------------------------

TOKEN_PREFIX = "caisi_"  # noqa: S105 - a marker, not a secret
# last_used_at is a hint for people, not an audit log: one write a minute at most.
TOKEN_USE_GRANULARITY = dt.timedelta(minutes=1)


def hash_api_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, user, name: str, read_only: bool = True, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token; return it with the token text, which is never stored."""
    name = name.strip()
    if not name:
        raise ActionRefused("Give the token a name, so you can tell it apart later.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ActionRefused("The expiry must be in the future.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        secret_sha256=hash_api_token(raw),
        read_only=read_only,
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's tokens at once; it stays listed as revoked."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk:
        raise ActionRefused("Only the token's owner can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def note_api_token_use(*, token: ApiToken, at: dt.datetime | None = None) -> None:
    """Record that the token was used, at most once a minute."""
    at = at or timezone.now()
    if token.last_used_at is not None and at - token.last_used_at < TOKEN_USE_GRANULARITY:
        return
    # The condition makes concurrent requests of one token write once, not each.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=at - TOKEN_USE_GRANULARITY)
    ).update(last_used_at=at)
    token.last_used_at = at


# --- webhooks -----------------------------------------------------------------------

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret


@transaction.atomic
def register_webhook(*, owner, url: str) -> tuple[Webhook, str]:
    """Register a URL for signed status-change events; return it with its secret (shown once)."""
    from submissions import crypto

    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise ActionRefused("The webhook URL must be an http or https address.")
    if address := non_public_address(urlsplit(url).hostname):
        raise ActionRefused(
            f"The webhook URL must point to the public internet; {address} is a private, "
            "loopback or reserved address."
        )
    if owner.role is None:
        raise ActionRefused("Only a company liaison or CAISI staff can register webhooks.")
    secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(owner=owner, url=url, secret_encrypted=crypto.encrypt(secret))
    return webhook, secret


def non_public_address(host: str) -> str | None:
    """Return an address `host` resolves to that is not on the public internet, if any.

    Webhooks are sent from inside CAISI's network: a receiver on a private,
    loopback, link-local or reserved address could reach internal services.
    A name that does not resolve now passes here; each delivery checks again.
    """
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not address.is_global:
            return str(address)
    return None


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
    """Return the active webhooks whose owners may see this event."""
    from cases.models import Case
    from cases.policy import can_see_internal

    hooks = Webhook.objects.filter(active=True, owner__is_active=True).select_related("owner")
    recipients = []
    for hook in hooks:
        owner = hook.owner
        if event.internal and not can_see_internal(owner):
            continue
        if Case.objects.visible_to(owner).filter(pk=event.case_id).exists():
            recipients.append(hook)
    return recipients


def claim_webhook_deliveries(*, event_id: int) -> list[int]:
    """Create one delivery per recipient of a status change; return the newly claimed ids.

    The (webhook, event) unique insert is the claim: running this twice, or on
    two workers at once, claims each delivery exactly once.
    """
    from cases.models import CaseEvent

    event = CaseEvent.objects.filter(pk=event_id).first()
    if event is None or not event.to_status:
        return []
    claimed = []
    for hook in webhook_recipients(event):
        try:
            with transaction.atomic():
                claimed.append(WebhookDelivery.objects.create(webhook=hook, event=event).pk)
        except IntegrityError:
            continue  # claimed already
    return claimed


def webhook_payload(delivery: WebhookDelivery) -> dict[str, Any]:
    from django.urls import reverse

    event, case = delivery.event, delivery.event.case
    return {
        "id": str(delivery.event_uid),
        "type": "case.status_changed",
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A receiver that redirects has not received the event; the log says so.
    def redirect_request(self, *args, **kwargs):
        return None


class DeliveryOutcome(models.TextChoices):
    DELIVERED = "delivered"
    RETRY = "retry"
    GAVE_UP = "gave_up"
    NOTHING_TO_DO = "nothing_to_do"


def deliver_webhook(*, delivery_id: int) -> DeliveryOutcome:
    """Send one claimed delivery once; a delivered one is never sent again."""
    from submissions import crypto

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
        if address := non_public_address(urlsplit(delivery.webhook.url).hostname or ""):
            # The name has come to point inside the network since registration.
            delivery.attempts += 1
            delivery.last_attempt_at = timezone.now()
            delivery.status = WebhookDelivery.DeliveryStatus.FAILED
            delivery.last_error = f"Not sent: the receiver's address {address} is not public."
            delivery.save(update_fields=["attempts", "last_attempt_at", "status", "last_error"])
            return DeliveryOutcome.GAVE_UP
        body = json.dumps(webhook_payload(delivery), separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        secret = crypto.decrypt(delivery.webhook.secret_encrypted)
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked at registration
            delivery.webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "CAISI-Review-Portal-Webhooks/1",
                "X-CAISI-Event-Id": str(delivery.event_uid),
                "X-CAISI-Timestamp": timestamp,
                "X-CAISI-Signature": sign_webhook(secret=secret, timestamp=timestamp, body=body),
            },
        )
        code, error = None, ""
        try:
            opener = urllib.request.build_opener(_NoRedirects)
            with opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
                code = response.status
        except urllib.error.HTTPError as failure:
            code, error = failure.code, f"The receiver answered {failure.code}."
        except (OSError, ValueError) as failure:
            error = f"Could not reach the receiver: {failure}"[:500]
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = code
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
            outcome = DeliveryOutcome.DELIVERED
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.DeliveryStatus.FAILED
            delivery.last_error = error
            outcome = DeliveryOutcome.GAVE_UP
        else:
            delivery.last_error = error
            outcome = DeliveryOutcome.RETRY
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "response_code",
                "status",
                "delivered_at",
                "last_error",
            ]
        )
    return outcome


# --- Second factor and sessions ------------------------------------------------------

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"


def requires_second_factor(user) -> bool:
    """Return whether this person must pass a second factor after their password."""
    from django_otp import user_has_device

    return user.is_caisi_staff or user_has_device(user)


@transaction.atomic
def start_totp_enrolment(*, user):
    """Return the person's unconfirmed authenticator, creating one if there is none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(*, user, code: str) -> tuple[Any, list[str]]:
    """Confirm the person's new authenticator by a code it shows; return it and recovery codes.

    The codes are returned once and stored only as the static device's tokens;
    any earlier authenticator and recovery codes are replaced.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise ActionRefused("Start again: there is no authenticator waiting to be confirmed.")
    if not device.verify_token(code.strip().replace(" ", "")):
        raise ActionRefused(
            "That code does not match. Check the time on your phone and enter the current code."
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, issue_recovery_codes(user=user)


@transaction.atomic
def issue_recovery_codes(*, user) -> list[str]:
    """Replace the person's recovery codes with new ones, each good once; return them."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def verify_second_factor(*, user, code: str):
    """Return the device that accepts this code (a recovery code is used up), or None."""
    from django_otp import verify_token
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = code.strip().replace(" ", "").replace("-", "")
    if not code:
        return None
    devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
    if code.isdigit() and len(code) == 6:
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True)) + devices
    for device in devices:
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


@transaction.atomic
def record_signed_in_session(*, user, session_key: str, replaces: str | None = None) -> None:
    """Remember which sessions belong to the person, to end them together later.

    `replaces` is the id the same sign-in had before its key was cycled: its row goes,
    and the new one keeps its sign-in time.
    """
    from .models import SignedInSession

    now = timezone.now()
    # No session outlives the absolute timeout, so older rows name nothing left to end.
    SignedInSession.objects.filter(
        user=user, signed_in_at__lt=now - dt.timedelta(hours=settings.SESSION_ABSOLUTE_HOURS)
    ).delete()
    signed_in_at = now
    if replaces and replaces != session_key:
        replaced = SignedInSession.objects.filter(user=user, session_key=replaces)
        signed_in_at = replaced.values_list("signed_in_at", flat=True).first() or now
        replaced.delete()
    SignedInSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user},
        create_defaults={"user": user, "signed_in_at": signed_in_at},
    )


def end_sessions_of(*, user) -> int:
    """End every session the person has signed in with, server-side; return how many."""
    from importlib import import_module

    from .models import SignedInSession

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(SignedInSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    SignedInSession.objects.filter(user=user).delete()
    return len(keys)
