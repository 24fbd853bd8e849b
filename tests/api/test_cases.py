"""Reading cases through the API: visibility per role, filters, paging, polling, throttling."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import Case
from findings import services as findings_services
from findings.models import ClarificationRequest
from review import demo
from review.services import assign_evaluator, share_findings

pytestmark = pytest.mark.django_db

CASE_ENDPOINTS = [
    "",
    "status/",
    "timeline/",
    "findings/",
    "documents/",
    "versions/",
    "clarifications/",
    "access/",
]


@pytest.fixture
def case_with_draft(case_at, cast):
    """An Acme case in testing with its evaluator assigned and one internal draft finding."""
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    demo.record_evaluation(case, cast.evaluator)
    return case


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("liaison", 200),
        ("manager", 200),
        ("evaluator", 200),
        ("official", 200),
        ("auditor", 200),
        ("other_liaison", 404),
        ("other_evaluator", 404),
    ],
)
def test_each_case_endpoint_answers_as_the_token_user_may_see(
    case_with_draft, cast, client_for, who, expected
):
    client = client_for(getattr(cast, who))
    for endpoint in CASE_ENDPOINTS:
        response = client.get(f"/api/v1/cases/{case_with_draft.number}/{endpoint}")
        assert response.status_code == expected, endpoint
        if expected == 404:
            assert response["Content-Type"] == "application/problem+json"
            assert case_with_draft.title not in response.content.decode()
    listed = [c["number"] for c in client.get("/api/v1/cases/").json()["results"]]
    assert (case_with_draft.number in listed) == (expected == 200)


def test_unknown_case_number_is_a_404_problem(liaison, client_for):
    response = client_for(liaison).get("/api/v1/cases/CAISI-1999-0001/")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_company_sees_neither_draft_findings_nor_internal_events(case_with_draft, cast, client_for):
    number = case_with_draft.number
    company, desk = client_for(cast.liaison), client_for(cast.manager)

    assert company.get(f"/api/v1/cases/{number}/findings/").json() == []
    assert len(desk.get(f"/api/v1/cases/{number}/findings/").json()) == 1
    assert company.get(f"/api/v1/cases/{number}/").json()["findings"]["total"] == 0
    assert "draft" not in company.get(f"/api/v1/cases/{number}/").json()["findings"]["by_state"]
    assert desk.get(f"/api/v1/cases/{number}/").json()["findings"]["by_state"]["draft"] == 1

    def verbs(client):
        events = client.get(f"/api/v1/cases/{number}/timeline/?page_size=500").json()["results"]
        return {e["verb"] for e in events}, {e["internal"] for e in events}

    company_verbs, company_internal = verbs(company)
    desk_verbs, _ = verbs(desk)
    assert {"finding_drafted", "evaluation_recorded", "evaluator_assigned"} <= desk_verbs
    assert not company_verbs & {"finding_drafted", "evaluation_recorded", "evaluator_assigned"}
    assert company_internal == {False}
    # Evaluation runs are CAISI's internal work.
    assert company.get(f"/api/v1/cases/{number}/evaluations/").status_code == 403


def test_company_sees_findings_once_shared(case_with_draft, cast, client_for):
    share_findings(case=case_with_draft, actor=cast.manager)
    findings = (
        client_for(cast.liaison).get(f"/api/v1/cases/{case_with_draft.number}/findings/").json()
    )
    assert [f["state"] for f in findings] == ["shared"]
    assert findings[0]["severity"] == "high"


def test_case_detail_reports_step_manager_versions_documents_and_statement(
    case_at, cast, client_for
):
    case = case_at("cleared")
    body = client_for(cast.liaison).get(f"/api/v1/cases/{case.number}/").json()
    assert body["status"] == "cleared" and body["step"] == 7
    assert body["case_manager"]["email"] == cast.manager.email
    assert [v["label"] for v in body["versions"]] == ["v1.0-rc1"]
    assert body["versions"][0]["digest"].startswith("sha256:")
    assert body["findings"]["by_severity"]["high"] == 1
    assert body["findings"]["by_state"]["resolved"] == 1
    assert body["documents"]["by_state"]["accepted"] == 4
    assert all(d["present"] for d in body["documents"]["required"])
    statement = body["clearance_statement"]
    assert statement["status"] == "issued"
    assert statement["verification_url"].endswith(
        f"/verify/{case.clearance_statements.get().verification_code}/"
    )
    assert body["deadlines"]["planned_release_date"] == case.planned_release_date.isoformat()
    assert body["deadlines"]["access_expires_at"] is not None


def test_document_download_gives_the_file_to_those_who_see_the_case(case_at, cast, client_for):
    case = case_at("testing")
    documents = client_for(cast.auditor).get(f"/api/v1/cases/{case.number}/documents/").json()
    card = next(d for d in documents if d["kind"] == "model_card")
    response = client_for(cast.liaison).get(card["download_url"])
    assert response.status_code == 200
    assert b"model card" in b"".join(response.streaming_content)
    assert client_for(cast.other_liaison).get(card["download_url"]).status_code == 404


# --- filters and paging ----------------------------------------------------------------


def open_cases(liaison, n: int, prefix: str = "Case") -> list[Case]:
    return [
        services.open_case(actor=liaison, title=f"{prefix} {i}", model_name=f"M{i}")
        for i in range(n)
    ]


def all_pages(client, url: str) -> list[dict]:
    rows, pages = [], 0
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
        pages += 1
    return rows, pages


def test_cursor_paging_walks_every_case_once_newest_change_first(cast, client_for, settings):
    settings.API_PAGE_SIZE = 3
    open_cases(cast.liaison, 8)
    # Drafts are the company's alone: it pages through them by what it was shown change.
    rows, pages = all_pages(client_for(cast.liaison), "/api/v1/cases/")
    assert pages == 3
    numbers = [r["number"] for r in rows]
    assert len(numbers) == len(set(numbers)) == 8
    assert numbers == [c.number for c in Case.objects.order_by("-company_updated_at", "-pk")]


def test_page_size_parameter_and_cursor_survive_a_change_between_pages(cast, client_for, settings):
    settings.API_PAGE_SIZE = 50
    cases = open_cases(cast.liaison, 5)
    client = client_for(cast.liaison)
    first = client.get("/api/v1/cases/?page_size=2").json()
    assert len(first["results"]) == 2
    # A case seen already changes: it moves to the top, but paging on does not repeat it.
    services.update_intake(case=cases[-1], actor=cast.liaison, data={"modality": "text"})
    rest, _ = all_pages(client, first["next"])
    seen = [r["number"] for r in first["results"]] + [r["number"] for r in rest]
    assert len(seen) == len(set(seen))


def test_filters_by_status_organization_updated_after_lead_time_and_overdue(
    cast, case_at, client_for
):
    triaged = case_at("triage", title="Triaged")
    intake_only = open_cases(cast.liaison, 2, prefix="Draft")
    globex = open_cases(cast.other_liaison, 1, prefix="Globex")[0]
    # Staff see submitted cases only: Globex's submitted one is what they filter by.
    globex_submitted = demo.advance(
        open_cases(cast.other_liaison, 1, prefix="Globex submitted")[0],
        "triage",
        {"liaison": cast.other_liaison, "manager": cast.manager},
    )
    desk = client_for(cast.manager)
    company = client_for(cast.liaison)

    def numbers(query: str, client=desk) -> set[str]:
        response = client.get(f"/api/v1/cases/?{query}")
        assert response.status_code == 200, response.json()
        return {r["number"] for r in response.json()["results"]}

    assert numbers("status=triage") == {triaged.number, globex_submitted.number}
    assert numbers("status=intake") == set()
    assert numbers("status=intake", company) == {c.number for c in intake_only}
    assert numbers("organization=globex") == {globex_submitted.number}

    old = timezone.now() - dt.timedelta(days=30)
    Case.objects.exclude(pk=triaged.pk).update(updated_at=old, company_updated_at=old)
    after = (old + dt.timedelta(days=1)).isoformat()
    assert numbers(f"updated_after={after.replace('+', '%2B')}") == {triaged.number}

    soon = open_cases(cast.liaison, 1, prefix="Soon")[0]
    services.update_intake(
        case=soon,
        actor=cast.liaison,
        data={"planned_release_date": timezone.localdate() + dt.timedelta(days=20)},
    )
    assert numbers("short_lead_time=true", company) == {soon.number}
    assert soon.number not in numbers("short_lead_time=false", company)

    asked = findings_services.ask_clarification(
        case=triaged,
        actor=cast.manager,
        question="Which tokenizer ships with the model?",
        due_date=timezone.localdate() + dt.timedelta(days=3),
    )
    assert numbers("overdue=true") == set()
    ClarificationRequest.objects.filter(pk=asked.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert numbers("overdue=true") == {triaged.number}
    assert triaged.number not in numbers("overdue=false")

    # A company's filters never reach beyond its own cases.
    assert numbers("status=intake", client_for(cast.other_liaison)) == {globex.number}


def test_bad_filters_are_400_problems_naming_each_field(cast, client_for):
    response = client_for(cast.manager).get("/api/v1/cases/?status=bogus&updated_after=yesterday")
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in body["errors"]} == {"status", "updated_after"}


def test_organization_filter_is_for_caisi_staff_only(cast, client_for):
    # Not the company's to use: "your role may not" is a 403, as the schema says.
    response = client_for(cast.liaison).get("/api/v1/cases/?organization=globex")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "CAISI staff" in response.json()["detail"]
    assert client_for(cast.manager).get("/api/v1/cases/?organization=globex").status_code == 200


@pytest.mark.parametrize("size", ["0", "-3", "1.5", "1e3", "two", "", "\u0665"])
def test_a_page_size_that_is_no_whole_number_of_one_or_more_is_a_400(
    size, case_at, cast, client_for
):
    case = case_at("intake")
    client = client_for(cast.liaison)
    for url in ("/api/v1/cases/", f"/api/v1/cases/{case.number}/timeline/"):
        response = client.get(url, {"page_size": size})
        assert response.status_code == 400, (url, size)
        assert response.json()["errors"][0]["field"] == "page_size"


def test_a_page_size_over_the_cap_is_capped(case_at, cast, client_for):
    case = case_at("intake")
    response = client_for(cast.liaison).get(f"/api/v1/cases/{case.number}/timeline/?page_size=9999")
    assert response.status_code == 200 and response.json()["results"]


def count_queries(client, url: str, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return len(queries), response


def test_list_query_count_does_not_grow_with_page_size(cast, client_for, case_at):
    # The company lists its own drafts too; staff would not see them.
    client = client_for(cast.liaison)
    case_at("access", title="Managed")  # a case manager to select
    open_cases(cast.liaison, 2)
    client.get("/api/v1/cases/")  # the first request notes the token's use
    few, response = count_queries(client, "/api/v1/cases/?page_size=2")
    assert len(response.json()["results"]) == 2
    open_cases(cast.liaison, 18)
    many, response = count_queries(client, "/api/v1/cases/?page_size=20")
    assert len(response.json()["results"]) == 20
    assert many == few


def test_timeline_query_count_does_not_grow_with_page_size(case_at, cast, client_for):
    case = case_at("testing")
    client = client_for(cast.auditor)
    url = f"/api/v1/cases/{case.number}/timeline/"
    client.get(url)
    few, response = count_queries(client, url + "?page_size=2")
    assert len(response.json()["results"]) == 2
    many, response = count_queries(client, url + "?page_size=200")
    assert len(response.json()["results"]) > 10
    assert many == few


# --- polling with ETags ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["status/", ""])
def test_if_none_match_gets_304_without_building_the_body(case_at, cast, client_for, endpoint):
    case = case_at("findings")
    client = client_for(cast.liaison)
    url = f"/api/v1/cases/{case.number}/{endpoint}"
    full_queries, first = count_queries(client, url)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")

    cheap_queries, again = count_queries(client, url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # Token, the liaison's membership, and the case's version columns: nothing more.
    assert cheap_queries <= 3
    if endpoint == "":
        assert full_queries > cheap_queries + 5

    since = count_queries(client, url, HTTP_IF_MODIFIED_SINCE=last_modified)[1]
    assert since.status_code == 304

    demo.resolve_findings(case, cast.manager)  # the company answers; CAISI accepts
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_detail_etag_differs_between_company_and_caisi(case_at, cast, client_for):
    case = case_at("testing")
    url = f"/api/v1/cases/{case.number}/"
    company = client_for(cast.liaison).get(url)["ETag"]
    desk = client_for(cast.manager).get(url)["ETag"]
    assert company != desk
    assert client_for(cast.manager).get(url, HTTP_IF_NONE_MATCH=company).status_code == 200


def test_outsider_gets_404_even_with_a_matching_etag(case_at, cast, client_for):
    case = case_at("intake")
    url = f"/api/v1/cases/{case.number}/status/"
    etag = client_for(cast.liaison).get(url)["ETag"]
    assert client_for(cast.other_liaison).get(url, HTTP_IF_NONE_MATCH="*").status_code == 404
    assert client_for(cast.other_liaison).get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404


# --- throttling ------------------------------------------------------------------------------


def test_each_token_has_its_own_budget_then_429_with_retry_after(
    case_at, cast, client_for, settings
):
    settings.API_THROTTLE_RATE = "3/min"
    case = case_at("intake")
    url = f"/api/v1/cases/{case.number}/status/"
    client = client_for(cast.liaison)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["status"] == 429
    assert client_for(cast.liaison).get(url).status_code == 200  # another token, a fresh budget
