"""Statements rendered by a live Celery worker on Redis, against the real database."""

import hashlib
import subprocess
import sys

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from caisi_portal.celery import app
from clearance.models import NON_ENDORSEMENT, ClearanceStatement
from clearance.tasks import render_pending_statements, render_statement
from findings.models import Finding, FindingState
from review import demo
from review.services import issue_clearance
from submissions.models import ModelVersion

from .conftest import ROOT, queue_length, wait_for
from .helpers import pdf_text, signature_status

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCOPE = "Atlas as deployed behind the restricted API."


def rendered(statement: ClearanceStatement, timeout: float = 90) -> ClearanceStatement:
    def done():
        statement.refresh_from_db()
        return statement.pdf_sha256

    wait_for(done, timeout=timeout, message=f"{statement.number} was not rendered")
    return statement


def stored_statement_files() -> list[str]:
    if not default_storage.exists("statements"):
        return []
    return sorted(default_storage.listdir("statements")[1])


def test_worker_renders_signed_pdf_after_the_official_issues(
    live_worker, case_at, signing_identity
):
    case = case_at("cleared")  # the official issued the clearance; the worker renders it
    statement = rendered(case.clearance_statements.get())
    data = statement.pdf.read()
    assert hashlib.sha256(data).hexdigest() == statement.pdf_sha256
    text = pdf_text(data)
    assert NON_ENDORSEMENT in text
    assert statement.digest in text
    assert statement.verification_code in text
    status = signature_status(data, signing_identity.cert)
    assert status.intact and status.valid and status.trusted


def test_running_the_task_again_does_nothing(live_worker, case_at):
    statement = rendered(case_at("cleared").clearance_statements.get())
    before = (statement.pdf.name, statement.pdf_sha256, statement.pdf_rendered_at)
    render_statement.delay(statement.pk)
    render_statement.delay(statement.pk)
    render_pending_statements.delay()
    live_worker.wait_idle()
    statement.refresh_from_db()
    assert (statement.pdf.name, statement.pdf_sha256, statement.pdf_rendered_at) == before
    assert stored_statement_files() == [f"{statement.number}.pdf"]
    assert statement.case.events.filter(verb="statement_signed").count() == 1


def test_two_workers_given_the_same_statement_store_one_pdf(start_worker, case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    workers = [start_worker(), start_worker()]
    issue_clearance(
        case=case, actor=cast.official, version=ModelVersion.objects.under_test(case), scope=SCOPE
    )
    statement = case.clearance_statements.get()
    for _ in range(3):  # duplicates, as a sweep racing the first message would send
        render_statement.delay(statement.pk)
    rendered(statement)
    for worker in workers:
        worker.wait_idle()
    statement.refresh_from_db()
    assert stored_statement_files() == [f"{statement.number}.pdf"]
    assert case.events.filter(verb="statement_signed").count() == 1
    assert hashlib.sha256(statement.pdf.read()).hexdigest() == statement.pdf_sha256


def _add_shared_findings(case, evaluator, count: int) -> None:
    """Give the statement a long findings table, so rendering takes a while."""
    version = case.versions.filter(submitted_at__isnull=False).first()
    Finding.objects.bulk_create(
        [
            Finding(
                case=case,
                model_version=version,
                severity="low",
                category="other",
                title=f"Minor formatting inconsistency number {n}",
                description="Low-severity observation.",
                state=FindingState.RESOLVED,
                created_by=evaluator,
            )
            for n in range(count)
        ]
    )


def _render_in_progress(statement_id: int) -> bool:
    """Whether another session holds the statement's row lock, i.e. a render is under way.

    Read from pg_locks rather than by trying the lock: a probing lock would make
    the worker's NOWAIT lock fail and the worker give the render up.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class t ON t.oid = l.relation "
            "WHERE t.relname = %s AND l.mode = 'RowShareLock' AND l.granted "
            "AND l.pid <> pg_backend_pid()",
            [ClearanceStatement._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


def issue_and_kill_mid_render(start_worker, case_at, cast):
    """Issue a statement slow to render, SIGKILL its worker mid-render; return case, statement.

    Nothing of the render may exist afterwards, or the kill came too late to prove anything.
    """
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    _add_shared_findings(case, cast.evaluator, 400)
    first = start_worker()
    issue_clearance(
        case=case, actor=cast.official, version=ModelVersion.objects.under_test(case), scope=SCOPE
    )
    statement = case.clearance_statements.get()

    wait_for(lambda: _render_in_progress(statement.pk), timeout=60, interval=0.01)
    first.kill()

    statement.refresh_from_db()
    assert not statement.pdf, "the render finished before the kill; the test proves nothing"
    assert stored_statement_files() == []
    return case, statement


def test_worker_killed_mid_render_leaves_nothing_and_the_retry_makes_one_pdf(
    start_worker, case_at, cast
):
    case, statement = issue_and_kill_mid_render(start_worker, case_at, cast)
    assert not case.events.filter(verb="statement_signed").exists()

    start_worker()
    render_pending_statements.delay()
    rendered(statement)
    assert stored_statement_files() == [f"{statement.number}.pdf"]
    assert case.events.filter(verb="statement_signed").count() == 1
    assert hashlib.sha256(statement.pdf.read()).hexdigest() == statement.pdf_sha256


ISSUE_WITH_BROKER_DOWN = """
import sys
import django

django.setup()
from accounts.models import User
from cases.models import Case
from review.services import issue_clearance
from submissions.models import ModelVersion

case = Case.objects.get(number=sys.argv[1])
official = User.objects.get(email=sys.argv[2])
version = ModelVersion.objects.under_test(case)
issue_clearance(case=case, actor=official, version=version, scope=sys.argv[3])
"""


def _issue_with_broker_down(worker_env, case, official) -> subprocess.CompletedProcess:
    """Issue the clearance from a process whose broker is a closed port."""
    env = {**worker_env, "CELERY_BROKER_URL": "redis://127.0.0.1:1/3"}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", ISSUE_WITH_BROKER_DOWN, case.number, official.email, SCOPE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_clearance_issued_while_broker_down_gets_its_pdf_once_broker_is_back(
    worker_env, start_worker, case_at, cast
):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    app.control.purge()  # the setup's own notifications

    result = _issue_with_broker_down(worker_env, case, cast.official)

    case.refresh_from_db()
    assert case.status == "cleared", result.stderr
    statement = case.clearance_statements.get()
    assert not statement.pdf
    assert queue_length() == 0, "nothing can have reached the broker while it was down"

    worker = start_worker()  # the broker is back, and the periodic sweep runs
    render_pending_statements.delay()
    rendered(statement)
    render_pending_statements.delay()  # later sweeps find nothing to do
    worker.wait_idle()
    statement.refresh_from_db()
    assert stored_statement_files() == [f"{statement.number}.pdf"]
    assert case.events.filter(verb="statement_signed").count() == 1


def test_official_sees_no_error_when_the_broker_is_down(worker_env, case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    result = _issue_with_broker_down(worker_env, case, cast.official)
    assert result.returncode == 0, result.stderr[-6000:]
