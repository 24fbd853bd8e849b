"""Internal notes, drafts and evaluations never reach the company: pages, downloads, counts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.models import CaseEvent
from findings import services
from findings.models import Category, Severity
from review import demo
from review.services import resubmit, share_findings

from .conftest import INTERNAL_MARKER


@pytest.fixture
def case_with_secrets(testing_case, cast):
    """A case in findings with one shared finding, plus internal material carrying a marker."""
    demo.record_evaluation(testing_case, cast.evaluator)
    case_services.post_message(
        case=testing_case, actor=cast.manager, body="Welcome, the testing has begun."
    )
    services.ask_clarification(
        case=testing_case,
        actor=cast.manager,
        question="Which guardrails ship?",
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )
    request = testing_case.clarification_requests.get()
    services.answer_clarification(request=request, actor=cast.liaison, answer="Classifier v2.")
    case = share_findings(case=testing_case, actor=cast.manager)
    # Internal material created after sharing: a note, and a draft on the next round.
    case_services.post_message(
        case=case, actor=cast.manager, body=f"{INTERNAL_MARKER} note", internal=True
    )
    case_services.post_message(
        case=case, actor=cast.evaluator, body=f"{INTERNAL_MARKER} second note", internal=True
    )
    demo.revise(case, cast.liaison, label="v1.1")
    case = resubmit(case=case, actor=cast.liaison)
    services.record_evaluation_run(
        case=case,
        actor=cast.evaluator,
        category=Category.DANGEROUS_CAPABILITY,
        title=f"{INTERNAL_MARKER} bio probe",
        summary=INTERNAL_MARKER,
    )
    services.draft_finding(
        case=case,
        actor=cast.evaluator,
        severity=Severity.CRITICAL,
        category=Category.DANGEROUS_CAPABILITY,
        title=f"{INTERNAL_MARKER} draft",
        description=INTERNAL_MARKER,
    )
    return case


def liaison_urls(case):
    finding = case.findings.exclude(state="draft").get()
    number = case.number
    return [
        reverse("cases:dashboard"),
        case.get_absolute_url(),
        reverse("findings:messages", kwargs={"number": number}),
        reverse("findings:finding", kwargs={"number": number, "pk": finding.pk}),
        reverse("findings:export", kwargs={"number": number}),
    ]


def test_no_liaison_page_or_download_carries_internal_material(case_with_secrets, cast, client):
    client.force_login(cast.liaison)
    for url in liaison_urls(case_with_secrets):
        response = client.get(url)
        assert response.status_code == 200, url
        assert INTERNAL_MARKER not in response.content.decode(), url
    # The staff see the same material, so the marker test can fail.
    client.force_login(cast.manager)
    page = client.get(case_with_secrets.get_absolute_url()).content.decode()
    assert page.count(INTERNAL_MARKER) >= 3
    export = client.get(reverse("findings:export", kwargs={"number": case_with_secrets.number}))
    assert INTERNAL_MARKER in export.content.decode()


def test_counts_shown_to_the_liaison_leave_internal_items_out(case_with_secrets, cast, client):
    client.force_login(cast.liaison)
    page = client.get(case_with_secrets.get_absolute_url()).content.decode()
    assert 'data-testid="message-count">1<' in page
    assert 'data-testid="finding-count">1<' in page
    client.force_login(cast.manager)
    page = client.get(case_with_secrets.get_absolute_url()).content.decode()
    assert 'data-testid="message-count">3<' in page
    assert 'data-testid="finding-count">2<' in page


def test_internal_timeline_events_are_hidden_from_the_company(case_with_secrets, cast):
    internal_verbs = {"internal_note_added", "finding_drafted", "evaluation_recorded"}
    seen = set(CaseEvent.objects.visible_to(cast.liaison).values_list("verb", flat=True))
    assert not seen & internal_verbs
    assert internal_verbs <= set(case_with_secrets.events.values_list("verb", flat=True))


def test_the_desk_is_closed_to_companies(case_with_secrets, cast, client):
    client.force_login(cast.liaison)
    for name in ("cases:desk", "cases:desk_dashboard"):
        assert client.get(reverse(name)).status_code == 403
    url = reverse("cases:evaluators", kwargs={"number": case_with_secrets.number})
    assert client.get(url).status_code == 403


def test_other_company_liaison_gets_404_on_every_case_page(case_with_secrets, cast, client):
    client.force_login(cast.other_liaison)
    for url in liaison_urls(case_with_secrets)[1:]:
        assert client.get(url).status_code == 404, url
