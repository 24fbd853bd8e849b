"""The testing and clearance gates, with each kind of blocker, and how the case page shows them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from core.errors import ActionRefused
from findings import services
from findings.models import Category, EvaluationRun, FindingResponse, Severity
from review import demo
from review.services import gate_blockers, issue_clearance, share_findings
from submissions.models import ModelVersion


def test_testing_gate_wants_a_completed_run_on_the_version_under_test(testing_case, cast):
    assert gate_blockers(testing_case, "share_findings") == [
        "No completed evaluation run is recorded for version v1.0-rc1."
    ]
    run = services.record_evaluation_run(
        case=testing_case,
        actor=cast.evaluator,
        category=Category.HALLUCINATION,
        title="Long-context recall",
        status=EvaluationRun.RunStatus.RUNNING,
    )
    assert "Evaluation “Long-context recall” is still running." in gate_blockers(
        testing_case, "share_findings"
    )
    services.finish_evaluation_run(run=run, actor=cast.evaluator, status="completed")
    assert gate_blockers(testing_case, "share_findings") == []


def test_testing_gate_waits_for_open_clarification_requests(testing_case, cast):
    demo.record_evaluation(testing_case, cast.evaluator)
    request = services.ask_clarification(
        case=testing_case,
        actor=cast.evaluator,
        question="Is the safety filter on in the eval tenant?",
        due_date=timezone.localdate() + dt.timedelta(days=3),
    )
    with pytest.raises(ActionRefused, match="still open"):
        share_findings(case=testing_case, actor=cast.manager)
    services.answer_clarification(request=request, actor=cast.liaison, answer="Yes.")
    assert share_findings(case=testing_case, actor=cast.manager).status == "findings"


@pytest.fixture
def findings_case(testing_case, cast):
    """A case in findings with one high finding awaiting the company's answer."""
    demo.record_evaluation(testing_case, cast.evaluator, severity=Severity.HIGH)
    return share_findings(case=testing_case, actor=cast.manager)


def test_clearance_gate_names_each_unresolved_blocking_finding(findings_case, cast):
    finding = findings_case.findings.get()
    assert gate_blockers(findings_case, "issue_clearance") == [
        "High finding “Role-play prompts bypass the refusal policy” awaits the company's "
        "answer: it is neither verified fixed nor covered by an accepted mitigation or rationale."
    ]
    services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind="disputed", rationale="r", mitigation="m"
    )
    assert (
        "has an answer awaiting CAISI's review"
        in gate_blockers(findings_case, "issue_clearance")[0]
    )
    services.review_finding_response(finding=finding, actor=cast.manager, verdict="accepted")
    assert gate_blockers(findings_case, "issue_clearance") == []


def test_medium_and_lower_findings_do_not_hold_clearance(testing_case, cast):
    demo.record_evaluation(testing_case, cast.evaluator, severity=Severity.MEDIUM)
    case = share_findings(case=testing_case, actor=cast.manager)
    assert gate_blockers(case, "issue_clearance") == []


def test_clearance_gate_waits_for_open_clarification_requests(findings_case, cast):
    demo.resolve_findings(findings_case, cast.manager)
    services.ask_clarification(
        case=findings_case,
        actor=cast.manager,
        question="Confirm the release date.",
        due_date=timezone.localdate() + dt.timedelta(days=2),
    )
    blockers = gate_blockers(findings_case, "issue_clearance")
    assert len(blockers) == 1 and "Confirm the release date." in blockers[0]
    with pytest.raises(ActionRefused):
        issue_clearance(
            case=findings_case,
            actor=cast.official,
            version=ModelVersion.objects.under_test(findings_case),
            scope="API",
        )


def test_a_rejected_answer_blocks_again_until_a_new_one_is_accepted(findings_case, cast):
    finding = findings_case.findings.get()
    services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind="mitigated", mitigation="Filter"
    )
    services.review_finding_response(
        finding=finding, actor=cast.manager, verdict="rejected", note="Bypassed in 3 turns."
    )
    assert "awaits the company's answer" in gate_blockers(findings_case, "issue_clearance")[0]


def test_the_case_page_lists_the_blockers_with_links_and_then_shows_the_gate_clear(
    findings_case, cast, client
):
    finding = findings_case.findings.get()
    client.force_login(cast.official)
    body = client.get(findings_case.get_absolute_url()).content.decode()
    link = reverse("findings:finding", kwargs={"number": findings_case.number, "pk": finding.pk})
    assert 'data-testid="gate-blockers"' in body and f'href="{link}"' in body
    services.respond_to_finding(
        finding=finding,
        actor=cast.liaison,
        kind=FindingResponse.Kind.MITIGATED,
        mitigation="Output classifier.",
    )
    services.review_finding_response(finding=finding, actor=cast.manager, verdict="accepted")
    body = client.get(findings_case.get_absolute_url()).content.decode()
    assert 'data-testid="gate-clear"' in body and "ready for clearance" in body
    case = issue_clearance(
        case=findings_case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(findings_case),
        scope="API",
    )
    assert case.status == "cleared"


def test_case_page_queries_do_not_grow_with_findings_messages_and_requests(
    testing_case, cast, client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(testing_case.get_absolute_url()).status_code == 200
        return len(captured)

    client.force_login(cast.manager)
    demo.record_evaluation(testing_case, cast.evaluator)
    case_services.post_message(case=testing_case, actor=cast.manager, body="one")
    before = queries()
    for i in range(5):
        demo.record_evaluation(testing_case, cast.evaluator, severity=Severity.LOW)
        case_services.post_message(case=testing_case, actor=cast.liaison, body=f"m{i}")
        services.ask_clarification(
            case=testing_case,
            actor=cast.manager,
            question=f"q{i}",
            due_date=timezone.localdate() + dt.timedelta(days=3),
        )
    assert queries() == before
