from celery import shared_task

from . import deadlines, notifications, services


@shared_task(acks_late=True)
def notify_case_event(event_id: int) -> int:
    """Create the notices for one timeline event (safe to run twice)."""
    return services.notify_event(event_id=event_id)


@shared_task(acks_late=True)
def sync_case_deadlines(case_id: int) -> None:
    """Bring the case's deadline rows in line with its records (safe to run twice)."""
    deadlines.sync_case_deadlines(case_id=case_id)


@shared_task(acks_late=True)
def sweep_reminders() -> int:
    """Send the reminders that have come due, each once, however many workers sweep."""
    return deadlines.sweep_reminders()


@shared_task(acks_late=True)
def deliver_reminder(reminder_id: int) -> int:
    return deadlines.deliver_reminder(reminder_id=reminder_id)


@shared_task(acks_late=True)
def deliver_reminders(reminder_ids: list[int]) -> int:
    """Deliver a chunk of claimed reminders (safe to run twice)."""
    return deadlines.deliver_reminders(reminder_ids=reminder_ids)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_notification(notification_id: int) -> bool:
    return notifications.email_notification(notification_id=notification_id)


@shared_task(acks_late=True)
def send_daily_digests() -> int:
    """Enqueue one digest per person with notices waiting."""
    people = notifications.people_with_pending_digest()
    for user_id in people:
        send_digest.delay(user_id)
    return len(people)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_digest(user_id: int) -> int:
    return notifications.send_digest(user_id=user_id)
