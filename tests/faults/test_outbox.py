"""The outbox: work written with the change, published after commit, kept while Redis is down."""

import time

import pytest
from django.db import transaction

from caisi_portal.celery import app
from cases.models import CaseEvent
from core import outbox
from core.models import PendingTask
from notifications.models import Notification
from review.services import assign_case_manager
from tests.clearance.conftest import queue_length

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/8"


def queued_task_names() -> list[str]:
    import json

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return sorted(json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1))


@pytest.fixture
def broker_queue(transactional_db):
    if app.conf.task_always_eager:
        pytest.skip("The outbox publishes to a broker: needs CELERY_BROKER_URL.")
    app.control.purge()
    yield
    app.control.purge()


def test_the_work_is_written_in_the_transaction_of_the_change(db, cast, case_at):
    case = case_at("triage")
    before = set(PendingTask.objects.values_list("pk", flat=True))
    assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    event = CaseEvent.objects.filter(case=case).latest("seq")
    # The test's transaction never commits, so nothing was published and the rows wait.
    new = PendingTask.objects.exclude(pk__in=before).order_by("pk")
    assert [(row.task_name, row.args) for row in new] == [
        ("notifications.tasks.notify_case_event", [event.pk]),
        ("webhooks.tasks.dispatch_webhooks", [event.pk]),
        ("deadlines.tasks.sync_case_deadlines", [case.pk]),
    ]


def test_a_rolled_back_change_leaves_no_work(broker_queue, cast, case_at):
    case = case_at("triage")
    app.control.purge()
    with pytest.raises(RuntimeError), transaction.atomic():
        assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
        raise RuntimeError("the caller fails after the service")
    assert not PendingTask.objects.exists()
    assert queue_length() == 0
    case.refresh_from_db()
    assert case.status == "triage"


def test_after_commit_the_work_is_published_and_the_rows_deleted(broker_queue, cast, case_at):
    case = case_at("triage")
    app.control.purge()
    assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    assert not PendingTask.objects.exists()
    assert queued_task_names() == [
        "deadlines.tasks.sync_case_deadlines",
        "notifications.tasks.notify_case_event",
        "webhooks.tasks.dispatch_webhooks",
    ]


def test_broker_down_the_action_commits_quickly_and_the_work_waits(
    broker_queue, cast, case_at, monkeypatch
):
    case = case_at("triage")
    app.control.purge()
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", CLOSED_PORT_BROKER)
    started = time.monotonic()
    assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    took = time.monotonic() - started
    assert took < 2, f"the action waited {took:.1f}s on the broker"
    case.refresh_from_db()
    assert case.status == "access"
    rows = list(PendingTask.objects.order_by("pk"))
    assert [row.task_name for row in rows] == [
        "notifications.tasks.notify_case_event",
        "webhooks.tasks.dispatch_webhooks",
        "deadlines.tasks.sync_case_deadlines",
    ]
    assert all(row.attempts == 1 and "OperationalError" in row.last_error for row in rows)
    assert outbox.drain() == 0  # still down: the rows stay
    assert PendingTask.objects.filter(attempts=2).count() == 3

    monkeypatch.delenv("CELERY_BROKER_WRITE_URL")
    assert outbox.drain() == 3
    assert not PendingTask.objects.exists()
    assert len(queued_task_names()) == 3


def test_drain_publishes_oldest_first_in_batches(broker_queue):
    PendingTask.objects.bulk_create(
        [PendingTask(task_name="notifications.tasks.notify_case_event", args=[n]) for n in range(7)]
    )
    assert outbox.drain(batch=3) == 7
    import json

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # LPUSH puts the newest at the head; the worker pops from the tail, oldest first.
    sent = [json.loads(raw)["headers"]["argsrepr"] for raw in client.lrange("celery", 0, -1)]
    assert sent == [f"({n},)" for n in reversed(range(7))]


