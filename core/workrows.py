"""Background work as rows: each kind is a row with marks, and one sweep republishes what was lost.

A kind of work (a reminder to deliver, a webhook delivery to send, an email to
send at once, a statement to render) is a row whose `pending` condition says
its work is not done yet, and whose `published` mark says when its work was
last handed to the broker (or, for a retry waiting its turn, when it is next
due). The task that does the work clears `pending` when done, and can run
twice without harm.

`sweep_lost_work` runs periodically: for each kind, it claims the rows still
pending whose mark is older than the kind's grace period (a compare-and-swap
of the mark, so however many sweepers run, a lost row is published again once
per period), and publishes their tasks again. Apps declare their kinds in
their AppConfig as `background_work`, so this layer imports none of them.
"""

import datetime as dt

from celery import shared_task
from django.apps import apps
from django.db import connection
from django.utils import timezone

from core import outbox
from core.work import Work


def registered() -> list[Work]:
    """Return every kind of background work the installed apps declare."""
    return [w for c in apps.get_app_configs() for w in getattr(c, "background_work", ())]


def claim_lost(work: Work, *, now: dt.datetime, limit: int = 5000) -> list[int]:
    """Move the mark of the lost rows to now; return the ids this call won, and only those."""
    lost = work.lost(now).order_by(work.created)
    model = work.model_class()
    if connection.vendor == "postgresql":
        # One statement: the rows are locked, skipped if another sweeper holds them,
        # and marked, so each lost row is won by one sweeper only.
        inner_sql, params = lost.values("pk")[:limit].query.sql_with_params()
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field(work.published).column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE id IN "  # noqa: S608 - model's own names
                f"({inner_sql} FOR UPDATE SKIP LOCKED) RETURNING id",
                [now, *params],
            )
            return sorted(row[0] for row in cursor.fetchall())
    # The embedded database: one compare-and-swap a row, each won or lost alone.
    candidates = list(lost.values_list("pk", flat=True)[:limit])
    return sorted(
        pk for pk in candidates if work.lost(now).filter(pk=pk).update(**{work.published: now})
    )


def publish(work: Work, ids: list[int], *, chunk: int | None = None) -> None:
    """Hand the rows' work to the broker, through the outbox (one id, or chunks of ids)."""
    chunk = chunk or work.chunk
    if chunk == 1:
        calls = [outbox.task(work.task, pk) for pk in ids]
    else:
        calls = [
            outbox.task(work.task, ids[start : start + chunk])
            for start in range(0, len(ids), chunk)
        ]
    outbox.enqueue(*calls)


def republish_lost(*, now: dt.datetime | None = None, kinds=None) -> dict[str, int]:
    """Publish again the lost rows of every kind (or of those named); return counts by kind."""
    now = now or timezone.now()
    counts = {}
    for work in registered():
        if kinds is not None and work.name not in kinds:
            continue
        ids = claim_lost(work, now=now)
        if ids:
            publish(work, ids)
        counts[work.name] = len(ids)
    return counts


@shared_task(acks_late=True, ignore_result=True)
def sweep_lost_work() -> dict[str, int]:
    """Publish again the background work whose message was lost (the one sweep for all)."""
    return republish_lost(kinds={w.name for w in registered() if not w.swept_by})
