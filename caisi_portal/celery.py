"""The Celery application: tasks are found in each app's tasks.py."""

import logging
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")

logger = logging.getLogger(__name__)

app = Celery("caisi_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class DrainOutboxOnConnect(bootsteps.StartStopStep):
    """Publish the outbox's leftovers each time a worker (re)connects to the broker.

    The consumer starts this step at start-up and again after every lost
    broker connection, so work queued during an outage goes out as soon as
    the broker is back, without waiting for the periodic drain.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer):
        try:
            consumer.app.signature("core.outbox.drain_outbox").apply_async()
        except Exception:  # noqa: BLE001 - the periodic drain comes round anyway
            logger.warning("Could not queue the outbox drain on connect.", exc_info=True)


app.steps["consumer"].add(DrainOutboxOnConnect)


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender, **kwargs):
    from django.conf import settings

    # Statements whose render message was lost (a broker outage at issue time,
    # a worker killed mid-render) get their PDF on the next sweep.
    sender.add_periodic_task(
        settings.CLEARANCE_RENDER_SWEEP_SECONDS,
        sender.signature("clearance.tasks.render_pending_statements"),
        name="clearance: render statements without a PDF",
    )
    # A signed checkpoint of the timelines' heads: removed newest events or a
    # rewritten chain are caught by `verify_timeline` against it.
    sender.add_periodic_task(
        settings.TIMELINE_CHECKPOINT_SECONDS,
        sender.signature("cases.tasks.checkpoint_timelines"),
        name="cases: sign a checkpoint of the timelines' heads",
    )
    # Background work whose message was lost after its publish (core.workrows).
    sender.add_periodic_task(
        settings.WORK_SWEEP_SECONDS,
        sender.signature("core.workrows.sweep_lost_work"),
        name="core: publish again the background work that was lost",
    )
    # Background work whose publish failed (the broker was down at commit).
    sender.add_periodic_task(
        settings.OUTBOX_DRAIN_SECONDS,
        sender.signature("core.outbox.drain_outbox"),
        name="core: publish the outbox's leftovers",
    )
    # Resumable weight uploads left unfinished: their pieces take disk space.
    sender.add_periodic_task(
        settings.RESUMABLE_UPLOAD_SWEEP_SECONDS,
        sender.signature("submissions.tasks.remove_expired_weights_uploads"),
        name="submissions: remove expired resumable uploads",
    )


@app.on_after_finalize.connect
def schedule_reminders_and_digests(sender, **kwargs):
    from celery.schedules import crontab
    from django.conf import settings

    sender.add_periodic_task(
        settings.REMINDER_SWEEP_SECONDS,
        sender.signature("deadlines.tasks.sweep_reminders"),
        name="deadlines: send the reminders that have come due",
    )
    sender.add_periodic_task(
        crontab(hour=settings.DIGEST_HOUR, minute=0),
        sender.signature("notifications.tasks.send_daily_digests"),
        name="notifications: one daily digest per person",
    )
