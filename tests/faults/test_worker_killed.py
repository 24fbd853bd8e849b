"""A worker killed with SIGKILL mid-task: the broker redelivers the message; one result.

tests/clearance/test_worker.py shows a killed render leaves nothing behind and
that the periodic sweep recovers it. Here no sweep runs and nothing is
published again: the killed worker's unacknowledged message itself is
restored by the broker transport once its visibility timeout has passed, and
the next worker runs the very same task id.
"""

import hashlib
import json

import pytest
import redis
from django.conf import settings

from core.models import PendingTask
from tests.clearance.test_worker import (
    issue_and_kill_mid_render,
    rendered,
    stored_statement_files,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def unacked_tasks(client) -> dict[str, tuple[str, str]]:
    """Return {task id: (task name, args)} of the messages taken but not acknowledged."""
    found = {}
    for raw in client.hvals("unacked"):
        message = json.loads(raw)[0]
        headers = message["headers"]
        found[headers["id"]] = (headers["task"], headers["argsrepr"])
    return found


def test_render_killed_mid_task_is_redelivered_and_stores_one_pdf(
    start_worker, start_private_worker, case_at, cast
):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("unacked", "unacked_index")  # messages of earlier runs' killed workers
    case, statement = issue_and_kill_mid_render(start_worker, case_at, cast)
    assert not PendingTask.objects.exists(), "the outbox must not be what recovers it"
    [killed_id] = [
        task_id
        for task_id, (name, args) in unacked_tasks(broker).items()
        if name == "clearance.tasks.render_statement" and args == f"({statement.pk},)"
    ]

    second = start_private_worker(
        settings.CELERY_BROKER_URL,
        CELERY_VISIBILITY_TIMEOUT="2",
        CELERY_UNACKED_RESTORE_INTERVAL="1",
        CELERY_UNACKED_RESTORE_THROTTLE="1",
    )
    rendered(statement, timeout=60)

    assert f"render_statement[{killed_id}] received" in second.log_path.read_text()
    assert killed_id not in unacked_tasks(broker)
    statement.refresh_from_db()
    assert stored_statement_files() == [f"{statement.number}.pdf"]
    assert case.events.filter(verb="statement_signed").count() == 1
    assert hashlib.sha256(statement.pdf.read()).hexdigest() == statement.pdf_sha256
