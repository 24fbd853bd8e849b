"""Every kind of background work is a row that one sweep publishes again when its message is lost.

The broker "loses" a message here by a purge of the Redis queue after the
publish; the sweep then finds the row still pending past its grace period.
"""

import base64
import datetime as dt
import json

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from caisi_portal.celery import app
from cases.models import CaseEvent
from cases.services import post_message
from clearance.apps import STATEMENT_RENDER
from core import workrows
from notifications.apps import IMMEDIATE_EMAIL
from notifications.models import EmailState, Notification
from notifications.services import notify_event, set_preferences


@pytest.fixture
def broker(transactional_db):
    if app.conf.task_always_eager:
        pytest.skip("Needs CELERY_BROKER_URL pointing at Redis.")
    app.control.purge()
    yield
    app.control.purge()


def queued(task: str) -> list[list]:
    """Return the arguments of every message for this task waiting in the queue."""
    found = []
    for raw in redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == task:
            found.append(json.loads(base64.b64decode(message["body"]))[0])
    return found


def test_every_kind_of_background_work_is_registered_for_the_sweep(db):
    kinds = {w.name: w for w in workrows.registered()}
    assert set(kinds) >= {
        "reminder delivery",
        "webhook delivery",
        "immediate email",
        "statement render",
    }
    app.loader.import_default_modules()
    for work in kinds.values():
        work.model_class()  # names a real model
        assert work.task in app.tasks, work.task


def test_a_lost_immediate_email_is_published_again_once(broker, cast, case_at):
    case = case_at("triage")
    set_preferences(user=cast.liaison, choices={"message": "immediate"})
    message = post_message(case=case, actor=cast.manager, body="Please confirm the NDA.")
    event = CaseEvent.objects.get(case=case, verb="message_posted", details__message=message.pk)
    notify_event(event_id=event.pk)  # the worker's part, run here
    notice = Notification.objects.get(user=cast.liaison, kind="message")
    assert notice.email_state == EmailState.PENDING and notice.email_published_at is not None
    app.control.purge()  # the broker lost the email's message

    now = timezone.now()
    assert workrows.republish_lost(now=now)["immediate email"] == 0  # not lost yet
    later = now + IMMEDIATE_EMAIL.after + dt.timedelta(minutes=1)
    counts = workrows.republish_lost(now=later)
    assert counts["immediate email"] == 1
    assert workrows.republish_lost(now=later)["immediate email"] == 0  # claimed once
    assert queued("notifications.tasks.email_notification") == [[notice.pk]]


def test_statements_are_swept_on_their_own_schedule_not_twice(broker, cast, case_at):
    statement = case_at("cleared").clearance_statements.get()
    assert not statement.pdf
    app.control.purge()

    workrows.sweep_lost_work()  # the general sweep leaves statements to their own
    assert queued("clearance.tasks.render_statement") == []
    counts = workrows.republish_lost(kinds={STATEMENT_RENDER.name})
    assert counts == {"statement render": 1}
    assert queued("clearance.tasks.render_statement") == [[statement.pk]]
