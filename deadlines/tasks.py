"""Deadlines and reminders: thin, idempotent tasks, reached by name through the outbox."""

from celery import shared_task

from deadlines import services


@shared_task(acks_late=True)
def sync_case_deadlines(case_id: int) -> None:
    """Bring the case's deadline rows in line with its records (safe to run twice)."""
    services.sync_case_deadlines(case_id=case_id)


@shared_task(acks_late=True)
def sweep_reminders() -> int:
    """Send the reminders that have come due, each once, however many workers sweep."""
    return services.sweep_reminders()


@shared_task(acks_late=True)
def deliver_reminder(reminder_id: int) -> int:
    return services.deliver_reminder(reminder_id=reminder_id)


@shared_task(acks_late=True)
def deliver_reminders(reminder_ids: list[int]) -> int:
    """Deliver a chunk of claimed reminders (safe to run twice)."""
    return services.deliver_reminders(reminder_ids=reminder_ids)
