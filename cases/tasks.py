from celery import shared_task

from . import services


@shared_task(acks_late=True)
def notify_case_event(event_id: int) -> int:
    """Create the in-app notices for one timeline event (safe to run twice)."""
    return services.notify_event(event_id=event_id)
