"""The verification page names every statement status in plain words, with its dated history."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from review import demo
from review.services import (
    issue_clearance,
    reinstate_clearance,
    resubmit,
    revoke_clearance,
    share_findings,
    suspend_clearance,
)
from submissions.models import ModelVersion
from tests.incidents.helpers import incident_on, released

REASON = "A critical incident involving hospital patients is under review."


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    from django.core.cache import cache

    cache.clear()


def page(client, statement) -> str:
    response = client.get(reverse("verify", kwargs={"code": statement.verification_code}))
    assert response.status_code == 200
    return response.content.decode()


def status_box(text: str) -> str:
    start = text.index('data-testid="verification-status"')
    return text[start : text.index("</div>", start)]


def test_valid(client, case_at, cast):
    statement = released(case_at, cast).clearance_statements.get()
    text = page(client, statement)
    assert "Valid" in status_box(text)
    assert "Released since" in text


def test_suspended_shows_the_date_and_never_the_reason(client, case_at, cast):
    case = released(case_at, cast)
    incident_on(case, cast.liaison, summary="Patients were given wrong dosages.")
    suspend_clearance(case=case, actor=cast.official, reason=REASON, incident=1)
    statement = case.clearance_statements.get()
    text = page(client, statement)
    box = status_box(text)
    assert "Suspended" in box and "Valid" not in box
    assert f"Suspended on {timezone.localdate():%B %-d, %Y}" in text
    assert REASON not in text
    assert "dosages" not in text


def test_reinstated_is_valid_with_its_history(client, case_at, cast):
    case = released(case_at, cast)
    suspend_clearance(case=case, actor=cast.official, reason=REASON)
    reinstate_clearance(case=case, actor=cast.official, reason="Remediation verified.")
    text = page(client, case.clearance_statements.get())
    assert "Valid" in status_box(text)
    history = text[text.index('data-testid="history"') :]
    assert history.index("Issued") < history.index("Suspended") < history.index("Reinstated")
    assert "Remediation verified." not in text


def test_superseded(client, case_at, cast):
    case = case_at("cleared")
    first = case.clearance_statements.get()
    demo.revise(case, cast.liaison, label="v1.1")
    resubmit(case=case, actor=cast.liaison)
    demo.record_evaluation(case, cast.evaluator)
    share_findings(case=case, actor=cast.manager)
    demo.resolve_findings(case, cast.manager)
    issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="Atlas v1.1.",
    )
    text = page(client, first)
    assert "Superseded" in status_box(text)
    assert "Superseded on" in text


def test_revoked(client, case_at, cast):
    case = released(case_at, cast)
    revoke_clearance(case=case, actor=cast.official, reason=REASON)
    text = page(client, case.clearance_statements.get())
    assert "Revoked" in status_box(text)
    assert REASON not in text


def test_expired_once_the_validity_period_is_over(client, case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        version=ModelVersion.objects.under_test(case),
        actor=cast.official,
        scope="Atlas.",
        valid_until=timezone.localdate() + dt.timedelta(days=30),
    )
    statement = case.clearance_statements.get()
    assert "Valid" in status_box(page(client, statement))
    with time_machine.travel(timezone.now() + dt.timedelta(days=32)):
        text = page(client, statement)
    assert "Expired" in status_box(text)
    assert "Valid" not in status_box(text)
    assert "Expired on" in text


def test_a_suspended_statement_that_expires_says_expired(client, case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        version=ModelVersion.objects.under_test(case),
        actor=cast.official,
        scope="Atlas.",
        valid_until=timezone.localdate() + dt.timedelta(days=10),
    )
    suspend_clearance(case=case, actor=cast.official, reason=REASON)
    with time_machine.travel(timezone.now() + dt.timedelta(days=12)):
        assert "Expired" in status_box(page(client, case.clearance_statements.get()))
        # An expired statement cannot be put back in force.
        with pytest.raises(ActionRefused, match="no suspended clearance statement"):
            reinstate_clearance(case=case, actor=cast.official, reason="Too late.")
