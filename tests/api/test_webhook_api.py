"""Managing webhooks through the API: register, list, rotate the secret, test, delete.

A token manages its own person's webhooks; anyone else's is a 404, and a
read-only token changes none. The test event is really sent, to a receiver on
this host, and checked with the `standardwebhooks` library.
"""

import json

import pytest
import standardwebhooks

from tests.api.receivers import Receiver, verify_signature, wait_for
from tests.api.roles import ROLES, expect, problem
from webhooks.models import Webhook
from webhooks.services import deactivate_webhook, register_webhook

RECEIVER = "https://hooks.example/caisi"


@pytest.fixture(autouse=True)
def receivers_on_this_host(settings):
    """The test receivers listen on 127.0.0.1, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def test_webhooks_list_as_liaison_without_secrets(db, cast, api_as):
    register_webhook(owner=cast.liaison, url=RECEIVER)
    register_webhook(owner=cast.manager, url="https://hooks.example/desk")
    body = expect(api_as("liaison").get("/api/v1/webhooks/"), 200)
    assert [hook["url"] for hook in body] == [RECEIVER]
    assert "secret" not in body[0] and "secret_encrypted" not in body[0]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_registers_its_own_webhook_but_a_read_only_token(role, db, people, api_as):
    answer = api_as(role).post("/api/v1/webhooks/", {"url": RECEIVER}, format="json")
    if role == "service_read_only":
        problem(answer, 403)
        assert not Webhook.objects.exists()
        return
    body = expect(answer, 201)
    assert body["secret"].startswith("whsec_")
    standardwebhooks.Webhook(body["secret"])  # a secret the library takes as it is
    webhook = Webhook.objects.get(pk=body["id"])
    assert webhook.owner == people[role] and webhook.url == RECEIVER
    listed = expect(api_as(role).get("/api/v1/webhooks/"), 200)
    assert [hook["id"] for hook in listed] == [webhook.pk]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"url": ""},
        {"url": "not a url"},
        {"url": "ftp://hooks.example/caisi"},
        {"url": "https://hooks.example/" + "x" * 500},
        {"url": ["https://hooks.example/caisi"]},
    ],
)
def test_a_receiver_url_that_cannot_be_accepted_is_a_400(payload, db, api_as):
    problem(api_as("liaison").post("/api/v1/webhooks/", payload, format="json"), 400)
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("role", [r for r in ROLES if r != "liaison"])
def test_someone_elses_webhook_is_a_404_whatever_is_asked(role, db, cast, api_as):
    webhook, _ = register_webhook(owner=cast.liaison, url=RECEIVER)
    client = api_as(role)
    base = f"/api/v1/webhooks/{webhook.pk}/"
    problem(client.get(base), 404 if role != "service_read_only" else 403)
    problem(client.delete(base), 404 if role != "service_read_only" else 403)
    problem(client.post(f"{base}rotate-secret/"), 404 if role != "service_read_only" else 403)
    problem(client.post(f"{base}test/"), 404 if role != "service_read_only" else 403)
    webhook.refresh_from_db()
    assert webhook.test_requested_at is None


def test_a_read_only_token_neither_rotates_tests_nor_deletes(db, service_account, api_as):
    webhook, secret = register_webhook(owner=service_account, url=RECEIVER)
    client, base = api_as("service_read_only"), f"/api/v1/webhooks/{webhook.pk}/"
    # The token reads case status only: its own account's webhook is no exception.
    for answer in (
        client.get(base),
        client.delete(base),
        client.post(f"{base}rotate-secret/"),
        client.post(f"{base}test/"),
    ):
        assert "token" in problem(answer, 403)["detail"]
    webhook.refresh_from_db()
    assert webhook.test_requested_at is None
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_a_deleted_webhook_is_gone_with_its_log(db, cast, api_as):
    webhook, _ = register_webhook(owner=cast.liaison, url=RECEIVER)
    client, base = api_as("liaison"), f"/api/v1/webhooks/{webhook.pk}/"
    answer = client.delete(base)
    assert answer.status_code == 204 and not answer.content
    assert not Webhook.objects.filter(pk=webhook.pk).exists()
    problem(client.get(base), 404)
    problem(client.delete(base), 404)
    assert expect(client.get("/api/v1/webhooks/"), 200) == []


def test_a_test_event_to_a_turned_off_webhook_is_a_409(db, cast, api_as):
    webhook, _ = register_webhook(owner=cast.liaison, url=RECEIVER)
    deactivate_webhook(actor=cast.liaison, webhook=webhook)
    problem(api_as("liaison").post(f"/api/v1/webhooks/{webhook.pk}/test/"), 409)


def request_test(client, webhook_id: int) -> dict:
    body = expect(client.post(f"/api/v1/webhooks/{webhook_id}/test/"), 202)
    assert body["last_test"]["requested_at"] and body["last_test"]["sent_at"] is None
    return body


def last_test(client, webhook_id: int) -> dict:
    return expect(client.get(f"/api/v1/webhooks/{webhook_id}/"), 200)["last_test"]


def check_test_event_arrives_signed(client, receiver):
    created = expect(client.post("/api/v1/webhooks/", {"url": receiver.url}, format="json"), 201)
    request_test(client, created["id"])
    wait_for(lambda: receiver.requests, message="the test event never arrived")
    wait_for(lambda: last_test(client, created["id"])["sent_at"], message="no outcome recorded")
    [delivery] = receiver.requests
    assert verify_signature(delivery, created["secret"])
    event = json.loads(delivery["body"])
    assert event["type"] == "webhook.test" and event["webhook"] == created["id"]
    assert delivery["headers"]["webhook-id"] == event["id"]
    outcome = last_test(client, created["id"])
    assert outcome["response_code"] == 204 and outcome["error"] == ""


@pytest.mark.worker
def test_a_test_event_is_delivered_signed_by_the_worker(live_worker, api_as):
    with Receiver() as receiver:
        check_test_event_arrives_signed(api_as("liaison"), receiver)


def test_a_test_event_is_delivered_signed_on_the_embedded_default(embedded_default, api_as):
    with Receiver() as receiver:
        check_test_event_arrives_signed(api_as("case_manager"), receiver)


def test_a_failing_receiver_is_named_in_the_last_test(embedded_default, api_as):
    client = api_as("liaison")
    with Receiver(failures=1) as receiver:
        created = expect(
            client.post("/api/v1/webhooks/", {"url": receiver.url}, format="json"), 201
        )
        request_test(client, created["id"])
        wait_for(lambda: last_test(client, created["id"])["sent_at"], message="no outcome")
    outcome = last_test(client, created["id"])
    assert outcome["response_code"] == 503 and "503" in outcome["error"]
    assert len(receiver.requests) == 1  # a test event is sent once, never retried


def test_after_rotating_only_the_new_secret_verifies(embedded_default, api_as):
    client = api_as("liaison")
    with Receiver() as receiver:
        created = expect(
            client.post("/api/v1/webhooks/", {"url": receiver.url}, format="json"), 201
        )
        rotated = expect(client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/"), 200)
        assert rotated["id"] == created["id"]
        assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
        request_test(client, created["id"])
        wait_for(lambda: receiver.requests, message="the test event never arrived")
    [delivery] = receiver.requests
    assert verify_signature(delivery, rotated["secret"])
    assert not verify_signature(delivery, created["secret"])
    assert "secret" not in expect(client.get(f"/api/v1/webhooks/{created['id']}/"), 200)
