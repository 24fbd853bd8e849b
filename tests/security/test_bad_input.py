"""Bad input across forms, uploads and the API: a clear 4xx, nothing stored, nothing typed lost.

These go beyond the liaison journey's own checks (past release dates, a
parameter count in words, bad digests, hostile file names, oversized uploads).
"""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from cases.models import Case, CaseEvent, Message
from findings.models import ClarificationRequest, EvaluationRun, Finding
from submissions.models import Document

pytestmark = pytest.mark.django_db

XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
SQLISH = "'; DROP TABLE cases_case; -- \" OR 1=1"


def page(response) -> str:
    return response.content.decode()


def intake_url(case) -> str:
    return reverse("cases:intake", kwargs={"number": case.number})


def intake_fields(case, **overrides) -> dict:
    return {
        "title": case.title,
        "model_name": case.model_name,
        "architecture": "typed architecture",
        "training_compute": "typed compute",
        **overrides,
    }


def assert_intake_unsaved(case) -> None:
    case.refresh_from_db()
    assert case.architecture == ""
    assert case.parameter_count is None
    assert case.planned_release_date is None
    assert case.release_type == ""


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    if field is not None:
        assert field in {error["field"] for error in body["errors"]}, body
    return body


# --- web forms ------------------------------------------------------------------------------


def test_an_over_long_title_is_refused_and_the_model_name_kept(cast, client):
    client.force_login(cast.liaison)
    before = Case.objects.count()
    response = client.post(
        reverse("cases:new"), {"title": "T" * 201, "model_name": "typed-model-name"}
    )
    assert response.status_code == 400
    assert "at most 200 characters" in page(response)
    assert 'value="typed-model-name"' in page(response)
    assert Case.objects.count() == before


def test_february_thirtieth_is_refused_and_the_rest_of_the_intake_kept(cast, client, case_at):
    case = case_at("intake")
    client.force_login(cast.liaison)
    response = client.post(intake_url(case), intake_fields(case, planned_release_date="2027-02-30"))
    assert response.status_code == 400
    assert "Enter a valid date" in page(response)
    assert "typed architecture" in page(response) and 'value="2027-02-30"' in page(response)
    assert_intake_unsaved(case)


@pytest.mark.parametrize(
    "count,message",
    [
        ("-5", "whole number or with K, M, B or T"),
        ("99999999999999999999999999", "more parameters than the portal can record"),
        ("1e12", "whole number"),
    ],
)
def test_negative_huge_or_float_parameter_counts_are_refused(cast, client, case_at, count, message):
    case = case_at("intake")
    client.force_login(cast.liaison)
    response = client.post(intake_url(case), intake_fields(case, parameter_count=count))
    assert response.status_code == 400
    assert message in page(response)
    assert f'value="{count}"' in page(response) and "typed compute" in page(response)
    assert_intake_unsaved(case)


def test_an_unknown_release_type_is_refused_and_the_intake_kept(cast, client, case_at):
    case = case_at("intake")
    client.force_login(cast.liaison)
    response = client.post(intake_url(case), intake_fields(case, release_type="orbital"))
    assert response.status_code == 400
    assert "Select a valid choice" in page(response)
    assert "typed architecture" in page(response)
    assert_intake_unsaved(case)


def test_nul_characters_in_a_message_are_refused_and_the_text_kept(cast, client, case_at):
    case = case_at("triage")
    client.force_login(cast.liaison)
    response = client.post(
        reverse("findings:messages", kwargs={"number": case.number}),
        {"body": "typed before\x00after"},
    )
    assert response.status_code == 400
    assert "Null characters are not allowed" in page(response)
    assert "typed before" in page(response)
    assert not Message.objects.filter(case=case).exists()


