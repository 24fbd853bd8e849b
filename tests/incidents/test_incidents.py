"""Incidents, monitoring reports and material changes through the services."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from cases.models import CaseEvent
from cases.status import DeploymentStatus, Status
from clearance.models import ClearanceStatement
from core.errors import ActionRefused, BadInput, NotAllowed
from incidents import services
from incidents.models import MaterialChange, ReportState, TriageState
from review import demo
from review.services import (
    declare_material_change,
    issue_clearance,
    reinstate_clearance,
    report_release,
    require_resubmission,
    resubmit,
    retire_deployment,
    share_findings,
    suspend_clearance,
    suspend_deployment,
)
from submissions.models import ModelVersion
from tests.incidents.helpers import incident_on, released

Statement = ClearanceStatement.StatementStatus


def test_company_reports_an_incident_on_a_released_model_as_its_initial_report(case_at, cast):
    case = released(case_at, cast)
    incident = incident_on(case, cast.liaison, severity="critical")
    assert incident.number == 1
    assert incident.initial_report_at is not None
    assert incident.triage_state == TriageState.REPORTED
    last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert (last.verb, last.details) == (
        "incident_reported",
        {"incident": 1, "severity": "critical"},
    )
    assert incident_on(case, cast.manager).number == 2


def test_an_incident_on_a_model_not_yet_released_is_refused(case_at, cast):
    case = case_at("cleared")
    with pytest.raises(ActionRefused, match="report the release first"):
        incident_on(case, cast.liaison)
    assert not case.incidents.exists()


def test_an_incident_on_a_case_under_review_is_refused(case_at, cast):
    case = case_at("testing")
    with pytest.raises(ActionRefused, match="cleared model"):
        incident_on(case, cast.liaison)


def test_auditor_cannot_report_an_incident(case_at, cast):
    case = released(case_at, cast)
    with pytest.raises(NotAllowed):
        incident_on(case, cast.auditor)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("summary", "   ", "Say what happened"),
        ("severity", "catastrophic", "Choose the severity"),
        ("summary", "x" * 10_001, "longer than"),
        ("users_affected", "9" * 201, "at most 200"),
    ],
)
def test_an_incident_report_with_bad_input_is_refused_whole(case_at, cast, field, value, message):
    case = released(case_at, cast)
    with pytest.raises(BadInput, match=message):
        incident_on(case, cast.liaison, **{field: value})
    assert not case.incidents.exists()


def test_a_detection_time_in_the_future_is_refused(case_at, cast):
    case = released(case_at, cast)
    with pytest.raises(BadInput, match="in the future"):
        incident_on(case, cast.liaison, hours_ago=-48)


def test_triage_closes_only_with_a_conclusion_and_only_by_caisi(case_at, cast):
    case = released(case_at, cast)
    incident = incident_on(case, cast.liaison)
    with pytest.raises(NotAllowed):
        services.triage_incident(incident=incident, actor=cast.liaison, state="acknowledged")
    with pytest.raises(BadInput, match="conclusion"):
        services.triage_incident(incident=incident, actor=cast.manager, state="closed")
    services.triage_incident(incident=incident, actor=cast.manager, state="acknowledged")
    services.triage_incident(incident=incident, actor=cast.official, state="under_review")
    closed = services.triage_incident(
        incident=incident, actor=cast.manager, state="closed", conclusion="Mitigated in time."
    )
    assert (closed.triage_state, closed.conclusion) == ("closed", "Mitigated in time.")
    assert closed.closed_at is not None
    with pytest.raises(ActionRefused, match="closed"):
        services.update_incident(incident=closed, actor=cast.liaison, body="One more thing.")


def test_the_final_report_needs_the_resolution_and_comes_once(case_at, cast):
    case = released(case_at, cast)
    incident = incident_on(case, cast.liaison)
    with pytest.raises(ActionRefused, match="resolved"):
        services.update_incident(incident=incident, actor=cast.liaison, body="Done.", final=True)
    updated = services.update_incident(
        incident=incident,
        actor=cast.liaison,
        body="Filter deployed everywhere.",
        resolved=True,
        mitigations="Filter deployed to all regions.",
    )
    assert updated.resolved_at is not None and updated.final_report_at is None
    assert updated.mitigations == "Filter deployed to all regions."
    final = services.update_incident(
        incident=updated, actor=cast.liaison, body="Root cause and lessons.", final=True
    )
    assert final.final_report_at is not None
    with pytest.raises(ActionRefused, match="final report is in"):
        services.update_incident(incident=final, actor=cast.liaison, body="Again.", final=True)


def test_an_update_cannot_rewrite_what_was_first_reported(case_at, cast):
    case = released(case_at, cast)
    incident = incident_on(case, cast.liaison, severity="high")
    with pytest.raises(BadInput, match="cannot change the severity"):
        services.update_incident(
            incident=incident, actor=cast.liaison, body="Downgrade.", severity="low"
        )


def test_a_suspension_names_the_incident_it_answers(case_at, cast):
    case = released(case_at, cast)
    incident_on(case, cast.liaison, severity="critical")
    case = suspend_clearance(
        case=case, actor=cast.official, reason="Critical incident under review.", incident=1
    )
    incident = case.incidents.get(number=1)
    assert incident.response_action == "suspend_clearance"
    assert case.events.order_by("-seq").first().details["incident"] == 1
    with pytest.raises(ActionRefused, match="no incident 7"):
        suspend_deployment(case=case, actor=cast.liaison, reason="Remediation.", incident=7)
    case.refresh_from_db()
    assert case.deployment_status == DeploymentStatus.RELEASED


def test_suspension_and_reinstatement_keep_the_statement_and_its_history(case_at, cast):
    case = released(case_at, cast)
    statement = case.clearance_statements.get()
    pdf_sha = statement.pdf_sha256
    suspend_clearance(case=case, actor=cast.official, reason="Incident under review.")
    statement.refresh_from_db()
    assert statement.live_status == Statement.SUSPENDED
    with pytest.raises(ActionRefused, match="no valid clearance statement"):
        suspend_clearance(case=case, actor=cast.official, reason="Again.")
    reinstate_clearance(case=case, actor=cast.official, reason="Remediation verified.")
    statement.refresh_from_db()
    assert statement.live_status == Statement.ISSUED
    assert statement.pdf_sha256 == pdf_sha  # never rendered again
    assert list(statement.history.values_list("change", flat=True)) == [
        "issued",
        "suspended",
        "reinstated",
    ]
    with pytest.raises(ActionRefused, match="no suspended clearance statement"):
        reinstate_clearance(case=case, actor=cast.official, reason="Again.")


def test_a_statement_with_a_validity_period_expires(case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        version=ModelVersion.objects.under_test(case),
        actor=cast.official,
        scope="Atlas behind the API.",
        valid_until=timezone.localdate() + dt.timedelta(days=30),
    )
    statement = case.clearance_statements.get()
    assert statement.live_status == Statement.ISSUED
    assert not statement.is_past_validity()
    assert statement.is_past_validity(at=timezone.now() + dt.timedelta(days=32))


def test_a_validity_period_ending_today_or_before_is_refused(case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    with pytest.raises(BadInput, match="after today"):
        issue_clearance(
            case=case, actor=cast.official, scope="Atlas.", valid_until=timezone.localdate()
        )
    case.refresh_from_db()
    assert case.status == Status.FINDINGS


def test_monitoring_conditions_schedule_reports_that_the_company_files(case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="Atlas.",
        monitoring_every_days=90,
    )
    reports = list(case.monitoring_reports.order_by("sequence"))
    statement = case.clearance_statements.get()
    assert [r.sequence for r in reports] == [1, 2, 3, 4]
    assert reports[0].due_at == statement.issued_at + dt.timedelta(days=90)

    first = reports[0]
    with pytest.raises(NotAllowed):
        services.submit_monitoring_report(
            report=first, actor=cast.manager, file=ContentFile(b"# x\n"), original_name="r.md"
        )
    filed = services.submit_monitoring_report(
        report=first,
        actor=cast.liaison,
        file=ContentFile(b"# Monitoring report 1\n\nNo serious incident this quarter.\n"),
        original_name="monitoring-1.md",
    )
    assert filed.state == ReportState.SUBMITTED
    assert filed.document.kind == "monitoring_report"
    asked = services.review_monitoring_report(
        report=filed, actor=cast.manager, accept=False, comment="Add the usage figures."
    )
    assert asked.state == ReportState.CHANGES_REQUESTED
    refiled = services.submit_monitoring_report(
        report=asked,
        actor=cast.liaison,
        file=ContentFile(b"# Monitoring report 1\n\nUsage: 1.2M requests a day.\n"),
        original_name="monitoring-1b.md",
    )
    accepted = services.review_monitoring_report(report=refiled, actor=cast.official, accept=True)
    assert accepted.state == ReportState.ACCEPTED
    with pytest.raises(ActionRefused):
        services.review_monitoring_report(report=accepted, actor=cast.manager, accept=True)


def test_a_monitoring_report_file_that_is_not_a_document_is_refused(case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="A.",
        monitoring_every_days=180,
    )
    report = case.monitoring_reports.first()
    with pytest.raises(BadInput):
        services.submit_monitoring_report(
            report=report,
            actor=cast.liaison,
            file=ContentFile(b"\x7fELF\x02\x01\x01\x00" * 20),
            original_name="report.md",
        )
    report.refresh_from_db()
    assert report.state == ReportState.DUE


def test_a_material_change_needing_review_supersedes_the_old_statement_on_reissue(case_at, cast):
    case = released(case_at, cast)
    old = case.clearance_statements.get()
    case = declare_material_change(case=case, actor=cast.liaison, change="Image input added.")
    with pytest.raises(ActionRefused, match="already awaits"):
        declare_material_change(case=case, actor=cast.liaison, change="And audio.")
    case = require_resubmission(case=case, actor=cast.manager, reason="Images were not reviewed.")
    change = case.material_changes.get()
    assert change.decision == MaterialChange.Decision.RESUBMIT
    assert case.status == Status.CLEARED  # until the company resubmits

    demo.revise(case, cast.liaison, label="v1.1-images")
    case = resubmit(case=case, actor=cast.liaison)
    assert case.status == Status.TESTING
    demo.record_evaluation(case, cast.evaluator)
    case = share_findings(case=case, actor=cast.manager)
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="Atlas with image input.",
    )
    old.refresh_from_db()
    assert old.status == Statement.SUPERSEDED
    assert list(old.history.values_list("change", flat=True)) == ["issued", "superseded"]


def test_a_suspended_statement_is_superseded_too_when_the_revision_is_cleared(case_at, cast):
    case = released(case_at, cast)
    case = suspend_clearance(case=case, actor=cast.official, reason="Incident.")
    old = case.clearance_statements.get()
    demo.revise(case, cast.liaison, label="v1.1-fixed")
    case = resubmit(case=case, actor=cast.liaison)
    demo.record_evaluation(case, cast.evaluator)
    case = share_findings(case=case, actor=cast.manager)
    demo.resolve_findings(case, cast.manager)
    issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="Atlas, fixed.",
    )
    old.refresh_from_db()
    assert old.status == Statement.SUPERSEDED


def test_a_retired_model_stays_monitored(case_at, cast):
    case = released(case_at, cast)
    case = retire_deployment(case=case, actor=cast.liaison, reason="Replaced by Atlas 4.")
    assert case.deployment_status == DeploymentStatus.RETIRED
    assert incident_on(case, cast.liaison, severity="low").number == 1


def test_a_release_date_in_the_future_is_refused(case_at, cast):
    case = case_at("cleared")
    with pytest.raises(BadInput, match="in the future"):
        report_release(
            case=case,
            actor=cast.liaison,
            release_date=timezone.localdate() + dt.timedelta(days=3),
            channel="API",
        )
    case.refresh_from_db()
    assert case.deployment_status == DeploymentStatus.NOT_RELEASED
