"""Writing through the API: lifecycle actions and the company's pipeline writes."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Case, CaseEvent
from findings import services as findings_services
from review import demo
from submissions.checklist import PRACTICES
from submissions.models import REQUIRED_DOCUMENT_KINDS, DocumentKind

pytestmark = pytest.mark.django_db


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    return body


# --- lifecycle actions -----------------------------------------------------------------


def test_refused_action_is_409_with_the_gate_blockers(case_at, cast, client_for):
    case = case_at("intake")
    body = problem(
        client_for(cast.liaison).post(f"/api/v1/cases/{case.number}/actions/submit_intake/"),
        409,
    )
    assert "The intake is missing the architecture." in body["blockers"]
    assert any("model version" in b for b in body["blockers"])
    case.refresh_from_db()
    assert case.status == "intake"


def test_action_by_the_wrong_role_is_a_403_with_the_reason(case_at, cast, client_for):
    case = case_at("access")
    body = problem(
        client_for(cast.liaison).post(f"/api/v1/cases/{case.number}/actions/verify_access/"),
        403,
    )
    assert body["detail"] == "Only a case manager can verify model access."
    case.refresh_from_db()
    assert case.status == "access"


def test_action_on_a_case_the_user_cannot_see_is_404(case_at, cast, client_for):
    case = case_at("triage")
    for who in (cast.other_liaison, cast.other_evaluator):
        response = client_for(who).post(
            f"/api/v1/cases/{case.number}/actions/withdraw/", {}, format="json"
        )
        problem(response, 404)
    case.refresh_from_db()
    assert case.status == "triage"


def test_unknown_action_is_404(case_at, cast, client_for):
    case = case_at("intake")
    problem(client_for(cast.liaison).post(f"/api/v1/cases/{case.number}/actions/approve/"), 404)


def test_action_parameters_are_checked_field_by_field(case_at, cast, client_for):
    case = case_at("triage")
    client = client_for(cast.manager)
    url = f"/api/v1/cases/{case.number}/actions/"
    body = problem(client.post(url + "assign_case_manager/", {"manager": "x"}, format="json"), 400)
    assert body["errors"][0]["field"] == "manager"
    body = problem(
        client.post(
            url + "assign_case_manager/", {"manager": "ghost@caisi.example"}, format="json"
        ),
        400,
    )
    assert body["errors"] == [{"field": "manager", "message": "No case manager has that email."}]
    body = problem(
        client.post(
            url + "assign_case_manager/",
            {"manager": cast.manager.email, "reason": "why not"},
            format="json",
        ),
        400,
    )
    assert body["errors"][0]["field"] == "reason"
    done = client.post(url + "assign_case_manager/", {"manager": cast.manager.email}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "access"
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event.verb == "assign_case_manager" and event.actor == cast.manager


def test_required_action_parameter_missing_is_refused(case_at, cast, client_for):
    case = case_at("triage")
    body = problem(
        client_for(cast.manager).post(f"/api/v1/cases/{case.number}/actions/close_case/"), 400
    )
    assert [e["message"] for e in body["errors"]] == ["The reason is required."]


# --- the company's writes ------------------------------------------------------------------


def test_open_case_validates_each_field(cast, client_for):
    body = problem(
        client_for(cast.liaison).post(
            "/api/v1/cases/",
            {"release_type": "leaked", "parameter_count": -5, "planned_release_date": "soon"},
            format="json",
        ),
        400,
    )
    fields = {e["field"] for e in body["errors"]}
    assert {
        "title",
        "model_name",
        "release_type",
        "parameter_count",
        "planned_release_date",
    } <= fields
    assert not Case.objects.exists()


def test_only_a_company_liaison_opens_cases(cast, client_for):
    response = client_for(cast.manager).post(
        "/api/v1/cases/", {"title": "t", "model_name": "m"}, format="json"
    )
    problem(response, 403)


def test_intake_is_saved_by_patch_and_refused_after_submission(case_at, cast, client_for):
    case = case_at("intake")
    client = client_for(cast.liaison)
    url = f"/api/v1/cases/{case.number}/"
    saved = client.patch(url, {"architecture": "Dense transformer"}, format="json")
    assert saved.status_code == 200 and saved.json()["architecture"] == "Dense transformer"
    problem(client_for(cast.other_liaison).patch(url, {"title": "x"}, format="json"), 404)
    submitted = case_at("triage", title="Submitted")
    problem(client.patch(f"/api/v1/cases/{submitted.number}/", {"title": "x"}, format="json"), 409)


def test_version_problems_come_back_as_400(case_at, cast, client_for):
    case = case_at("intake")
    body = problem(
        client_for(cast.liaison).post(
            f"/api/v1/cases/{case.number}/versions/",
            {"label": "v2", "vcs_reference": "abc123", "artifact_sha256": "not-hex"},
            format="json",
        ),
        400,
    )
    assert "64 hexadecimal" in body["detail"]


def test_document_over_the_size_cap_is_a_400_naming_the_file(
    case_at, cast, client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.SUBMISSION_DOCUMENT_MAX_BYTES = 100
    case = case_at("documentation")
    response = client_for(cast.liaison).post(
        f"/api/v1/cases/{case.number}/documents/",
        {"kind": "model_card", "file": SimpleUploadedFile("card.md", b"#" * 500)},
        format="multipart",
    )
    body = problem(response, 400)
    assert body["errors"][0]["field"] == "file"
    assert "larger than the limit" in body["errors"][0]["message"]
    assert not case.documents.filter(version_number__gt=1).exists()


def test_outsider_cannot_add_a_version_to_another_companys_case(case_at, cast, client_for):
    case = case_at("intake")
    problem(
        client_for(cast.other_liaison).post(
            f"/api/v1/cases/{case.number}/versions/",
            {"label": "v9", "vcs_reference": "abc"},
            format="json",
        ),
        404,
    )
    assert not case.versions.exists()


def test_company_answers_a_clarification_request(case_at, cast, client_for):
    case = case_at("testing")
    asked = findings_services.ask_clarification(
        case=case,
        actor=cast.manager,
        question="Which system prompt is deployed?",
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )
    url = f"/api/v1/cases/{case.number}/clarifications/{asked.pk}/answer/"
    problem(client_for(cast.other_liaison).post(url, {"answer": "x"}, format="json"), 404)
    problem(client_for(cast.liaison).post(url, {"answer": ""}, format="json"), 400)
    answered = client_for(cast.liaison).post(url, {"answer": "The v3 prompt."}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    problem(client_for(cast.liaison).post(url, {"answer": "Again"}, format="json"), 409)


def test_company_cannot_answer_a_draft_finding_it_cannot_see(case_at, cast, client_for):
    case = case_at("testing")
    draft = demo.record_evaluation(case, cast.manager)
    response = client_for(cast.liaison).post(
        f"/api/v1/cases/{case.number}/findings/{draft.pk}/responses/",
        {"kind": "mitigated", "mitigation": "A filter."},
        format="json",
    )
    problem(response, 404)


# --- the whole review, from a pipeline ---------------------------------------------------


def test_rest_client_follows_a_case_from_intake_to_clearance(cast, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    company, desk, official = (
        client_for(cast.liaison),
        client_for(cast.manager),
        client_for(cast.official),
    )
    release = timezone.localdate() + dt.timedelta(days=200)
    opened = company.post(
        "/api/v1/cases/",
        {
            "title": "Orion 2 review",
            "model_name": "Orion 2",
            "description": "A general assistant.",
            "architecture": "Decoder-only transformer",
            "parameter_count": 34_000_000_000,
            "training_compute": "8e23 FLOP",
            "training_data_description": "Licensed text to 2026-06.",
            "intended_uses": "Coding help.",
            "modality": "text",
            "release_type": "hosted",
            "planned_release_date": release.isoformat(),
        },
        format="json",
    )
    assert opened.status_code == 201, opened.json()
    number = opened.json()["number"]
    assert opened["Location"].endswith(f"/api/v1/cases/{number}/")
    base = f"/api/v1/cases/{number}/"

    def act(client, action, **params):
        response = client.post(f"{base}actions/{action}/", params, format="json")
        assert response.status_code == 200, response.json()
        return response.json()["status"]

    def poll(etag=None):
        headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
        response = company.get(f"{base}status/", **headers)
        return (
            response.status_code,
            response["ETag"],
            (response.json()["status"] if response.status_code == 200 else None),
        )

    code, etag, status = poll()
    assert (code, status) == (200, "intake")
    assert poll(etag)[0] == 304

    version = company.post(
        f"{base}versions/",
        {"label": "v2.0", "vcs_reference": "v2.0-tag", "artifact_sha256": "ab" * 32},
        format="json",
    )
    assert version.status_code == 201
    assert act(company, "submit_intake") == "triage"
    assert act(desk, "assign_case_manager", manager=cast.manager.email) == "access"

    grant = company.post(
        f"{base}access/",
        {
            "method": "api_endpoint",
            "endpoint_url": "https://models.example/orion",
            "credentials": "secret-key",
            "nda_reference": "NDA-77",
            "nda_signed_on": timezone.localdate().isoformat(),
            "valid_until": (timezone.now() + dt.timedelta(days=60)).isoformat(),
        },
        format="json",
    )
    assert grant.status_code == 201, grant.json()
    assert "credentials" not in grant.json()
    assert act(desk, "verify_access") == "documentation"

    for kind in REQUIRED_DOCUMENT_KINDS:
        text = (
            demo.DEMO_MODEL_CARD.format(model="Orion 2")
            if kind == DocumentKind.MODEL_CARD
            else f"# {kind.label}\n"
        )
        uploaded = company.post(
            f"{base}documents/",
            {
                "kind": kind.value,
                "file": SimpleUploadedFile(f"{kind.value}.md", text.encode(), "text/markdown"),
                "report_type": "red_teaming" if kind == DocumentKind.SAFETY_REPORT else "",
            },
            format="multipart",
        )
        assert uploaded.status_code == 201, uploaded.json()
        reviewed = desk.post(
            f"{base}documents/{uploaded.json()['id']}/review/", {"accept": True}, format="json"
        )
        assert reviewed.json()["state"] == "accepted"
    # The deployment checklist, answered in full: the documentation gate reads it too.
    answers = {key: {"status": "implemented", "note": "In the safety report."} for key in PRACTICES}
    checklist = company.patch(f"{base}checklist/", {"answers": answers}, format="json")
    assert checklist.status_code == 200 and checklist.json()["answered"] == len(PRACTICES)
    assert act(desk, "accept_documentation") == "testing"

    run = desk.post(
        f"{base}evaluations/",
        {
            "category": "adversarial_robustness",
            "title": "Jailbreak suite",
            "metrics": {"asr": 0.05},
        },
        format="json",
    )
    assert run.status_code == 201, run.json()
    finding = desk.post(
        f"{base}findings/",
        {
            "severity": "high",
            "category": "adversarial_robustness",
            "title": "Role-play bypass",
            "description": "Two prompts elicited disallowed content.",
            "evaluation": run.json()["id"],
        },
        format="json",
    )
    assert finding.status_code == 201, finding.json()
    assert company.get(f"{base}findings/").json() == []  # still a draft
    assert act(desk, "share_findings") == "findings"

    code, etag, status = poll(etag)
    assert (code, status) == (200, "findings")
    refused = official.post(
        f"{base}actions/issue_clearance/", {"version": "v2.0", "scope": "Hosted"}, format="json"
    )
    assert refused.status_code == 409
    assert any("Role-play bypass" in b for b in refused.json()["blockers"])

    shared = company.get(f"{base}findings/").json()
    assert [f["title"] for f in shared] == ["Role-play bypass"]
    answer = company.post(
        f"{base}findings/{shared[0]['id']}/responses/",
        {"kind": "mitigated", "mitigation": "An output classifier blocks the pattern."},
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["state"] == "answered"
    review = desk.post(
        f"{base}findings/{shared[0]['id']}/review/", {"verdict": "accepted"}, format="json"
    )
    assert review.json()["state"] == "resolved"

    cleared = act(
        official, "issue_clearance", version="v2.0", scope="Orion 2 as hosted.", conditions=""
    )
    assert cleared == "cleared"
    code, etag, status = poll(etag)
    assert (code, status) == (200, "cleared")
    detail = company.get(base).json()
    assert detail["step"] == 7
    statement = detail["clearance_statement"]
    assert statement["status"] == "issued" and statement["vcs_reference"] == "v2.0-tag"
    assert "/verify/" in statement["verification_url"]
    timeline = company.get(f"{base}timeline/?page_size=500").json()["results"]
    assert [e["to_status"] for e in timeline if e["to_status"]] == [
        "intake",
        "triage",
        "access",
        "documentation",
        "testing",
        "findings",
        "cleared",
    ]
