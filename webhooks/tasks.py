"""Webhook delivery: thin, idempotent tasks calling `webhooks.services`.

Run by a worker, a failed delivery is retried through the broker. Run
in-process (the embedded default, no worker), the work goes to the background
sender instead, so no user's request waits on a receiver.
"""

import logging

from celery import shared_task
from django.utils import timezone

from webhooks import services
from webhooks.background import sender

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True)
def dispatch_webhooks(self, event_id: int) -> int:
    """Claim one delivery per webhook that may see this status change, and send each."""
    if self.request.is_eager:
        sender.submit(lambda: _claim_and_send_in_background(event_id))
        return 0
    claimed = services.claim_webhook_deliveries(event_id=event_id)
    for delivery_id in claimed:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception:  # noqa: BLE001 - one delivery must not hold back the others
            # The row stays pending and the sweep of lost work sends it again.
            logger.exception("Webhook delivery %s could not be started", delivery_id)
    return len(claimed)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """Send one delivery; on failure try again later, waiting twice as long each time."""
    outcome = services.deliver_webhook(delivery_id=delivery_id)
    if outcome == services.DeliveryOutcome.RETRY and not self.request.is_eager:
        # Called in-process on purpose (a test, a shell), it is sent once; the
        # embedded default's own deliveries are retried by the background sender.
        raise self.retry(countdown=services.retry_delay(self.request.retries))
    return outcome.value


@shared_task(bind=True, acks_late=True)
def send_test_event(self, webhook_id: int) -> None:
    """Send the `webhook.test` event its owner asked for, once."""
    if self.request.is_eager:
        sender.submit(lambda: services.send_test_event(webhook_id=webhook_id))
        return
    services.send_test_event(webhook_id=webhook_id)


def _claim_and_send_in_background(event_id: int) -> None:
    for delivery_id in services.claim_webhook_deliveries(event_id=event_id):
        sender.submit(lambda delivery_id=delivery_id: _send_in_background(delivery_id))


def _send_in_background(delivery_id: int) -> float | None:
    """Send once; return the seconds until the retry is due, or None when done."""
    outcome = services.deliver_webhook(delivery_id=delivery_id)
    if outcome != services.DeliveryOutcome.RETRY:
        return None
    due = services.retry_due(delivery_id=delivery_id)
    return max(0.0, (due - timezone.now()).total_seconds()) if due else None
