"""`/healthz`: database, broker and a live worker, as JSON."""

import datetime as dt

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from caisi_portal.celery import app
from core.models import PendingTask


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_healthz_reports_database_broker_and_a_live_worker(client):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        body = client.get("/healthz").json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["workers"] == {"ok": True, "count": 1}
    assert body["outbox"] == {"ok": True, "waiting": 0, "oldest_seconds": 0}
    assert body["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_work_left_waiting_in_the_outbox(client, settings):
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
def test_healthz_without_workers_is_degraded_but_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["workers"]["ok"] is False


@pytest.mark.django_db(transaction=True)
def test_healthz_with_the_broker_unreachable_reports_it(client):
    original = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_write_url = original
    assert response.status_code == 200
    assert response.json()["broker"]["ok"] is False


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_unreachable(client):
    connection.close()
    original = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert response.json()["status"] == "degraded"
