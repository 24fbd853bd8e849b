"""Notices and emails: thin, idempotent tasks, reached by name through the outbox."""

from celery import shared_task

from notifications import services


@shared_task(acks_late=True)
def notify_case_event(event_id: int) -> int:
    """Create the notices for one timeline event (safe to run twice)."""
    return services.notify_event(event_id=event_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_notification(notification_id: int) -> bool:
    return services.email_notification(notification_id=notification_id)


@shared_task(acks_late=True)
def send_daily_digests() -> int:
    """Enqueue one digest per person with notices waiting."""
    people = services.people_with_pending_digest()
    for user_id in people:
        send_digest.delay(user_id)
    return len(people)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_digest(user_id: int) -> int:
    return services.send_digest(user_id=user_id)
