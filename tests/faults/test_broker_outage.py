"""Redis stopped during an action: the action commits, and its work runs once Redis is back.

The test has a private `redis-server` as the broker of its worker and of its
own publishes, stops it, takes a lifecycle action through the web, and starts
Redis again on the same port. Nothing calls the outbox's drain by hand: the
worker reconnects and drains it.
"""

import time

import pytest
from django.urls import reverse

from cases.models import CaseEvent
from core.models import PendingTask
from deadlines.models import Deadline
from notifications.models import Notification

from .conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_action_taken_while_redis_is_stopped_gets_its_work_done_once_redis_is_back(
    private_redis, start_private_worker, monkeypatch, client, cast, case_at
):
    # This process publishes to the private broker too.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", private_redis.url)
    worker = start_private_worker(private_redis.url)
    case = case_at("triage")
    wait_for(
        lambda: Deadline.objects.filter(case=case, subject="triage").exists(),
        message="the worker did not process the setup's work",
    )
    client.force_login(cast.manager)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "assign_case_manager"})

    private_redis.stop()
    started = time.monotonic()
    response = client.post(url, {"manager": cast.manager.pk})
    took = time.monotonic() - started

    assert response.status_code == 302, response.content[:500]
    assert took < 3, f"the action waited {took:.1f}s on the stopped broker"
    case.refresh_from_db()
    assert case.status == "access"
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert event.verb == "assign_case_manager"
    assert sorted(PendingTask.objects.values_list("task_name", "args")) == [
        ("deadlines.tasks.sync_case_deadlines", [case.pk]),
        ("notifications.tasks.notify_case_event", [event.pk]),
        ("webhooks.tasks.dispatch_webhooks", [event.pk]),
    ]
    time.sleep(1)  # the worker, were the work to reach it anyway, would have done it by now
    assert not Notification.objects.filter(event=event).exists()
    assert not Deadline.objects.filter(case=case, subject="access").exists()
    assert worker.process.poll() is None, "the worker gave up on the broker"

    private_redis.start()

    wait_for(lambda: not PendingTask.objects.exists(), timeout=60, message="outbox not drained")
    wait_for(
        lambda: Notification.objects.filter(event=event, user=cast.liaison).exists(),
        timeout=30,
        message="the liaison was not notified of the assignment",
    )
    wait_for(
        lambda: Deadline.objects.filter(case=case, kind="service_level", subject="access").exists(),
        timeout=30,
        message="the access service level was not set",
    )
    notices = list(Notification.objects.filter(event=event).values_list("user_id", flat=True))
    assert len(notices) == len(set(notices))
    log = worker.log_path.read_text()
    assert "core.outbox.drain_outbox" in log