def test_a_script_in_a_message_is_stored_as_typed_and_shown_escaped(cast, client, case_at):
    case = case_at("triage")
    client.force_login(cast.liaison)
    url = reverse("findings:messages", kwargs={"number": case.number})
    client.post(url, {"body": XSS})
    assert Message.objects.get(case=case).body == XSS
    for person in (cast.liaison, cast.manager):
        client.force_login(person)
        for shown in (client.get(url), client.get(case.get_absolute_url())):
            assert XSS not in page(shown)
            assert "<script>alert" not in page(shown) and "onerror=alert(1)>" not in page(shown)
    client.force_login(cast.manager)
    assert "&lt;script&gt;alert" in page(client.get(url))


def test_sql_looking_text_is_plain_text(cast, client):
    client.force_login(cast.liaison)
    client.post(reverse("cases:new"), {"title": SQLISH, "model_name": SQLISH})
    case = Case.objects.get(title=SQLISH)
    assert case.model_name == SQLISH
    shown = page(client.get(case.get_absolute_url()))
    assert "&#x27;; DROP TABLE cases_case; --" in shown
    client.force_login(cast.manager)
    assert client.get(reverse("cases:desk"), {"q": SQLISH, "status": SQLISH}).status_code < 500
    assert Case.objects.filter(pk=case.pk).exists()


def test_bidi_and_control_characters_in_a_title_are_refused_or_kept_inert(cast, client):
    client.force_login(cast.liaison)
    title = "Atlas\u202egnp.exe\u0007\u001b[31m"
    response = client.post(reverse("cases:new"), {"title": title, "model_name": "typed-model"})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert 'value="typed-model"' in page(response)
        assert not Case.objects.filter(model_name="typed-model").exists()
    else:
        case = Case.objects.get(model_name="typed-model")
        assert client.get(case.get_absolute_url()).status_code == 200


def test_an_empty_multipart_upload_is_refused_with_a_message(cast, client, case_at):
    case = case_at("documentation")
    client.force_login(cast.liaison)
    before = Document.objects.filter(case=case).count()
    response = client.post(
        reverse("submissions:document_upload", kwargs={"number": case.number}),
        data=b"",
        content_type="multipart/form-data; boundary=nothing-here",
    )
    assert 400 <= response.status_code < 500
    assert Document.objects.filter(case=case).count() == before


def test_a_clarification_due_on_february_thirtieth_is_refused_with_the_question_kept(
    cast, client, testing_case
):
    client.force_login(cast.manager)
    response = client.post(
        reverse("findings:clarification_new", kwargs={"number": testing_case.number}),
        {"question": "typed question about tokenizers", "due_date": "2027-02-30"},
    )
    assert response.status_code == 400
    assert "typed question about tokenizers" in page(response)
    assert not ClarificationRequest.objects.filter(case=testing_case).exists()


def test_metrics_that_are_not_json_are_refused_with_the_run_kept(cast, client, testing_case):
    client.force_login(cast.evaluator)
    response = client.post(
        reverse("findings:evaluation_new", kwargs={"number": testing_case.number}),
        {
            "category": "hallucination",
            "title": "typed run title",
            "status": "completed",
            "metrics": "{accuracy: 0.9",
            "model_version": testing_case.versions.get().pk,
        },
    )
    assert response.status_code == 400
    assert "typed run title" in page(response)
    assert not EvaluationRun.objects.filter(case=testing_case).exists()


def test_metrics_holding_a_nul_character_are_refused_not_a_server_error(cast, client, testing_case):
    client.force_login(cast.evaluator)
    response = client.post(
        reverse("findings:evaluation_new", kwargs={"number": testing_case.number}),
        {
            "category": "hallucination",
            "title": "typed nul run",
            "status": "completed",
            "metrics": '{"acc\\u0000uracy": 0.9}',
            "model_version": testing_case.versions.get().pk,
        },
    )
    assert response.status_code == 400
    assert "typed nul run" in page(response)
    assert not EvaluationRun.objects.filter(case=testing_case).exists()


