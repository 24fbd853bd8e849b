"""`/healthz`: database, broker and a live worker, as JSON, for staff and API tokens.

The detail goes to signed-in CAISI staff and to a valid API token; the tests of
the detail ask as one of them. Anyone else gets the status alone, cached.
"""

import datetime as dt
import socket
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import create_api_token, revoke_api_token
from caisi_portal.celery import app
from core.models import PendingTask


@pytest.fixture(autouse=True)
def fresh_public_answer(settings):
    """Each test sees its own portal's state, not an answer cached by the one before."""
    settings.HEALTHZ_PUBLIC_SECONDS = 0


@pytest.fixture
def staff_client(auditor):
    """A signed-in CAISI staff member (second factor passed): sees the detail."""
    client = Client()
    client.force_login(auditor)
    return client


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_healthz_reports_database_broker_and_a_live_worker(staff_client):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        body = staff_client.get("/healthz").json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["workers"] == {"ok": True, "count": 1}
    assert body["outbox"] == {"ok": True, "waiting": 0, "oldest_seconds": 0}
    assert body["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_work_left_waiting_in_the_outbox(staff_client, settings):
    client = staff_client
    settings.OUTBOX_DRAIN_SECONDS = 60
    now = timezone.now()
    PendingTask.objects.create(task_name="notifications.tasks.notify_case_event", args=[1])
    fresh = client.get("/healthz").json()["outbox"]
    assert fresh["ok"] is True and fresh["waiting"] == 1
    PendingTask.objects.create(
        task_name="deadlines.tasks.sync_case_deadlines",
        args=[1],
        created_at=now - dt.timedelta(minutes=5),
    )
    response = client.get("/healthz")
    assert response.status_code == 200  # delayed work, not an outage of the portal
    body = response.json()
    assert body["outbox"]["ok"] is False
    assert body["outbox"]["waiting"] == 2 and body["outbox"]["oldest_seconds"] >= 300
    assert body["status"] == "degraded"


@pytest.mark.django_db(transaction=True)
def test_healthz_without_workers_is_degraded_but_200(staff_client):
    response = staff_client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["workers"]["ok"] is False


@pytest.mark.django_db(transaction=True)
def test_healthz_with_the_broker_unreachable_reports_it(staff_client):
    original = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = staff_client.get("/healthz")
    finally:
        app.conf.broker_write_url = original
    assert response.status_code == 200
    assert response.json()["broker"]["ok"] is False


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_unreachable(client, auditor, shared_cache):
    # A token (from the shared cache, the database being down) asks for the detail.
    _, raw = create_api_token(user=auditor, name="monitoring")
    assert client.get("/healthz", **bearer(raw)).status_code == 200
    connection.close()
    original = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz", **bearer(raw))
        public = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert response.json()["status"] == "degraded"
    assert public.status_code == 503
    assert public.json() == {"status": "unavailable"}


# --- What the public gets ----------------------------------------------------------------


class CountingListener:
    """A TCP listener on 127.0.0.1 that counts the connections made to it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.mark.django_db(transaction=True)
def test_the_public_get_the_status_alone(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_public_requests_never_reach_the_broker(client):
    original = app.conf.broker_write_url
    with CountingListener() as broker:
        app.conf.broker_write_url = f"redis://127.0.0.1:{broker.port}/0"
        try:
            started = time.monotonic()
            for _ in range(10):
                assert client.get("/healthz").status_code == 200
            elapsed = time.monotonic() - started
        finally:
            app.conf.broker_write_url = original
        time.sleep(0.3)  # let the listener take any connection still on its way
    assert broker.connections == 0
    assert elapsed < 5


@pytest.mark.django_db(transaction=True)
def test_the_public_answer_is_reused_for_a_few_seconds(client, settings):
    settings.HEALTHZ_PUBLIC_SECONDS = 5
    assert client.get("/healthz").json() == {"status": "ok"}
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get("/healthz").json() == {"status": "ok"}
    assert len(queries.captured_queries) == 0


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_liaison_gets_the_public_answer(client, liaison):
    client.force_login(liaison)
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_a_valid_api_token_gets_the_detail(client, liaison):
    _, raw = create_api_token(user=liaison, name="monitoring")
    body = client.get("/healthz", **bearer(raw)).json()
    assert body["database"]["ok"] is True and "workers" in body


@pytest.mark.django_db(transaction=True)
def test_a_revoked_or_made_up_token_is_refused_clearly(client, liaison):
    token, raw = create_api_token(user=liaison, name="monitoring")
    revoke_api_token(actor=liaison, token=token)
    for header in (f"Bearer {raw}", "Bearer caisi_made-up", "Basic dXNlcjpwYXNz"):
        response = client.get("/healthz", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "database" not in response.json()
