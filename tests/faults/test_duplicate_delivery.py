"""The same task delivered twice: the second delivery has no effect.

Each message is published twice with the same task id and arguments, as a
broker redelivering it (or an outbox row published twice) would, to a live
worker; the notices, deadlines, webhook deliveries and the statement PDF stay
exactly as the first delivery left them.
"""

import uuid

import pytest

from cases.models import Case
from clearance.tasks import render_statement
from deadlines.models import Deadline
from deadlines.tasks import sync_case_deadlines
from notifications.models import Notification
from notifications.services import set_preferences
from notifications.tasks import email_notification, notify_case_event
from tests.api.test_webhooks import Receiver
from tests.clearance.test_worker import rendered, stored_statement_files
from webhooks.models import WebhookDelivery
from webhooks.services import register_webhook
from webhooks.tasks import deliver_webhook, dispatch_webhooks

from .conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def effects(cases: list[Case], statement) -> dict:
    """Everything the covered tasks write, in a form that compares."""
    statement.refresh_from_db()
    ids = [case.pk for case in cases]
    return {
        "notices": sorted(
            Notification.objects.filter(case_id__in=ids).values_list(
                "event_id", "user_id", "email_state", "emailed_at"
            )
        ),
        "deadlines": sorted(
            Deadline.objects.filter(case_id__in=ids).values_list(
                "case_id", "kind", "subject", "due_at", "satisfied_at"
            )
        ),
        "deliveries": sorted(
            WebhookDelivery.objects.values_list("webhook_id", "event_id", "status", "attempts")
        ),
        "events": sorted(
            (case.pk, case.events.count(), case.events.filter(verb="statement_signed").count())
            for case in cases
        ),
        "statement": (statement.pdf.name, statement.pdf_sha256, statement.pdf_rendered_at),
        "files": stored_statement_files(),
    }


def test_each_task_delivered_twice_has_one_effect(start_private_worker, settings, cast, case_at):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    with Receiver() as receiver:
        webhook, _ = register_webhook(owner=cast.liaison, url=receiver.url)
        set_preferences(user=cast.liaison, choices={"case_update": "immediate"})
        worker = start_private_worker(
            settings.CELERY_BROKER_URL, WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1"
        )
        cleared = case_at("cleared")
        waiting = case_at("access", title="Waiting for access")
        statement = rendered(cleared.clearance_statements.get(), timeout=60)
        event = cleared.events.get(to_status="cleared")
        wait_for(
            lambda: WebhookDelivery.objects.filter(
                webhook=webhook, event=event, status="delivered"
            ).exists(),
            message="the clearance was not delivered to the receiver",
        )
        worker.wait_idle()
        delivery = WebhookDelivery.objects.get(webhook=webhook, event=event)
        notice = Notification.objects.get(event=event, user=cast.liaison)
        assert notice.email_state == "sent"
        # The worker's console email backend writes each email to its log.
        emails_before = worker.log_path.read_text().count(f"To: {cast.liaison.email}")
        before = effects([cleared, waiting], statement)
        assert before["deadlines"], "no deadline rows: the check would prove nothing"
        assert emails_before >= 1
        recipients = [(event_id, user_id) for event_id, user_id, *_ in before["notices"]]
        assert len(recipients) == len(set(recipients)), "one notice per person and event"
        assert before["files"] == [f"{statement.number}.pdf"]
        assert len(receiver.events("cleared")) == 1

        sent = []
        for signature in (
            notify_case_event.s(event.pk),
            email_notification.s(notice.pk),
            dispatch_webhooks.s(event.pk),
            deliver_webhook.s(delivery.pk),
            sync_case_deadlines.s(cleared.pk),
            sync_case_deadlines.s(waiting.pk),
            render_statement.s(statement.pk),
        ):
            task_id = str(uuid.uuid4())
            signature.apply_async(task_id=task_id)
            signature.apply_async(task_id=task_id)
            sent.append((signature.task, task_id))
        worker.wait_idle()

        assert effects([cleared, waiting], statement) == before
        assert len(receiver.events("cleared")) == 1
    assert worker.log_path.read_text().count(f"To: {cast.liaison.email}") == emails_before
    log = worker.log_path.read_text()
    for name, task_id in sent:
        # Both copies reached the worker: the tasks themselves made the second harmless.
        assert log.count(f"{name}[{task_id}] received") == 2, name
