"""The transactional outbox: background work is written with the change that calls for it.

`enqueue` writes one `PendingTask` row per task inside the caller's
transaction, so the work exists exactly when the change does. After the
commit the rows are published to the broker and deleted. A broker that is
down makes the publish fail fast (one connection attempt, no retries), the
action still succeeds, and the rows stay; `drain` publishes them later, from
the periodic task and whenever a worker (re)connects to the broker. Rows are
claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, so two publishers never send
the same row at once; a row sent twice anyway (a crash between the publish
and the delete) is harmless, since every task is idempotent.

With no broker (the embedded default) tasks run in-process after the commit,
as they always have; a task declared `off_request=True` (signing a statement
takes seconds) runs in a thread of its own instead, started once the request
that asked for it has been answered.
"""

import contextlib
import logging
import os
import threading
from collections.abc import Iterable

from celery import current_app, shared_task
from celery.canvas import Signature
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connections, transaction
from django.db.models import F

from core.models import PendingTask

logger = logging.getLogger(__name__)


def task(name: str, *args) -> Signature:
    """Return a call of the task with this name, for `enqueue`, without importing its app."""
    return current_app.signature(name, args=list(args))


def enqueue(*signatures: Signature) -> None:
    """Queue these task calls to run once the current transaction commits.

    A row keeps the task's name and positional arguments only; a call with
    keyword arguments or options (a countdown, a queue) is refused here rather
    than losing them on the way through the outbox.
    """
    for signature in signatures:
        if signature.kwargs or signature.options:
            raise ValueError(
                f"{signature.task}: the outbox carries positional arguments only, "
                f"not {sorted(signature.kwargs) + sorted(signature.options)}"
            )
    if current_app.conf.task_always_eager:
        _load_task_modules()
        for signature in signatures:
            run = _run_apart if _off_request(signature) else _run_here
            # robust: work that fails in-process must not fail the committed action.
            # A named function, not functools.partial: Django logs a robust hook's
            # failure by its __qualname__, which a partial lacks.
            transaction.on_commit(_hook(run, signature), robust=True)
        return
    rows = PendingTask.objects.bulk_create(
        [
            PendingTask(task_name=signature.task, args=list(signature.args))
            for signature in signatures
        ]
    )
    ids = [row.pk for row in rows]
    # robust: a broker or database hiccup here leaves the rows for the drain.
    transaction.on_commit(lambda: publish(ids), robust=True)


_task_modules_loaded = False


def _load_task_modules() -> None:
    """Load the apps' task modules once in this process, as a worker does at start.

    Tasks are run in-process by name, so their modules must be loaded (Celery's
    autodiscovery, not an import of ours). Loading them again on every call
    reran Django's model checks with it: about 0.2 s of every action.
    """
    global _task_modules_loaded
    if not _task_modules_loaded:
        current_app.loader.import_default_modules()
        _task_modules_loaded = True


def _hook(run, signature: Signature):
    def run_task() -> None:
        run(signature)

    run_task.__qualname__ = f"{run.__name__}({signature.task})"
    return run_task


def _off_request(signature: Signature) -> bool:
    return bool(getattr(current_app.tasks.get(signature.task), "off_request", False))


def _run_here(signature: Signature) -> None:
    signature.delay()


# The off-request tasks asked for while this thread answers a request, started
# once the answer is sent: a signing thread's transaction would otherwise hold
# up the request's own commits on SQLite (a reader blocks a writer's commit).
_answering = threading.local()


def _request_started(**kwargs) -> None:
    _request_finished()  # anything a request left without finishing is not lost
    _answering.pending = []


def _request_finished(**kwargs) -> None:
    pending, _answering.pending = getattr(_answering, "pending", None), None
    for signature in pending or ():
        _start_apart(signature)


request_started.connect(_request_started, dispatch_uid="outbox-request-started")
request_finished.connect(_request_finished, dispatch_uid="outbox-request-finished")


def _run_apart(signature: Signature) -> threading.Thread | None:
    """Run the task in a thread of its own, once the request being answered (if any) is."""
    pending = getattr(_answering, "pending", None)
    if pending is not None:
        pending.append(signature)
        return None
    return _start_apart(signature)


def _start_apart(signature: Signature) -> threading.Thread:
    """Run the task in a thread of its own, with its own database connection."""

    def run() -> None:
        try:
            signature.apply(throw=False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=f"task {signature.task}", daemon=True)
    thread.start()
    return thread


def publish(ids: Iterable[int]) -> int:
    """Publish these outbox rows now, unless another publisher holds them; return how many."""
    with transaction.atomic():
        rows = list(
            PendingTask.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(ids))
            .order_by("pk")
        )
        return _publish_and_delete(rows)


def drain(*, batch: int | None = None) -> int:
    """Publish the rows left behind, oldest first, until none is left or the broker fails."""
    batch = batch or settings.OUTBOX_DRAIN_BATCH
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                PendingTask.objects.select_for_update(skip_locked=True).order_by("pk")[:batch]
            )
            published = _publish_and_delete(rows)
        total += published
        if published < batch:
            return total


def _publish_and_delete(rows: list[PendingTask]) -> int:
    """Send the locked rows in order; delete those sent and count an attempt on the rest."""
    if not rows:
        return 0
    sent, error = _send(rows)
    if error:
        logger.warning(
            "Broker unavailable; %d task(s) stay in the outbox: %s", len(rows) - len(sent), error
        )
    if sent:
        PendingTask.objects.filter(pk__in=sent).delete()
    unsent = [row.pk for row in rows[len(sent) :]]
    if unsent:
        PendingTask.objects.filter(pk__in=unsent).update(
            attempts=F("attempts") + 1, last_error=error
        )
    return len(sent)


def _send(rows: list[PendingTask]) -> tuple[list[int], str]:
    """Publish the rows in order; return the ids sent and, if it stopped early, why."""
    sent: list[int] = []
    producer = _producer()
    try:
        for row in rows:
            current_app.signature(row.task_name, args=row.args).apply_async(
                producer=producer, retry=False
            )
            sent.append(row.pk)
    except Exception as failure:  # noqa: BLE001 - any broker failure keeps the rows
        _forget_producer()  # the next publish starts on a new connection
        return sent, f"{type(failure).__name__}: {failure}"[:500]
    return sent, ""


_kept = threading.local()


def _producer():
    """Return this thread's producer; its connection is kept, as opening one per commit costs."""
    key = (os.getpid(), current_app.conf.broker_write_url)
    kept = getattr(_kept, "producer", None)
    if kept is not None and kept[0] == key:
        return kept[1]
    _forget_producer()
    producer = _fail_fast_connection().Producer()
    _kept.producer = (key, producer)
    return producer


def _forget_producer() -> None:
    kept = getattr(_kept, "producer", None)
    _kept.producer = None
    if kept is not None:
        # Closing a connection that broke may fail too.
        with contextlib.suppress(Exception):
            kept[1].connection.close()


def _fail_fast_connection():
    """A broker connection that tries once, briefly, instead of retrying for seconds."""
    timeout = settings.OUTBOX_PUBLISH_TIMEOUT_SECONDS
    return current_app.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            "max_retries": 0,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        },
    )


@shared_task(acks_late=True, ignore_result=True)
def drain_outbox() -> int:
    """Publish the background work that could not reach the broker when it was queued."""
    return drain()
