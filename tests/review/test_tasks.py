"""Each person's work in front of them: the home page's "Your tasks" and the case page's top."""

import datetime as dt

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from findings import services as findings_services
from findings.models import ClarificationRequest
from review import demo
from review.services import assign_evaluator
from review.tasks_for import tasks_for
from submissions import services as submissions_services
from submissions.models import DocumentKind

pytestmark = pytest.mark.django_db


def texts(tasks) -> list[str]:
    return [t.text for t in tasks]


def home(client, person) -> str:
    client.force_login(person)
    response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_liaison_sees_each_finding_to_answer_with_its_due_date(client, cast, case_at, settings):
    case = case_at("findings")
    finding = case.findings.get()
    tasks = tasks_for(cast.liaison)
    assert texts(tasks) == [f"Answer the high finding “{finding.title}”"]
    due = timezone.localdate(finding.shared_at) + dt.timedelta(days=settings.FINDING_RESPONSE_DAYS)
    assert tasks[0].due == due and tasks[0].case == case
    page = home(client, cast.liaison)
    # The task opens the finding at its answer form (the respond URL itself takes POST only).
    assert reverse("findings:finding", args=[case.number, finding.pk]) + "#respond" in page
    assert due.strftime("%B %-d, %Y") in page


def test_liaison_sees_open_clarifications_earliest_due_first(cast, case_at):
    case = case_at("testing")
    today = timezone.localdate()
    for days, question in ((10, "Which tokenizer?"), (2, "Which safety filter?")):
        findings_services.ask_clarification(
            case=case, actor=cast.manager, question=question, due_date=today + dt.timedelta(days)
        )
    tasks = tasks_for(cast.liaison)
    assert texts(tasks) == [
        "Answer the clarification request “Which safety filter?”",
        "Answer the clarification request “Which tokenizer?”",
    ]
    assert tasks[0].due == today + dt.timedelta(days=2) and tasks[0].due_soon
    # Answered, it is no longer the company's to do.
    request = ClarificationRequest.objects.get(question="Which safety filter?")
    findings_services.answer_clarification(request=request, actor=cast.liaison, answer="Ours.")
    assert texts(tasks_for(cast.liaison)) == ["Answer the clarification request “Which tokenizer?”"]


def test_liaison_sees_a_requested_document_change_until_a_new_version_arrives(cast, case_at):
    case = case_at("documentation")
    card = submissions_services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.MODEL_CARD,
        file=ContentFile(b"# Model card\n\nDraft.\n"),
        original_name="card.md",
    )
    submissions_services.review_document(
        document=card, actor=cast.manager, accept=False, comment="Add the evaluation section."
    )
    assert texts(tasks_for(cast.liaison)) == [
        "Upload a revised model card: CAISI asked for changes"
    ]
    submissions_services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.MODEL_CARD,
        file=ContentFile(b"# Model card\n\nWith the evaluation section.\n"),
        original_name="card.md",
    )
    assert tasks_for(cast.liaison) == []
    # ...and the case manager now has the new version to review.
    assert "Review the model card (version 2)" in texts(tasks_for(cast.manager))


def test_another_company_sees_none_of_these_tasks(client, cast, case_at):
    case = case_at("findings")
    findings_services.ask_clarification(
        case=case, actor=cast.manager, question="Which tokenizer?", due_date=timezone.localdate()
    )
    assert tasks_for(cast.other_liaison) == []
    page = home(client, cast.other_liaison)
    assert case.number not in page and "Which tokenizer?" not in page


def test_case_manager_sees_triage_and_the_access_to_verify(cast, case_at):
    triage = case_at("triage", title="Waiting for triage")
    access = case_at("access", title="Waiting for access")
    tasks = {t.case.number: t.text for t in tasks_for(cast.manager)}
    assert tasks[triage.number] == "Triage the case and name its case manager"
    assert tasks[access.number] == "Verify the model access"


def test_case_manager_sees_answers_to_review(cast, case_at):
    case = case_at("findings")
    finding = case.findings.get()
    findings_services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind="mitigated", mitigation="A classifier."
    )
    assert texts(tasks_for(cast.manager)) == [f"Review the company's answer to “{finding.title}”"]
    assert tasks_for(cast.liaison) == []


def test_evaluator_is_told_to_record_a_run_in_a_testing_case_without_one(client, cast, case_at):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    assert texts(tasks_for(cast.evaluator)) == [
        "Record an evaluation run on the version under test"
    ]
    client.force_login(cast.evaluator)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Record an evaluation run on the version under test" in page
    assert "Nothing is waiting on you" not in page
    demo.record_evaluation(case, cast.evaluator)
    assert tasks_for(cast.evaluator) == []


def test_official_sees_a_case_once_its_clearance_gate_is_clear(cast, case_at):
    case = case_at("findings")
    assert "Issue the clearance statement: the clearance gate is clear" not in texts(
        tasks_for(cast.official)
    )
    demo.resolve_findings(case, cast.manager)
    assert texts(tasks_for(cast.official)) == [
        "Issue the clearance statement: the clearance gate is clear"
    ]


def test_case_page_names_who_must_act_when_it_is_not_this_person(client, cast, case_at):
    case = case_at("triage")
    client.force_login(cast.liaison)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Next to act: a CAISI case manager (triage)" in page
    # The tasks come before the steps and the panels, so a phone shows them first.
    assert page.index('data-testid="your-tasks"') < page.index('aria-label="Review steps"')


def test_home_page_queries_do_not_grow_with_the_tasks(
    client, cast, case_at, django_assert_max_num_queries
):
    def count(person) -> int:
        client.force_login(person)
        client.get(reverse("cases:dashboard"))  # warm the session
        with django_assert_max_num_queries(30) as queries:
            assert client.get(reverse("cases:dashboard")).status_code == 200
        return len(queries.captured_queries)

    first = case_at("findings", title="First")
    before = {who: count(getattr(cast, who)) for who in ("liaison", "manager", "official")}
    for n in range(3):
        case = case_at("findings", title=f"More {n}")
        findings_services.ask_clarification(
            case=case, actor=cast.manager, question=f"Q{n}", due_date=timezone.localdate()
        )
    demo.resolve_findings(first, cast.manager)
    after = {who: count(getattr(cast, who)) for who in ("liaison", "manager", "official")}
    assert after["liaison"] == before["liaison"] <= 12
    assert after["manager"] == before["manager"] <= 12
    # The official's gate is confirmed per ready case, up to a fixed number of them.
    assert after["official"] <= before["official"] + 10


def test_liaison_sees_the_monitoring_reports_due_within_a_month_not_the_whole_year(cast, case_at):
    case = demo.advance(
        case_at("findings"),
        "cleared",
        vars(cast),
        clearance={"conditions": "A monthly report.", "monitoring_every_days": 30},
    )
    assert case.monitoring_reports.count() == 12
    tasks = [t for t in tasks_for(cast.liaison) if "monitoring report" in t.text]
    assert texts(tasks) == ["File monitoring report 1"]
    first = case.monitoring_reports.get(sequence=1)
    assert tasks[0].due == timezone.localdate(first.due_at) and tasks[0].due_soon is False
    # A month on, the first is late and the second is due within the month.
    with time_machine.travel(first.due_at + dt.timedelta(days=1)):
        later = [t for t in tasks_for(cast.liaison) if "monitoring report" in t.text]
        assert texts(later) == ["File monitoring report 1", "File monitoring report 2"]
        assert later[0].overdue
