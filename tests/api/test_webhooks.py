"""Webhooks: signed status-change events delivered by a live Celery worker on Redis."""

import base64
import datetime as dt
import importlib
import json
import secrets
import time

import pytest
import redis
from django.utils import timezone

from caisi_portal.celery import app
from cases import services
from cases.models import CaseEvent
from core import crypto, workrows
from review.services import suspend_clearance
from tests.api.receivers import Receiver, readme_verifier, verify_signature, wait_for
from tests.incidents.helpers import incident_on, released
from webhooks.apps import WEBHOOK_DELIVERY
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import (
    DeliveryOutcome,
    claim_webhook_deliveries,
    deliver_webhook,
    register_webhook,
    sign_webhook,
)


@pytest.fixture(autouse=True)
def receivers_on_this_host(settings):
    """The test receivers listen on 127.0.0.1, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.mark.worker
def test_status_change_reaches_the_receiver_signed_once(live_worker, cast, case_at):
    with Receiver() as receiver:
        webhook, secret = register_webhook(owner=cast.liaison, url=receiver.url)
        case = case_at("triage")
        wait_for(lambda: receiver.events("triage"), message="no triage event arrived")
        [request] = receiver.events("triage")
        assert verify_signature(request, secret)
        assert not verify_signature(request, "whsec_" + base64.b64encode(b"w" * 32).decode())
        assert not verify_signature(dict(request, body=request["body"] + b" "), secret)
        payload = request["json"]
        assert payload["type"] == "case.status_changed"
        assert payload["case"]["number"] == case.number
        assert (payload["from_status"], payload["to_status"]) == ("intake", "triage")
        assert payload["case"]["url"].endswith(f"/api/v1/cases/{case.number}/")
        delivery = WebhookDelivery.objects.get(webhook=webhook, event__to_status="triage")
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["webhook-id"] == payload["id"] == str(delivery.event_uid)
        assert headers["webhook-signature"].startswith("v1,")
        wait_for(
            lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists()
        )
        delivery.refresh_from_db()
        assert delivery.attempts == 1 and delivery.response_code == 204
        # Only status changes are announced: the intake edits and version were not.
        assert {r["json"]["to_status"] for r in receiver.events()} == {"intake", "triage"}


@pytest.mark.worker
def test_delivery_is_retried_after_the_receiver_fails_once(live_worker, cast):
    with Receiver(failures=1) as receiver:
        # The company's own hook: of a draft, staff hooks hear nothing.
        webhook, secret = register_webhook(owner=cast.liaison, url=receiver.url)
        case = services.open_case(actor=cast.liaison, title="Retry me", model_name="R")
        wait_for(lambda: len(receiver.events("intake")) == 2, message="no retry arrived")
        first, second = receiver.events("intake")
        assert first["json"]["id"] == second["json"]["id"]  # receivers can drop the repeat
        assert verify_signature(first, secret) and verify_signature(second, secret)
        delivery = WebhookDelivery.objects.get(webhook=webhook, event__case=case)
        wait_for(
            lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists()
        )
        delivery.refresh_from_db()
        assert delivery.attempts == 2 and delivery.delivered_at is not None
        time.sleep(1.5)  # nothing further arrives after success
        assert len(receiver.events("intake")) == 2


@pytest.mark.worker
def test_only_owners_who_may_see_the_case_receive_its_events(live_worker, cast):
    with Receiver() as acme, Receiver() as globex, Receiver() as outsider_staff:
        register_webhook(owner=cast.liaison, url=acme.url)
        register_webhook(owner=cast.other_liaison, url=globex.url)
        register_webhook(owner=cast.other_evaluator, url=outsider_staff.url)
        services.open_case(actor=cast.liaison, title="Acme only", model_name="A")
        wait_for(lambda: acme.events("intake"), message="the owner's receiver got nothing")
        time.sleep(1)
        assert globex.events() == [] and outsider_staff.events() == []
        assert WebhookDelivery.objects.count() == 1


def test_claiming_twice_sends_each_event_once(db, cast):
    with Receiver() as receiver:
        register_webhook(owner=cast.liaison, url=receiver.url)
        case = services.open_case(actor=cast.liaison, title="Once", model_name="O")
        event = CaseEvent.objects.get(case=case, verb="case_opened")
        claimed = claim_webhook_deliveries(event_id=event.pk)
        assert len(claimed) == 1
        assert claim_webhook_deliveries(event_id=event.pk) == []
        assert deliver_webhook(delivery_id=claimed[0]) == DeliveryOutcome.DELIVERED
        assert deliver_webhook(delivery_id=claimed[0]) == DeliveryOutcome.NOTHING_TO_DO
        assert len(receiver.events()) == 1


def test_delivery_gives_up_after_the_last_attempt(db, cast, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(failures=5) as receiver:
        register_webhook(owner=cast.liaison, url=receiver.url)
        case = services.open_case(actor=cast.liaison, title="Down", model_name="D")
        event = CaseEvent.objects.get(case=case, verb="case_opened")
        [delivery_id] = claim_webhook_deliveries(event_id=event.pk)
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.GAVE_UP
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.status == "failed" and delivery.response_code == 503
        assert "503" in delivery.last_error
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.NOTHING_TO_DO


def test_webhook_url_must_be_http(db, cast):
    from core.errors import ActionRefused

    with pytest.raises(ActionRefused):
        register_webhook(owner=cast.liaison, url="file:///etc/passwd")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://192.168.0.7:9000/hook",
    ],
)
def test_a_receiver_inside_the_network_is_refused(db, cast, settings, url):
    from core.errors import ActionRefused

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ActionRefused, match="public internet"):
        register_webhook(owner=cast.liaison, url=url)
    assert not cast.liaison.webhooks.exists()


def test_a_name_that_comes_to_point_inside_is_not_sent_to(db, cast, settings):
    """Registered while allowed (or while its name pointed outside), refused at delivery."""
    with Receiver() as receiver:
        register_webhook(owner=cast.liaison, url=receiver.url)
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        case = services.open_case(actor=cast.liaison, title="Inside", model_name="I")
        event = CaseEvent.objects.get(case=case, verb="case_opened")
        [delivery_id] = claim_webhook_deliveries(event_id=event.pk)
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.GAVE_UP
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.status == "failed"
        assert delivery.last_error == "The receiver's address is not public."
        assert receiver.events() == []


def queued(task: str) -> list[list]:
    """Return the arguments of every message for this task waiting in the Redis queue."""
    found = []
    for raw in redis.Redis.from_url(app.conf.broker_url).lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == task:
            found.append(json.loads(base64.b64decode(message["body"]))[0])
    return found


@pytest.mark.django_db(transaction=True)
def test_a_claimed_delivery_whose_message_was_lost_is_sent_by_the_sweep(cast):
    """A delivery claimed but never sent (its message lost) is published again, once."""
    if app.conf.task_always_eager:
        pytest.skip("needs CELERY_BROKER_URL pointing at Redis")
    with Receiver() as receiver:
        case = services.open_case(actor=cast.liaison, title="Lost", model_name="L")
        register_webhook(owner=cast.liaison, url=receiver.url)
        event = CaseEvent.objects.get(case=case, verb="case_opened")
        [delivery_id] = claim_webhook_deliveries(event_id=event.pk)
        app.control.purge()  # the broker lost what was sent so far
        now = timezone.now()

        assert workrows.republish_lost(now=now)["webhook delivery"] == 0  # not lost yet
        later = now + WEBHOOK_DELIVERY.after + dt.timedelta(minutes=1)
        assert workrows.republish_lost(now=later)["webhook delivery"] == 1
        assert workrows.republish_lost(now=later)["webhook delivery"] == 0  # claimed once
        assert queued("webhooks.tasks.deliver_webhook") == [[delivery_id]]

        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.DELIVERED
        assert len(receiver.events()) == 1
        assert (
            workrows.republish_lost(now=later + WEBHOOK_DELIVERY.after * 2)["webhook delivery"] == 0
        )


def test_a_retry_waiting_its_turn_is_not_taken_for_lost(db, cast, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600
    with Receiver(failures=1) as receiver:
        register_webhook(owner=cast.liaison, url=receiver.url)
        case = services.open_case(actor=cast.liaison, title="Later", model_name="L")
        event = CaseEvent.objects.get(case=case, verb="case_opened")
        WebhookDelivery.objects.filter(event=event).delete()
        [delivery_id] = claim_webhook_deliveries(event_id=event.pk)
        assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.RETRY
        soon = timezone.now() + WEBHOOK_DELIVERY.after + dt.timedelta(minutes=1)
        assert workrows.claim_lost(WEBHOOK_DELIVERY, now=soon) == []
        after_retry = timezone.now() + dt.timedelta(hours=1) + WEBHOOK_DELIVERY.after
        assert workrows.claim_lost(WEBHOOK_DELIVERY, now=after_retry) == [delivery_id]
        assert len(receiver.events()) == 1


def test_deployment_statement_and_incident_changes_are_announced_with_their_type(db, cast, case_at):
    case = released(case_at, cast)
    with Receiver() as receiver:
        register_webhook(owner=cast.liaison, url=receiver.url)
        incident_on(case, cast.liaison)
        suspend_clearance(case=case, actor=cast.official, reason="Under review.")
        services.post_message(case=case, actor=cast.manager, body="A question.")
        for verb in ("report_release", "incident_reported", "suspend_clearance"):
            event = CaseEvent.objects.get(case=case, verb=verb)
            [delivery_id] = claim_webhook_deliveries(event_id=event.pk)
            assert deliver_webhook(delivery_id=delivery_id) == DeliveryOutcome.DELIVERED
        message = CaseEvent.objects.get(case=case, verb="message_posted")
        assert claim_webhook_deliveries(event_id=message.pk) == []
        types = [(r["json"]["action"], r["json"]["type"]) for r in receiver.events()]
    assert types == [
        ("report_release", "deployment.status_changed"),
        ("incident_reported", "incident.reported"),
        ("suspend_clearance", "clearance.status_changed"),
    ]


# --- Standard Webhooks: secrets, and what receivers check -----------------------------------


def test_a_new_secret_is_whsec_and_standard_base64_of_a_32_byte_key(db, cast):
    _, secret = register_webhook(owner=cast.liaison, url="https://hooks.example/caisi")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_the_readme_verifier_refuses_a_replay_and_a_missing_header(db, cast):
    verify = readme_verifier()
    _, secret = register_webhook(owner=cast.liaison, url="https://hooks.example/caisi")
    body = b'{"id":"x"}'
    old = str(int(time.time()) - 3600)
    signature = sign_webhook(secret=secret, message_id="x", timestamp=old, body=body)
    stale = {"Webhook-Id": "x", "Webhook-Timestamp": old, "Webhook-Signature": signature}
    assert not verify(secret, stale, body)
    now = str(int(time.time()))
    fresh = {
        "Webhook-Id": "x",
        "Webhook-Timestamp": now,
        "Webhook-Signature": sign_webhook(secret=secret, message_id="x", timestamp=now, body=body),
    }
    assert verify(secret, fresh, body)
    assert not verify(secret, {k: v for k, v in fresh.items() if k != "Webhook-Id"}, body)
    assert not verify(secret, {}, body)


@pytest.mark.django_db(transaction=True)
def test_a_secret_of_the_old_scheme_is_migrated_to_the_same_key_in_standard_base64(cast):
    from django.apps import apps as installed
    from django.db import connection

    migration = importlib.import_module("webhooks.migrations.0003_secret_standard_and_test_event")
    old_secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(
        owner=cast.liaison,
        url="https://hooks.example/old",
        secret_encrypted=crypto.encrypt(old_secret),
    )
    migration.standard_secrets(installed, connection.schema_editor())
    webhook.refresh_from_db()
    migrated = crypto.decrypt(webhook.secret_encrypted)
    # The README's rewriting of the secret the owner holds gives exactly the stored one.
    rewritten = (
        "whsec_" + base64.b64encode(base64.urlsafe_b64decode(old_secret[6:] + "==")).decode()
    )
    assert migrated == rewritten != old_secret
    migration.standard_secrets(installed, connection.schema_editor())  # twice: unchanged
    webhook.refresh_from_db()
    assert crypto.decrypt(webhook.secret_encrypted) == migrated


# --- the embedded default: no worker, deliveries in the background --------------------------


def test_on_the_embedded_default_a_failing_receiver_is_retried_on_schedule(embedded_default, cast):
    with Receiver(failures=2) as receiver:
        webhook, secret = register_webhook(owner=cast.liaison, url=receiver.url)
        case = services.open_case(actor=cast.liaison, title="Retry here", model_name="R")
        wait_for(lambda: len(receiver.events("intake")) == 3, message="no third try arrived")
        delivery = WebhookDelivery.objects.get(webhook=webhook, event__case=case)
        wait_for(
            lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists()
        )
        delivery.refresh_from_db()
        assert delivery.attempts == 3 and delivery.response_code == 204
        first, second, third = (r["at"] for r in receiver.requests)
        # Doubling waits from WEBHOOK_RETRY_BASE_SECONDS (1 s): about 1 s, then about 2 s.
        assert 0.9 <= second - first < 2.5
        assert 1.9 <= third - second < 3.5
        assert all(verify_signature(r, secret) for r in receiver.requests)
        assert len({json.loads(r["body"])["id"] for r in receiver.requests}) == 1


def test_on_the_embedded_default_a_slow_receiver_does_not_slow_the_request(
    embedded_default, cast, client_for
):
    with Receiver(delay=3) as receiver:
        register_webhook(owner=cast.liaison, url=receiver.url)
        client = client_for(cast.liaison)
        started = time.monotonic()
        answer = client.post("/api/v1/cases/", {"title": "Fast", "model_name": "F"}, format="json")
        took = time.monotonic() - started
        assert answer.status_code == 201, answer.content
        assert took < 1.5, f"the request waited {took:.2f} s on the receiver"
        wait_for(lambda: receiver.events("intake"), message="the event never arrived")
        assert WebhookDelivery.objects.filter(status__in=["pending", "delivered"]).count() == 1