def test_finishing_a_run_with_an_unknown_status_changes_nothing(cast, client, testing_case):
    from findings import services as findings_services

    run = findings_services.record_evaluation_run(
        case=testing_case, actor=cast.evaluator, category="other", title="Running",
        summary="", metrics={}, status=EvaluationRun.RunStatus.RUNNING,
    )  # fmt: skip
    client.force_login(cast.evaluator)
    response = client.post(
        reverse("findings:evaluation_finish", kwargs={"number": testing_case.number, "pk": run.pk}),
        {"status": "exploded"},
    )
    assert 300 <= response.status_code < 500
    run.refresh_from_db()
    assert run.status == EvaluationRun.RunStatus.RUNNING


def test_a_token_that_expires_in_a_huge_number_of_days_is_refused(cast, client):
    client.force_login(cast.liaison)
    response = client.post(
        reverse("accounts:api_tokens"),
        {"name": "typed token name", "access": "read_only", "expires_in_days": "10" * 12},
    )
    assert response.status_code == 400
    assert "typed token name" in page(response)
    assert not cast.liaison.api_tokens.exists()


def test_a_webhook_to_a_javascript_url_is_refused(cast, client):
    client.force_login(cast.liaison)
    response = client.post(reverse("webhooks:webhooks"), {"url": "javascript:alert(1)//x.com"})
    assert response.status_code == 400
    assert not cast.liaison.webhooks.exists()


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/cases/CAISI-26-1/",
        "/cases/caisi-2026-0001/",
        "/cases/CAISI-2026-0001%00/",
        "/cases/%00/statements/%00/pdf/",
        "/cases/CAISI-2026-0001/statements/" + "9" * 300 + "/pdf/",
        "/verify/%00/",
        "/verify/" + "A" * 2000 + "/",
        "/cases/CAISI-2026-0001/documents/99999999999999999999999/download/",
        "/cases/CAISI-2026-0001/findings/-1/",
        "/api/v1/cases/%00/",
        "/api/v1/cases/..%2F..%2Fetc%2Fpasswd/status/",
        "/api/v1/cases/" + "C" * 5000 + "/",
        "/api/v1/cases/CAISI-2026-0001/documents/99999999999999999999999/download/",
    ],
)
def test_case_numbers_and_ids_that_match_no_pattern_are_404(cast, client, case_at, path):
    case_at("triage")
    client.force_login(cast.manager)
    assert client.get(path).status_code == 404


def test_another_cases_objects_in_a_nested_url_are_404(cast, client, case_at):
    mine = case_at("findings")
    theirs = case_at("findings", title="Another Acme case")
    document = theirs.documents.first()
    finding = theirs.findings.get()
    version = theirs.versions.get()
    client.force_login(cast.liaison)
    for name, pk in [
        ("submissions:document_download", document.pk),
        ("findings:finding", finding.pk),
        ("submissions:version_edit", version.pk),
    ]:
        url = reverse(name, kwargs={"number": mine.number, "pk": pk})
        assert client.get(url).status_code == 404, url
    respond = reverse("findings:finding_respond", kwargs={"number": mine.number, "pk": finding.pk})
    assert client.post(respond, {"kind": "mitigated", "mitigation": "x"}).status_code == 404
    finding.refresh_from_db()
    assert not finding.responses.exists()


# --- the REST API ---------------------------------------------------------------------------


