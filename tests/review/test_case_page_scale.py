"""The case page at scale: a long-lived case reads in a fixed few queries, its timeline paged."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases.models import CaseEvent
from findings.models import Finding, FindingState
from submissions.models import Document, DocumentKind, DocumentState, ModelVersion

pytestmark = pytest.mark.django_db

EVENTS, DOCUMENTS, FINDINGS = 5_000, 200, 100


def grow(case, *, author, staff) -> None:
    """Give the case thousands of timeline events, hundreds of documents and findings."""
    last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    seq, prev = last.seq, last.hash
    start = timezone.now() - dt.timedelta(days=90)
    events = []
    for n in range(EVENTS):
        seq += 1
        event = CaseEvent(
            case=case,
            seq=seq,
            actor=staff if n % 3 else author,
            verb="message_posted",
            internal=n % 5 == 0,
            details={"n": n},
            created_at=start + dt.timedelta(minutes=n),
            prev_hash=prev,
        )
        event.hash = prev = event.compute_hash(case.number)
        events.append(event)
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    version = ModelVersion.objects.under_test(case)
    Document.objects.bulk_create(
        Document(
            case=case,
            kind=DocumentKind.OTHER,
            title=f"Annex {n}",
            version_number=n + 1,
            original_name=f"annex-{n}.md",
            uploaded_by=author,
            state=DocumentState.SUBMITTED,
            model_version=version,
        )
        for n in range(DOCUMENTS)
    )
    Finding.objects.bulk_create(
        Finding(
            case=case,
            model_version=version,
            severity="low",
            category="other",
            title=f"Finding {n}",
            description="Seen at scale.",
            state=FindingState.SHARED if n % 2 else FindingState.DRAFT,
            shared_at=timezone.now() if n % 2 else None,
            created_by=staff,
        )
        for n in range(FINDINGS)
    )


ROLES = ["liaison", "manager", "evaluator", "official", "auditor"]


def page_queries(client, case, person) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(person)
    client.get(case.get_absolute_url())  # the session and the caches, once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    # At most one page of the timeline, with the way to older entries when there are more.
    assert page.count('data-testid="event"') <= 50
    return len(captured)


@pytest.mark.parametrize("who", ROLES)
def test_case_page_queries_do_not_grow_with_events_documents_and_findings(
    client, cast, case_at, who
):
    case = case_at("findings")  # the evaluator is assigned on the way
    person = getattr(cast, who)
    small = page_queries(client, case, person)
    grow(case, author=cast.liaison, staff=cast.manager)
    large = page_queries(client, case, person)
    assert large == small <= 30
    page = client.get(case.get_absolute_url()).content.decode()
    assert page.count('data-testid="event"') == 50 and "Older entries" in page


@pytest.mark.parametrize("who", ROLES)
def test_case_page_reads_a_large_case_in_ten_queries(
    client, cast, case_at, who, django_assert_max_num_queries
):
    case = case_at("findings")
    grow(case, author=cast.liaison, staff=cast.manager)
    person = getattr(cast, who)
    client.force_login(person)
    client.get(case.get_absolute_url())
    with django_assert_max_num_queries(10):
        assert client.get(case.get_absolute_url()).status_code == 200


def test_the_timeline_pages_back_to_the_first_entry(client, cast, case_at):
    case = case_at("triage")
    grow(case, author=cast.liaison, staff=cast.manager)
    client.force_login(cast.manager)
    newest = CaseEvent.objects.filter(case=case).order_by("-seq").first().seq
    page = client.get(case.get_absolute_url()).content.decode()
    assert f"#{newest} " in page and "#1 " not in page
    seen, before = 0, None
    while True:
        params = {"before": before} if before else {}
        response = client.get(case.get_absolute_url(), params)
        assert response.status_code == 200
        page = response.content.decode()
        seen += page.count('data-testid="event"')
        match = re.search(r"\?before=(\d+)#timeline", page)
        if match is None:
            break
        before = match[1]
    assert "#1 " in page and seen == newest


def test_the_company_pages_through_its_own_entries_only(client, cast, case_at):
    case = case_at("triage")
    grow(case, author=cast.liaison, staff=cast.manager)
    client.force_login(cast.liaison)
    internal = CaseEvent.objects.filter(case=case, internal=True).order_by("-seq").first()
    page = client.get(case.get_absolute_url(), {"before": internal.seq + 1}).content.decode()
    assert page.count('data-testid="event"') == 50
    assert "internal</span>" not in page


def test_a_bad_page_mark_shows_the_newest_entries(client, cast, case_at):
    case = case_at("triage")
    client.force_login(cast.manager)
    for junk in ("x", "-1", "1e9", "'; select 1"):
        assert client.get(case.get_absolute_url(), {"before": junk}).status_code == 200


@pytest.mark.parametrize("who", ["liaison", "manager", "official"])
def test_a_cleared_case_page_reads_in_ten_queries_too(
    client, cast, case_at, who, django_assert_max_num_queries
):
    # After clearance the page adds the statements, incidents, reports and material changes.
    case = case_at("cleared")
    grow(case, author=cast.liaison, staff=cast.manager)
    client.force_login(getattr(cast, who))
    client.get(case.get_absolute_url())
    with django_assert_max_num_queries(10):
        page = client.get(case.get_absolute_url())
    assert page.status_code == 200 and 'data-testid="statements"' in page.content.decode()
