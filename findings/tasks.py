from celery import shared_task

from findings import services


@shared_task(acks_late=True)
def import_inspect_log(import_id: int) -> str | None:
    """Read one queued Inspect log and record its run (does nothing once it is read)."""
    queued = services.read_queued_import(import_id)
    return queued.state if queued else None