def test_api_malformed_json_is_a_400_problem(cast, api_as):
    before = Case.objects.count()
    response = api_as(cast.liaison).post(
        "/api/v1/cases/", data='{"title": "x", "model_name": ', content_type="application/json"
    )
    assert_problem(response, 400)
    assert Case.objects.count() == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"title": ["a", "list"], "model_name": "m"}, "title"),
        ({"title": {"an": "object"}, "model_name": "m"}, "title"),
        ({"title": "t", "model_name": "m", "parameter_count": "lots"}, "parameter_count"),
        ({"title": "t", "model_name": "m", "parameter_count": -1}, "parameter_count"),
        ({"title": "t", "model_name": "m", "parameter_count": 10**30}, "parameter_count"),
        ({"title": "t", "model_name": "m", "planned_release_date": "2027-02-30"}, None),
        ({"title": "t", "model_name": "m", "release_type": "orbital"}, "release_type"),
        ({"title": "t\x00", "model_name": "m"}, "title"),
        ({"title": "T" * 201, "model_name": "m"}, "title"),
        ([1, 2, 3], None),
        ("just a string", None),
    ],
)
def test_api_wrong_types_and_values_are_400_problems_naming_the_field(cast, api_as, body, field):
    before = Case.objects.count()
    response = api_as(cast.liaison).post("/api/v1/cases/", body, format="json")
    assert_problem(response, 400, field)
    assert Case.objects.count() == before


def test_api_wrong_content_type_is_a_415_problem(cast, api_as):
    client = api_as(cast.liaison)
    for content_type, data in [
        ("text/plain", "title=x&model_name=y"),
        ("application/xml", "<case><title>x</title></case>"),
    ]:
        response = client.post("/api/v1/cases/", data=data, content_type=content_type)
        assert_problem(response, 415)
    assert not Case.objects.exists()


def test_api_invalid_cursors_are_4xx_problems(cast, api_as, case_at):
    case = case_at("triage")
    client = api_as(cast.manager)
    for url in ("/api/v1/cases/", f"/api/v1/cases/{case.number}/timeline/"):
        for cursor in ("garbage", "%00", "cD1ub3QtYS1udW1iZXI=", "bz0tNSZwPTE=", "cD0lMDA="):
            response = client.get(url, {"cursor": cursor})
            assert 400 <= response.status_code < 500, (url, cursor, response.status_code)


def test_api_garbage_if_none_match_gets_the_full_body(cast, api_as, case_at):
    case = case_at("triage")
    client = api_as(cast.liaison)
    for garbage in ('"', "W/", "*, W/", "\x7f\x01", "x" * 8000, '"a", , ,"b'):
        for endpoint in ("", "status/"):
            response = client.get(
                f"/api/v1/cases/{case.number}/{endpoint}", HTTP_IF_NONE_MATCH=garbage
            )
            assert response.status_code == 200, (garbage, endpoint)
            assert response.json()["number"] == case.number


def test_api_bad_filters_and_page_sizes_never_fail(cast, api_as):
    client = api_as(cast.manager)
    for params, status in [
        ({"status": SQLISH}, 400),
        ({"updated_after": "2026-13-45T99:00"}, 400),
        ({"overdue": "maybe"}, 400),
        ({"organization": "\x00"}, 400),
        ({"page_size": "-1"}, 400),
        ({"page_size": "99999999999999999999"}, 200),
    ]:
        assert client.get("/api/v1/cases/", params).status_code == status, params


