"""The case page's submission panel: what it shows, and a query count that does not grow."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from review import demo
from submissions import services
from submissions.checklist import PRACTICES
from tests.submissions.conftest import PDF

pytestmark = pytest.mark.django_db


def grow(case, liaison, n):
    """Give the case n versions, documents, checklist answers and access grants."""
    practices = list(PRACTICES)
    for i in range(n):
        services.add_version(case=case, actor=liaison, label=f"v{i}", vcs_reference=f"r{i}")
        services.upload_document(
            case=case,
            actor=liaison,
            kind="other",
            file=SimpleUploadedFile(f"n{i}.pdf", PDF + str(i).encode()),
            original_name=f"note-{i}.pdf",
        )
        services.record_checklist(
            case=case,
            actor=liaison,
            answers={practices[i]: {"status": "planned"}},
        )
        demo.grant_access(case, liaison)


def count_queries(client, case) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_case_page_queries_do_not_grow_with_versions_and_documents(
    client, cast, case_at, who, django_assert_num_queries
):
    small, large = case_at("intake", title="Small"), case_at("intake", title="Large")
    grow(small, cast.liaison, 1)
    grow(large, cast.liaison, 6)
    if who != "liaison":  # staff see a case once it is submitted, never its draft
        small, large = (
            demo.advance(c, "triage", {"liaison": cast.liaison, "manager": cast.manager})
            for c in (small, large)
        )
    client.force_login(getattr(cast, who))
    client.get(small.get_absolute_url())  # warm the session
    few = count_queries(client, small)
    with django_assert_num_queries(few):
        response = client.get(large.get_absolute_url())
    assert response.content.decode().count('data-testid="grant"') == 6


def test_panel_lists_versions_grants_documents_and_checklist(client, liaison, case_at):
    case = case_at("documentation")
    client.force_login(liaison)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "v1.0-rc1" in page
    assert "https://models.example/v1/eval" in page and "NDA-2026-117" in page
    assert 'data-testid="completeness-model_card" data-state="missing"' in page
    assert "0 of 22 practices answered" in page
    assert "Upload a document" in page and "Answer the checklist" in page


def test_panel_offers_no_contribution_links_to_staff(client, manager, case_at):
    case = case_at("documentation")
    client.force_login(manager)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Upload a document" not in page and "Grant access" not in page
    assert "Reveal credentials (logged)" in page
