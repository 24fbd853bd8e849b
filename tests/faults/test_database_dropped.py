"""The PostgreSQL connection dropped mid-request: a clean 503, nothing half-written, then recovery.

The request's own backend is terminated from a second connection with
`pg_terminate_backend`, after the action has already written its status and
its timeline event and just before it writes its last row (the outbox's).
"""

import contextlib
import time

import psycopg2
import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import create_api_token
from cases.models import Case, CaseEvent
from core.models import PendingTask
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)

LAST_WRITE = 'INSERT INTO "cases_pendingtask"'


def _admin_connection():
    settings = connection.settings_dict
    return psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )


class BackendCutter:
    """An execute wrapper that kills this connection's backend just before a given statement."""

    def __init__(self, before: str):
        self.before = before
        self.writes_seen: list[str] = []
        self.fired = False

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self.writes_seen.append(sql.split("(")[0][:60])
        if not self.fired and sql.startswith(self.before):
            self.fired = True
            pid = context["connection"].connection.get_backend_pid()
            admin = _admin_connection()
            admin.autocommit = True
            try:
                with admin.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    assert cursor.fetchone()[0], "the backend was not terminated"
                    for _ in range(100):  # until the backend has really gone
                        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                        if cursor.fetchone() is None:
                            break
                        time.sleep(0.02)
            finally:
                admin.close()
        return execute(sql, params, many, context)


@contextlib.contextmanager
def backend_cut_before(statement: str):
    cutter = BackendCutter(statement)
    with connection.execute_wrapper(cutter):
        yield cutter
    assert cutter.fired, f"no {statement} ran: the test proves nothing"


def _state(case: Case):
    case.refresh_from_db()
    return (
        case.status,
        case.case_manager_id,
        CaseEvent.objects.filter(case=case).count(),
        Notification.objects.filter(case=case).count(),
        PendingTask.objects.count(),
    )


def test_connection_lost_mid_action_gives_a_clean_503_and_saves_nothing(client, cast, case_at):
    case = case_at("triage")
    PendingTask.objects.all().delete()  # the setup's own leftovers, if the broker was slow
    before = _state(case)
    client.force_login(cast.manager)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "assign_case_manager"})

    with backend_cut_before(LAST_WRITE) as cutter:
        response = client.post(url, {"manager": cast.manager.pk})

    # The action had written the status and the timeline event when the connection dropped.
    assert any("cases_caseevent" in write for write in cutter.writes_seen), cutter.writes_seen
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "Traceback" not in page and "OperationalError" not in page
    assert _state(case) == before  # Django reconnects for these reads

    response = client.post(url, {"manager": cast.manager.pk})
    assert response.status_code == 302, response.content[:500]
    case.refresh_from_db()
    assert case.status == "access"
    assert case.case_manager_id == cast.manager.pk


def test_connection_lost_mid_api_action_gives_problem_details_and_saves_nothing(cast, case_at):
    case = case_at("triage")
    PendingTask.objects.all().delete()
    before = _state(case)
    _, raw = create_api_token(user=cast.manager, name="faults", read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/cases/{case.number}/actions/assign_case_manager/"

    with backend_cut_before(LAST_WRITE):
        response = api.post(url, {"manager": cast.manager.email}, format="json")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("/database-unavailable")
    assert "Nothing was saved" in problem["detail"]
    assert problem["instance"] == url
    assert _state(case) == before

    response = api.post(url, {"manager": cast.manager.email}, format="json")
    assert response.status_code == 200, response.content[:500]
    case.refresh_from_db()
    assert case.status == "access"


def test_connection_lost_while_reading_a_page_gives_a_503(client, cast, case_at):
    case = case_at("triage")
    client.force_login(cast.manager)
    cutter = BackendCutter('SELECT "cases_case"')
    with connection.execute_wrapper(cutter):
        response = client.get(case.get_absolute_url())
    assert cutter.fired
    assert response.status_code == 503
    assert client.get(case.get_absolute_url()).status_code == 200
