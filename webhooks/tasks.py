"""Webhook delivery: thin, idempotent tasks calling `webhooks.services`."""

import logging

from celery import shared_task

from webhooks import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def dispatch_webhooks(event_id: int) -> int:
    """Claim one delivery per webhook that may see this status change, and send each."""
    claimed = services.claim_webhook_deliveries(event_id=event_id)
    for delivery_id in claimed:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception:  # noqa: BLE001 - one delivery must not hold back the others
            # Run in-process (eager), a failure lands here; the row stays pending
            # and the sweep of lost work sends it again.
            logger.exception("Webhook delivery %s could not be started", delivery_id)
    return len(claimed)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """Send one delivery; on failure try again later, waiting twice as long each time."""
    outcome = services.deliver_webhook(delivery_id=delivery_id)
    if outcome == services.DeliveryOutcome.RETRY and not self.request.is_eager:
        # In-process (eager) runs have no queue to wait in; the log shows the failure.
        raise self.retry(countdown=services.retry_delay(self.request.retries))
    return outcome.value
