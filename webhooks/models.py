"""Receivers of signed case events, and each event's delivery to each."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Webhook(models.Model):
    """A URL that receives a signed JSON event when a case its owner may see changes status."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    # The HMAC key must be readable to sign each delivery, so it is kept
    # encrypted with the portal's credential keys rather than hashed.
    secret_encrypted = models.TextField(editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The last `webhook.test` event its owner asked for, and what the receiver answered.
    test_requested_at = models.DateTimeField(null=True, blank=True)
    test_sent_at = models.DateTimeField(null=True, blank=True)
    test_response_code = models.PositiveIntegerField(null=True, blank=True)
    test_error = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "accounts_webhook"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook; the unique pair claims it once."""

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("cases.CaseEvent", on_delete=models.PROTECT, related_name="+")
    # What receivers see as the event id: the same on every retry of this delivery.
    event_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When its sending was last handed to the broker, or when its retry is due: a
    # pending delivery left past it is published again by the sweep (core.workrows).
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_webhookdelivery"
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(
                fields=["published_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.webhook_id}: {self.status}"


class WebhookChange(models.Model):
    """One change its owner made to a webhook: kept after the webhook itself is deleted."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", "Registered"
        SECRET_ROTATED = "secret_rotated", "Secret rotated"
        TEST_REQUESTED = "test_requested", "Test event sent"
        TURNED_OFF = "turned_off", "Turned off"
        DELETED = "deleted", "Deleted"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_changes"
    )
    # The webhook's id and URL as they were, not a key: the record outlives the webhook.
    webhook_id = models.PositiveBigIntegerField()
    url = models.URLField(max_length=500)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["owner", "-at"], name="webhook_change_owner_at")]

    def __str__(self) -> str:
        return f"{self.url}: {self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
