"""The reminder sweep works in batches: one claim statement, a few delivery messages."""

import base64
import datetime as dt
import json
from collections import Counter

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caisi_portal.celery import app
from deadlines import services as deadlines
from deadlines.models import Deadline, ReminderSent
from notifications.models import Notification
from tests.cases.helpers import sweep_at_once
from tests.clearance.conftest import (  # noqa: F401 - fixtures used below
    queue_length,
    signing_identity,
    start_worker,
    statement_settings,
    wait_for,
    worker_env,
)


def sync_all(cases):
    for case in cases:
        deadlines.sync_case_deadlines(case_id=case.pk)


def everything_due():
    return max(d.due_at for d in Deadline.objects.pending()) + dt.timedelta(hours=1)


def queued_deliveries() -> list[int]:
    """Return the reminder ids of every delivery message waiting in the queue."""
    ids = []
    for raw in redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("celery", 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "deadlines.tasks.deliver_reminders"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.extend(args[0])
    return ids


def sweep_queries(cases) -> int:
    sync_all(cases)
    moment = everything_due()
    with CaptureQueriesContext(connection) as queries:
        sent = deadlines.sweep_reminders(now=moment)
    assert sent == ReminderSent.objects.filter(deadline__case__in=cases).count() > 0
    return len(queries)


def test_sweep_queries_do_not_grow_with_the_reminders(case_at):
    alone = sweep_queries([case_at("triage", title="Alone")])
    many = sweep_queries([case_at("triage", title=f"Many {n}") for n in range(8)])
    assert many == alone
    # A select and its pauses, one update, one insert, the empty select, the lost-claim
    # read, and two savepoints (inside the test's transaction) per batch.
    assert alone <= 10


@pytest.mark.django_db(transaction=True)
def test_deliveries_are_published_in_chunks_and_delivered_by_a_worker(
    case_at,
    monkeypatch,
    start_worker,  # noqa: F811 - the fixture
):
    cases = [case_at("triage", title=f"Chunk {n}") for n in range(3)]
    sync_all(cases)
    monkeypatch.setattr(deadlines, "DELIVERY_CHUNK", 2)
    app.control.purge()

    sent = deadlines.sweep_reminders(now=everything_due())

    claimed = sorted(ReminderSent.objects.values_list("pk", flat=True))
    assert sent == len(claimed) >= 3
    assert queue_length() == -(-sent // 2)
    assert sorted(queued_deliveries()) == claimed
    start_worker()
    wait_for(
        lambda: not ReminderSent.objects.filter(delivered_at__isnull=True).exists(),
        message="the worker did not deliver every claimed reminder",
    )
    assert set(Notification.objects.values_list("reminder", flat=True)) == set(claimed)


@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_publish_was_lost_is_delivered_by_a_later_sweep(
    case_at,
    start_worker,  # noqa: F811 - the fixture
):
    cases = [case_at("triage", title="Lost publish")]
    sync_all(cases)
    moment = everything_due()
    app.control.purge()
    sent = deadlines.sweep_reminders(now=moment)
    assert sent >= 1
    # The broker lost the messages: nothing will deliver these claims.
    app.control.purge()
    assert deadlines.sweep_reminders(now=moment + dt.timedelta(minutes=1)) == 0
    assert queue_length() == 0  # too soon to call the publish lost

    later = moment + deadlines.REDELIVER_AFTER + dt.timedelta(minutes=1)
    assert deadlines.sweep_reminders(now=later) == 0
    assert sorted(queued_deliveries()) == sorted(ReminderSent.objects.values_list("pk", flat=True))
    start_worker()
    wait_for(
        lambda: not ReminderSent.objects.filter(delivered_at__isnull=True).exists(),
        message="the re-published reminders were not delivered",
    )
    notices = Notification.objects.filter(reminder__isnull=False).count()
    assert notices >= sent
    # Delivered: a later sweep publishes nothing again, and delivery twice adds nothing.
    deadlines.sweep_reminders(now=later + dt.timedelta(hours=1))
    assert queue_length() == 0
    for reminder in ReminderSent.objects.all():
        assert deadlines.deliver_reminder(reminder_id=reminder.pk) == 0
    assert Notification.objects.filter(reminder__isnull=False).count() == notices


@pytest.mark.django_db(transaction=True)
def test_four_sweepers_publish_each_claim_once(case_at):
    cases = [case_at("triage", title=f"Race {n}") for n in range(6)]
    sync_all(cases)
    moment = everything_due()
    expected = Deadline.objects.pending().count()
    app.control.purge()
    counts = sweep_at_once(moment, sweepers=4, batch=2)
    claimed = sorted(ReminderSent.objects.values_list("pk", flat=True))
    assert sum(counts) == expected == len(claimed)
    queued = queued_deliveries()
    assert [pk for pk, n in Counter(queued).items() if n > 1] == []
    assert sorted(queued) == claimed


@pytest.mark.django_db(transaction=True)
def test_a_lost_claim_is_published_again_once_a_window_not_on_every_sweep(case_at):
    sync_all([case_at("triage", title=f"Lost {n}") for n in range(3)])
    moment = everything_due()
    app.control.purge()
    deadlines.sweep_reminders(now=moment)
    claimed = sorted(ReminderSent.objects.values_list("pk", flat=True))
    assert claimed
    app.control.purge()  # the broker lost the first publish

    later = moment + deadlines.REDELIVER_AFTER + dt.timedelta(minutes=1)
    sweep_at_once(later, sweepers=4, batch=2)
    assert sorted(queued_deliveries()) == claimed  # once each, by one sweeper
    for minutes in (1, 5, 14):  # the sweeps after it, in the same window
        deadlines.sweep_reminders(now=later + dt.timedelta(minutes=minutes))
    assert sorted(queued_deliveries()) == claimed

    app.control.purge()  # lost again: the next window publishes it once more
    next_window = later + deadlines.REDELIVER_AFTER
    assert deadlines.redeliver_lost_reminders(now=next_window) == len(claimed)
    assert deadlines.redeliver_lost_reminders(now=next_window) == 0
    assert sorted(queued_deliveries()) == claimed


def test_a_chunk_reads_its_reminders_and_the_people_once(case_at):
    cases = [case_at("triage", title=f"Chunk read {n}") for n in range(4)]
    sync_all(cases)
    deadlines.sweep_reminders(now=everything_due())
    ids = sorted(ReminderSent.objects.values_list("pk", flat=True))
    assert len(ids) >= 8

    with CaptureQueriesContext(connection) as queries:
        assert deadlines.deliver_reminders(reminder_ids=ids) > 0
    sql = [q["sql"] for q in queries]
    assert len([s for s in sql if s.startswith("SELECT") and 'FROM "cases_remindersent"' in s]) == 1
    assert len([s for s in sql if "staff_role" in s]) == 1  # the case managers, once
    assert len([s for s in sql if 'FROM "accounts_membership"' in s]) == 1
    assert len([s for s in sql if s.startswith('UPDATE "cases_remindersent"')]) == 1
    assert not ReminderSent.objects.filter(delivered_at__isnull=True).exists()

    notices = Notification.objects.count()
    with CaptureQueriesContext(connection) as again:
        assert deadlines.deliver_reminders(reminder_ids=ids) == 0
    assert len(again) == 1  # every one delivered already: skipped
    assert Notification.objects.count() == notices
