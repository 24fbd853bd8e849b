"""Webhook sending without a worker (the embedded default): one background thread per process.

With no broker, Celery runs tasks in-process, inside the request that
committed the change. A receiver that is slow or down would then hold that
request; so when there is no worker, the webhook tasks hand their work to
this thread instead, which sends each delivery and tries a failed one again
when its retry is due (`services.retry_delay`), as a worker would.
Deliveries left pending when the process stops stay in the database; the
next change's dispatch and the production sweep do not depend on this queue.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)


class BackgroundSender:
    """A queue of jobs, each run at or after its due time on one daemon thread."""

    def __init__(self):
        self._jobs: list[tuple[float, int, Callable[[], float | None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._running = 0
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], float | None], *, delay: float = 0.0) -> None:
        """Run `job` after `delay` seconds; if it returns a number, run it again that much later."""
        with self._changed:
            heapq.heappush(self._jobs, (time.monotonic() + delay, next(self._order), job))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="webhook-sender", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def idle(self, *, within: float = 0.0) -> bool:
        """Return True when no job is running and none is due within `within` seconds."""
        with self._changed:
            due = self._jobs and self._jobs[0][0] <= time.monotonic() + within
            return not self._running and not due

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._jobs or self._jobs[0][0] > time.monotonic():
                    wait = self._jobs[0][0] - time.monotonic() if self._jobs else None
                    self._changed.wait(wait)
                _, _, job = heapq.heappop(self._jobs)
                self._running += 1
            again = None
            try:
                close_old_connections()
                again = job()
            except Exception:  # noqa: BLE001 - one job's failure must not stop the thread
                logger.exception("A webhook job failed in the background")
            finally:
                # Each job takes a connection of its own; none is kept between jobs.
                connections.close_all()
                with self._changed:
                    self._running -= 1
                    if again is not None:
                        heapq.heappush(
                            self._jobs, (time.monotonic() + again, next(self._order), job)
                        )
                    self._changed.notify_all()


sender = BackgroundSender()