def test_api_evaluation_metrics_of_the_wrong_type_or_with_nul_are_400(cast, api_as, testing_case):
    client = api_as(cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/evaluations/"
    for metrics in ({"accuracy": "high"}, ["a"], {"acc\x00uracy": 0.5}, {"x": 1e400}):
        body = json.dumps(
            {"category": "other", "title": "typed", "status": "completed", "metrics": metrics}
        ).replace("Infinity", "1e400")
        response = client.post(url, data=body, content_type="application/json")
        assert_problem(response, 400, None)
    assert not EvaluationRun.objects.filter(case=testing_case).exists()


def test_api_finding_evidence_with_a_huge_or_foreign_id_is_400(cast, api_as, testing_case, case_at):
    other = case_at("findings", title="Other")
    client = api_as(cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/findings/"
    base = {"severity": "low", "category": "other", "title": "typed", "description": "d"}
    for evaluation in (10**30, other.evaluations.get().pk, "seven", -1):
        response = client.post(url, base | {"evaluation": evaluation}, format="json")
        assert_problem(response, 400, "evaluation")
    response = client.post(url, base | {"severity": "catastrophic"}, format="json")
    assert_problem(response, 400, "severity")
    assert not Finding.objects.filter(case=testing_case).exists()


def test_api_document_upload_without_a_file_or_with_a_huge_version_id_is_400(cast, api_as, case_at):
    case = case_at("documentation")
    before = Document.objects.filter(case=case).count()
    client = api_as(cast.liaison)
    url = f"/api/v1/cases/{case.number}/documents/"
    assert_problem(client.post(url, {"kind": "other"}, format="multipart"), 400, "file")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("a.md", b"# A\n", content_type="text/markdown")
    response = client.post(
        url, {"kind": "other", "file": upload, "model_version": 10**30}, format="multipart"
    )
    assert_problem(response, 400, "model_version")
    assert Document.objects.filter(case=case).count() == before


def test_api_action_with_a_list_for_a_text_parameter_is_400(cast, api_as, case_at):
    case = case_at("triage")
    events = CaseEvent.objects.filter(case=case).count()
    response = api_as(cast.manager).post(
        f"/api/v1/cases/{case.number}/actions/assign_case_manager/",
        {"manager": ["manager@caisi.example"]},
        format="json",
    )
    assert_problem(response, 400, "manager")
    case.refresh_from_db()
    assert case.status == "triage" and CaseEvent.objects.filter(case=case).count() == events


# --- uploads --------------------------------------------------------------------------------


def test_weights_with_a_digest_that_is_not_hexadecimal_are_refused_and_nothing_stored(
    cast, client, case_at, settings
):
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from submissions import services as submissions_services

    case = case_at("access")
    grant = submissions_services.grant_access(
        case=case, actor=cast.liaison, method="weights_upload", nda_reference="NDA-1",
        nda_signed_on=timezone.localdate(), valid_until=timezone.now() + dt.timedelta(days=9),
    )  # fmt: skip
    client.force_login(cast.liaison)
    typed = "z" * 64
    response = client.post(
        reverse("submissions:artifact_upload", kwargs={"number": case.number, "pk": grant.pk}),
        {"expected_sha256": typed, "file": SimpleUploadedFile("w.safetensors", b"w" * 100)},
    )
    assert response.status_code == 400
    assert "hexadecimal" in page(response) and typed in page(response)
    grant.refresh_from_db()
    assert not grant.artifact
    media = Path(settings.MEDIA_ROOT)  # private to the test (see conftest)
    assert not media.exists() or not any(media.rglob("w.safetensors*"))
    assert not media.exists() or not any((media / "artifacts").rglob("*"))


def test_api_document_upload_sent_as_json_is_a_415_problem(cast, api_as, case_at):
    case = case_at("documentation")
    before = Document.objects.filter(case=case).count()
    response = api_as(cast.liaison).post(
        f"/api/v1/cases/{case.number}/documents/",
        {"kind": "other", "file": "SGVsbG8=", "title": "as json"},
        format="json",
    )
    assert_problem(response, 415)
    assert Document.objects.filter(case=case).count() == before


def test_api_another_cases_objects_in_a_nested_url_are_404(cast, api_as, case_at):
    mine = case_at("findings")
    theirs = case_at("findings", title="Another Acme case")
    document, finding = theirs.documents.first(), theirs.findings.get()
    client = api_as(cast.liaison)
    base = f"/api/v1/cases/{mine.number}"
    assert_problem(client.get(f"{base}/documents/{document.pk}/download/"), 404)
    answer = {"kind": "mitigated", "mitigation": "x"}
    assert_problem(client.post(f"{base}/findings/{finding.pk}/responses/", answer), 404)
    manager = api_as(cast.manager)
    review = {"accept": True}
    assert_problem(manager.post(f"{base}/documents/{document.pk}/review/", review), 404)
    finding.refresh_from_db()
    assert not finding.responses.exists()