def test_rows_held_by_another_publisher_are_skipped(broker_queue):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    held, free = PendingTask.objects.bulk_create(
        [
            PendingTask(task_name="notifications.tasks.notify_case_event", args=[1]),
            PendingTask(task_name="notifications.tasks.notify_case_event", args=[2]),
        ]
    )
    with transaction.atomic():
        PendingTask.objects.select_for_update().get(pk=held.pk)

        def other_publisher():
            try:
                return outbox.drain()
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(other_publisher).result(timeout=30) == 1
    assert list(PendingTask.objects.values_list("pk", flat=True)) == [held.pk]
    assert not PendingTask.objects.filter(pk=free.pk).exists()


@pytest.fixture
def no_broker():
    """The embedded default: no broker, tasks run in-process."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_without_a_broker_the_work_runs_in_process_after_commit(
    transactional_db, no_broker, cast, case_at
):
    case = case_at("triage")
    assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert not PendingTask.objects.exists()
    assert Notification.objects.filter(event=event, user=cast.liaison).exists()


def test_on_the_embedded_default_signing_starts_once_the_request_is_answered(
    transactional_db, no_broker, monkeypatch
):
    from django.core.signals import request_finished, request_started

    started = []
    monkeypatch.setattr(outbox, "_start_apart", lambda signature: started.append(signature.task))
    request_started.send(sender=None)
    with transaction.atomic():
        outbox.enqueue(outbox.task("clearance.tasks.render_statement", 0))
    # Committed, but the request is still being answered: its commits must not wait on it.
    assert started == []
    request_finished.send(sender=None)
    assert started == ["clearance.tasks.render_statement"]
    with transaction.atomic():  # outside a request it starts after the commit, as before
        outbox.enqueue(outbox.task("clearance.tasks.render_statement", 0))
    assert started == ["clearance.tasks.render_statement"] * 2


def test_on_the_embedded_default_the_task_modules_are_loaded_once(db, no_broker, monkeypatch):
    loads = []
    monkeypatch.setattr(outbox, "_task_modules_loaded", False)
    monkeypatch.setattr(app.loader, "import_default_modules", lambda: loads.append(1))
    with transaction.atomic():
        outbox.enqueue(outbox.task("notifications.tasks.notify_case_event", 0))
        outbox.enqueue(outbox.task("notifications.tasks.notify_case_event", 0))
        transaction.set_rollback(True)  # nothing to run: only the loading is counted
    assert loads == [1]


def test_after_redis_restarts_the_next_action_publishes_at_once(
    broker_queue, private_redis, monkeypatch, cast, case_at
):
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", private_redis.url)
    first, second = case_at("triage"), case_at("triage", title="Second")
    assign_case_manager(case=first, actor=cast.manager, manager=cast.manager)
    assert private_redis.client().llen("celery") > 0
    private_redis.stop()
    private_redis.start()  # the publisher's kept connection is now stale
    assign_case_manager(case=second, actor=cast.manager, manager=cast.manager)
    assert not PendingTask.objects.exists()
    assert private_redis.client().llen("celery") == 3


def test_operators_see_the_waiting_work_in_the_admin(db, client, django_user_model):
    PendingTask.objects.create(
        task_name="notifications.tasks.notify_case_event",
        args=[7],
        attempts=2,
        last_error="refused",
    )
    root = django_user_model.objects.create_superuser(email="root@caisi.example", password="x")
    client.force_login(root)
    page = client.get("/admin/core/pendingtask/")
    assert page.status_code == 200
    assert "notifications.tasks.notify_case_event" in page.content.decode()


def test_a_call_the_outbox_cannot_carry_whole_is_refused(db):
    from notifications.tasks import notify_case_event

    for signature in [
        notify_case_event.s(event_id=1),
        notify_case_event.s(1).set(countdown=30),
    ]:
        with pytest.raises(ValueError, match="positional arguments only"):
            outbox.enqueue(signature)
    assert not PendingTask.objects.exists()
