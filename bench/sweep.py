"""Time the reminder sweep over the seeded deadlines, alone and with four sweepers at once.

Run by bench/run.py against the bench database, with CELERY_BROKER_URL naming
the bench's own Redis database: each reminder the sweep claims is queued
there (as in production), counted, and the queue emptied afterwards. The
deadlines are put back as the seeder left them, so the run can be repeated.
Prints one JSON line.
"""

import base64
import datetime as dt
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisi_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max  # noqa: E402

from accounts.models import User  # noqa: E402
from deadlines.models import Deadline, ReminderSent  # noqa: E402
from deadlines.services import sweep_reminders  # noqa: E402

SWEEPERS = 4


def broker():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued_reminders() -> tuple[int, int, int]:
    """Return how many reminder deliveries are queued, for how many distinct reminders,
    and in how many messages (a message carries a chunk of reminders)."""
    ids, messages = [], 0
    for raw in broker().lrange("celery", 0, -1):
        message = json.loads(raw)
        task = message["headers"]["task"]
        if task not in ("deadlines.tasks.deliver_reminders", "deadlines.tasks.deliver_reminder"):
            continue
        messages += 1
        args = json.loads(base64.b64decode(message["body"]))[0]
        ids.extend(args[0] if task.endswith("s") else args)
    return len(ids), len(set(ids)), messages


def back_up() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_deadline_backup")
        cursor.execute(
            "CREATE TABLE bench_deadline_backup AS SELECT id, due_at, next_reminder_at "
            "FROM cases_deadline WHERE satisfied_at IS NULL"
        )


def restore() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_deadline d SET due_at = b.due_at, next_reminder_at = b.next_reminder_at "
            "FROM bench_deadline_backup b WHERE d.id = b.id "
            "AND (d.due_at, d.next_reminder_at) IS DISTINCT FROM (b.due_at, b.next_reminder_at)"
        )
        cursor.execute("DELETE FROM cases_remindersent")
    broker().delete("celery")


def timed_sweep(now: dt.datetime) -> tuple[float, int]:
    started = time.perf_counter()
    sent = sweep_reminders(now=now)
    return time.perf_counter() - started, sent


def sweeper(now: dt.datetime, start_at: float) -> tuple[int, float]:
    """Sweep in a process of its own, as a separate worker would, from a common start time."""
    time.sleep(max(start_at - time.time(), 0))
    started = time.perf_counter()
    sent = sweep_reminders(now=now)
    return sent, time.perf_counter() - started


def main() -> None:
    if not settings.CELERY_BROKER_URL:
        raise SystemExit("Set CELERY_BROKER_URL to the bench's own Redis database.")
    # The seeder made its people at the moment it computed every reminder time.
    seeded_at = User.objects.aggregate(at=Max("date_joined"))["at"]
    result = {
        "deadlines": Deadline.objects.count(),
        "pending": Deadline.objects.pending().count(),
    }
    back_up()
    try:
        restore()
        # The steady state: one beat period (REMINDER_SWEEP_SECONDS) after the last sweep.
        period = dt.timedelta(seconds=settings.REMINDER_SWEEP_SECONDS)
        result["steady_due"] = Deadline.objects.due_for_reminder(seeded_at + period).count()
        result["steady_seconds"], result["steady_sent"] = timed_sweep(seeded_at + period)
        restore()
        # A day's backlog: the beat was down for a day.
        day = seeded_at + dt.timedelta(days=1)
        result["day_due"] = Deadline.objects.due_for_reminder(day).count()
        result["day_seconds"], result["day_sent"] = timed_sweep(day)
        restore()
        # Fresh processes (not forks sharing this one's broker and database sockets),
        # started together once each has loaded Django.
        start_at = time.time() + 8
        with multiprocessing.get_context("spawn").Pool(SWEEPERS) as pool:
            outcomes = pool.starmap(sweeper, [(day, start_at)] * SWEEPERS)
        result["concurrent_seconds"] = max(seconds for _, seconds in outcomes)
        result["concurrent_sent"] = sum(sent for sent, _ in outcomes)
        result["concurrent_rows"] = ReminderSent.objects.count()
        queued, distinct, messages = queued_reminders()
        result["concurrent_queued"] = queued
        result["concurrent_distinct"] = distinct
        result["concurrent_messages"] = messages
        result["concurrent_duplicate_rows"] = (
            ReminderSent.objects.values("deadline", "offset_days")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        result["duplicates"] = (
            max(
                result["concurrent_sent"] - result["concurrent_rows"],
                result["concurrent_queued"] - result["concurrent_rows"],
            )
            + result["concurrent_duplicate_rows"]
            + (queued - distinct)
        )
    finally:
        restore()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_deadline_backup")
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
