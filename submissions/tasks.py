"""Background work of the submission: thin, idempotent tasks."""

from celery import shared_task

from submissions import services


@shared_task(acks_late=True)
def remove_expired_weights_uploads() -> int:
    """Remove resumable uploads left unfinished past their expiry (safe to run twice)."""
    return services.remove_expired_weights_uploads()
