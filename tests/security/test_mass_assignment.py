"""Mass assignment: every form and API write, sent with fields the sender may not set.

Each extra field must be ignored or refused; the database is read back after
each request to prove none was applied.
"""

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, ConflictOfInterest
from cases.models import Case, Message
from clearance.models import ClearanceStatement
from findings.models import ClarificationRequest, EvaluationRun, Finding, FindingState
from review import demo
from review.services import assign_evaluator
from submissions.models import AccessGrant, Document, DocumentState, ModelVersion
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db


def forged(cast, *, case: Case | None = None) -> dict:
    """Fields nobody may set through a form or an endpoint, with values worth stealing."""
    globex = cast.other_liaison.membership.organization
    values = {
        "status": "cleared",
        "state": "resolved",
        "organization": globex.pk,
        "organization_id": globex.pk,
        "case_manager": cast.manager.pk,
        "case_manager_id": cast.manager.pk,
        "number": "CAISI-2026-0999",
        "verification_code": "FORGED-CODE",
        "created_by": cast.other_liaison.pk,
        "author": cast.other_liaison.pk,
        "owner": cast.other_liaison.pk,
        "user": cast.other_liaison.pk,
        "asked_by": cast.other_liaison.pk,
        "answered_by": cast.other_liaison.pk,
        "reviewed_by": cast.manager.pk,
        "verdict": "accepted",
        "resolution": "verified",
        "internal": "on",
        "submitted_at": "2026-01-01T00:00:00Z",
        "id": 999999,
        "pk": 999999,
    }
    if case is not None:
        values["case"] = case.pk
    return values


def json_forged(cast) -> dict:
    return {k: v for k, v in forged(cast).items() if k != "internal"} | {"internal": True}


def assert_case_untouched(case: Case, liaison, *, status: str) -> None:
    case.refresh_from_db()
    assert case.status == status
    assert case.organization == liaison.membership.organization
    assert case.number != "CAISI-2026-0999"
    assert case.created_by == liaison


# --- web forms ------------------------------------------------------------------------


def test_opening_a_case_ignores_status_organization_number_and_manager(cast, client):
    client.force_login(cast.liaison)
    data = {"title": "Forged open", "model_name": "Atlas"} | forged(cast)
    response = client.post(reverse("cases:new"), data)
    assert response.status_code == 302
    case = Case.objects.get(title="Forged open")
    assert_case_untouched(case, cast.liaison, status="intake")
    assert case.case_manager is None
    assert not Case.objects.filter(number="CAISI-2026-0999").exists()


def test_saving_the_intake_ignores_fields_outside_the_intake(cast, client, case_at):
    case = case_at("intake")
    client.force_login(cast.liaison)
    data = {"title": "Renamed", "model_name": "Atlas", "parameter_count": "7"} | forged(cast)
    response = client.post(reverse("cases:intake", kwargs={"number": case.number}), data)
    assert response.status_code in (200, 302)
    assert_case_untouched(case, cast.liaison, status="intake")
    assert case.title == "Renamed"
    assert case.case_manager is None


def test_a_new_version_belongs_to_the_case_in_the_url_and_its_liaison(cast, client, case_at):
    case = case_at("intake")
    globex_case = Case.objects.create(
        number="CAISI-2026-0888", organization=cast.other_liaison.membership.organization,
        title="Globex", model_name="G", created_by=cast.other_liaison,
    )  # fmt: skip
    client.force_login(cast.liaison)
    data = {
        "label": "v-forged",
        "vcs_reference": "git:abc123",
        "packaging": "container_image",
        "artifact_sha256": "a" * 64,
        "changelog": "x",
    } | forged(cast, case=globex_case)
    client.post(reverse("submissions:version_new", kwargs={"number": case.number}), data)
    version = ModelVersion.objects.get(label="v-forged")
    assert version.case == case
    assert version.created_by == cast.liaison
    assert version.submitted_at is None
    assert not globex_case.versions.exists()


def test_an_access_grant_ignores_revocation_and_ownership_fields(cast, client, case_at):
    case = case_at("access")
    client.force_login(cast.liaison)
    data = {
        "method": "api_endpoint",
        "api_url": "https://models.example/forged",
        "valid_until": (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"),
        "revoked_at": "2026-01-01T00:00",
        "revoked_by": cast.manager.pk,
        "verified_at": "2026-01-01T00:00",
        "credentials_encrypted": "plain",
    } | forged(cast)
    client.post(reverse("submissions:grant_new", kwargs={"number": case.number}), data)
    grant = AccessGrant.objects.get(endpoint_url="https://models.example/forged")
    assert grant.case == case
    assert grant.revoked_at is None
    assert grant.created_by == cast.liaison
    assert_case_untouched(case, cast.liaison, status="access")


def test_an_uploaded_document_starts_unreviewed_whatever_the_form_says(cast, client, case_at):
    case = case_at("documentation")
    client.force_login(cast.liaison)
    data = (
        {
            "kind": "other",
            "title": "Forged annex",
            "file": SimpleUploadedFile("annex.md", b"# Annex\n", content_type="text/markdown"),
            "review_comment": "Accepted by CAISI",
            "sha256": "0" * 64,
            "version_number": 77,
        }
        | forged(cast)
        | {"state": DocumentState.ACCEPTED}
    )
    client.post(reverse("submissions:document_upload", kwargs={"number": case.number}), data)
    document = Document.objects.get(title="Forged annex")
    assert document.state != DocumentState.ACCEPTED
    assert document.reviewed_by is None and document.review_comment == ""
    assert document.uploaded_by == cast.liaison
    assert document.version_number == 1
    assert document.sha256 == hashlib.sha256(b"# Annex\n").hexdigest()
    assert document.case == case


def test_a_liaison_cannot_mark_a_message_internal_or_post_it_as_someone_else(cast, client, case_at):
    case = case_at("triage")
    client.force_login(cast.liaison)
    data = {"body": "Forged message body"} | forged(cast)
    client.post(reverse("findings:messages", kwargs={"number": case.number}), data)
    message = Message.objects.get(body="Forged message body")
    assert message.internal is False
    assert message.author == cast.liaison
    assert message.case == case


def test_answering_a_clarification_cannot_close_it_or_change_who_asked(cast, client, testing_case):
    from findings import services as findings_services

    asked = findings_services.ask_clarification(
        case=testing_case, actor=cast.manager, question="Which tokenizer?",
        due_date=timezone.localdate() + dt.timedelta(days=3),
    )  # fmt: skip
    client.force_login(cast.liaison)
    url = reverse(
        "findings:clarification_answer", kwargs={"number": testing_case.number, "pk": asked.pk}
    )
    data = {"answer": "BPE, 200k vocabulary"} | forged(cast) | {"status": "closed"}
    data |= {"question": "Rewritten question", "due_date": "2099-01-01"}
    client.post(url, data)
    asked.refresh_from_db()
    assert asked.answer == "BPE, 200k vocabulary"
    assert asked.status != "closed"
    assert asked.question == "Which tokenizer?"
    assert asked.asked_by == cast.manager
    assert asked.answered_by == cast.liaison
    assert asked.due_date != dt.date(2099, 1, 1)


def test_a_finding_drafted_in_the_browser_stays_a_draft(cast, client, testing_case):
    client.force_login(cast.evaluator)
    data = (
        {
            "title": "Forged shared finding",
            "severity": "high",
            "category": "hallucination",
            "description": "d",
        }
        | forged(cast)
        | {"state": FindingState.SHARED, "shared_at": "2026-01-01T00:00:00Z"}
    )
    client.post(reverse("findings:finding_new", kwargs={"number": testing_case.number}), data)
    finding = Finding.objects.get(title="Forged shared finding")
    assert finding.state == FindingState.DRAFT
    assert finding.shared_at is None
    assert finding.created_by == cast.evaluator
    assert finding.case == testing_case


def test_answering_a_finding_cannot_resolve_it_or_lower_its_severity(cast, client, case_at):
    case = case_at("findings")
    finding = case.findings.get()
    client.force_login(cast.liaison)
    url = reverse("findings:finding_respond", kwargs={"number": case.number, "pk": finding.pk})
    data = {"kind": "mitigated", "mitigation": "A guardrail."} | forged(cast)
    data |= {"severity": "informational", "title": "Renamed by the company"}
    client.post(url, data)
    finding.refresh_from_db()
    assert finding.state == FindingState.ANSWERED
    assert finding.severity == "high"
    assert finding.title == "Role-play prompts bypass the refusal policy"
    assert finding.resolution == ""
    response = finding.responses.get()
    assert response.verdict == "pending"
    assert response.responded_by == cast.liaison
    assert response.reviewed_by is None


def test_an_evaluation_run_records_its_real_author_and_case(cast, client, testing_case):
    client.force_login(cast.evaluator)
    version = testing_case.versions.get()
    data = forged(cast) | {
        "category": "hallucination",
        "title": "Forged run",
        "status": "completed",
        "model_version": version.pk,
    }
    client.post(reverse("findings:evaluation_new", kwargs={"number": testing_case.number}), data)
    run = EvaluationRun.objects.get(title="Forged run")
    assert run.case == testing_case
    assert run.created_by == cast.evaluator


def test_withdrawing_with_a_forged_status_still_withdraws(cast, client, case_at):
    case = case_at("triage")
    client.force_login(cast.liaison)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "withdraw"})
    client.post(url, {"reason": "Release cancelled."} | forged(cast))
    assert_case_untouched(case, cast.liaison, status="withdrawn")
    assert case.case_manager is None


def test_settings_pages_create_tokens_webhooks_and_conflicts_for_the_requester(cast, client):
    client.force_login(cast.manager)
    extra = forged(cast) | {"user": cast.auditor.pk, "owner": cast.auditor.pk}
    extra |= {"secret_sha256": "0" * 64, "prefix": "forged", "active": "", "secret_encrypted": "x"}
    client.post(
        reverse("accounts:api_tokens"),
        {"name": "forged token", "access": "read_only"} | extra,
    )
    client.post(reverse("webhooks:webhooks"), {"url": "https://hooks.example/forged"} | extra)
    globex = cast.other_liaison.membership.organization
    client.post(
        reverse("cases:conflicts"),
        {"organization": globex.pk, "reason": "Forged conflict"} | extra,
    )
    token = ApiToken.objects.get(name="forged token")
    assert token.user == cast.manager and token.read_only and token.prefix != "forged"
    assert token.secret_sha256 != "0" * 64
    webhook = Webhook.objects.get(url="https://hooks.example/forged")
    assert webhook.owner == cast.manager and webhook.active
    assert ConflictOfInterest.objects.get(reason="Forged conflict").user == cast.manager


# --- the REST API ---------------------------------------------------------------------


def test_api_open_case_ignores_status_organization_number_and_manager(cast, api_as):
    response = api_as(cast.liaison).post(
        "/api/v1/cases/", {"title": "API forged", "model_name": "A"} | json_forged(cast),
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    case = Case.objects.get(title="API forged")
    assert_case_untouched(case, cast.liaison, status="intake")
    assert case.case_manager is None
    assert response.json()["number"] == case.number


def test_api_intake_patch_never_changes_status_organization_or_number(cast, api_as, case_at):
    case = case_at("intake")
    response = api_as(cast.liaison).patch(
        f"/api/v1/cases/{case.number}/", {"description": "Patched"} | json_forged(cast),
        format="json",
    )  # fmt: skip
    assert response.status_code in (200, 400), response.content
    assert_case_untouched(case, cast.liaison, status="intake")
    assert case.case_manager is None


def test_api_version_grant_and_document_ignore_forged_fields(cast, api_as, case_at):
    case = case_at("documentation")
    client = api_as(cast.liaison)
    base = f"/api/v1/cases/{case.number}"
    created = client.post(
        f"{base}/versions/",
        {"label": "api-forged", "vcs_reference": "git:f00d", "artifact_sha256": "b" * 64}
        | json_forged(cast),
        format="json",
    )
    assert created.status_code == 201, created.content
    version = ModelVersion.objects.get(label="api-forged")
    assert version.case == case and version.created_by == cast.liaison
    granted = client.post(
        f"{base}/access/",
        {
            "method": "api_endpoint",
            "endpoint_url": "https://models.example/api-forged",
            "valid_until": (timezone.now() + dt.timedelta(days=5)).isoformat(),
            "revoked_at": "2026-01-01T00:00:00Z",
        }
        | json_forged(cast),
        format="json",
    )
    assert granted.status_code == 201, granted.content
    assert AccessGrant.objects.get(endpoint_url__endswith="api-forged").revoked_at is None
    uploaded = client.post(
        f"{base}/documents/",
        {
            "kind": "other",
            "title": "API forged doc",
            "file": SimpleUploadedFile("a.md", b"# A\n", content_type="text/markdown"),
        }
        | forged(cast)
        | {"state": DocumentState.ACCEPTED},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    document = Document.objects.get(title="API forged doc")
    assert document.state != DocumentState.ACCEPTED and document.case == case
    assert_case_untouched(case, cast.liaison, status="documentation")


def test_api_finding_draft_stays_a_draft_and_answer_cannot_resolve(cast, api_as, case_at):
    testing = case_at("testing")

    assign_evaluator(case=testing, actor=cast.manager, evaluator=cast.evaluator)
    drafted = api_as(cast.evaluator).post(
        f"/api/v1/cases/{testing.number}/findings/",
        {"title": "API forged finding", "severity": "low", "category": "other", "description": "d"}
        | json_forged(cast)
        | {"state": "shared", "shared_at": "2026-01-01T00:00:00Z"},
        format="json",
    )
    assert drafted.status_code == 201, drafted.content
    finding = Finding.objects.get(title="API forged finding")
    assert finding.state == FindingState.DRAFT and finding.created_by == cast.evaluator

    shared = case_at("findings")
    target = shared.findings.get()
    answered = api_as(cast.liaison).post(
        f"/api/v1/cases/{shared.number}/findings/{target.pk}/responses/",
        {"kind": "mitigated", "mitigation": "Guardrail."}
        | json_forged(cast)
        | {"severity": "informational"},
        format="json",
    )
    assert answered.status_code == 201, answered.content
    target.refresh_from_db()
    assert target.state == FindingState.ANSWERED and target.severity == "high"
    assert target.responses.get().verdict == "pending"


def test_api_clarification_answer_cannot_close_the_request(cast, api_as, testing_case):
    from findings import services as findings_services

    asked = findings_services.ask_clarification(
        case=testing_case, actor=cast.manager, question="Context length?",
        due_date=timezone.localdate() + dt.timedelta(days=3),
    )  # fmt: skip
    response = api_as(cast.liaison).post(
        f"/api/v1/cases/{testing_case.number}/clarifications/{asked.pk}/answer/",
        {"answer": "128k"} | json_forged(cast) | {"status": "closed", "question": "Other?"},
        format="json",
    )
    assert response.status_code == 200, response.content
    asked.refresh_from_db()
    assert asked.status != "closed" and asked.question == "Context length?"
    assert asked.answered_by == cast.liaison
    assert ClarificationRequest.objects.filter(case=testing_case).count() == 1


def test_api_evaluation_record_takes_no_author_or_case(cast, api_as, testing_case):
    response = api_as(cast.evaluator).post(
        f"/api/v1/cases/{testing_case.number}/evaluations/",
        json_forged(cast) | {"category": "other", "title": "API forged run", "status": "completed"},
        format="json",
    )
    assert response.status_code == 201, response.content
    run = EvaluationRun.objects.get(title="API forged run")
    assert run.case == testing_case and run.created_by == cast.evaluator


def test_api_action_with_a_forged_status_is_refused_or_ignored(cast, api_as, case_at):
    case = case_at("triage")
    response = api_as(cast.liaison).post(
        f"/api/v1/cases/{case.number}/actions/withdraw/",
        {"reason": "Cancelled."} | json_forged(cast),
        format="json",
    )
    assert response.status_code in (200, 400), response.content
    case.refresh_from_db()
    assert case.status in ("withdrawn", "triage")
    assert case.organization == cast.liaison.membership.organization
    assert case.case_manager is None


def test_api_clearance_keeps_its_own_verification_code_and_number(cast, api_as, case_at):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    response = api_as(cast.official).post(
        f"/api/v1/cases/{case.number}/actions/issue_clearance/",
        {"version": "v1.0-rc1", "scope": "As deployed.", "conditions": ""} | json_forged(cast),
        format="json",
    )
    assert response.status_code in (200, 400), response.content
    assert not ClearanceStatement.objects.filter(verification_code="FORGED-CODE").exists()
    assert not ClearanceStatement.objects.filter(number="CAISI-2026-0999").exists()
    case.refresh_from_db()
    assert case.status in ("cleared", "findings")


# --- CAISI's reviews and questions ------------------------------------------------------------


def uploaded_document(case, liaison) -> Document:
    from django.core.files.base import ContentFile

    from submissions import services as submissions_services

    return submissions_services.upload_document(
        case=case, actor=liaison, kind="deployment_plan", file=ContentFile(b"# Plan\n"),
        original_name="plan.md", title="Plan",
    )  # fmt: skip


def test_reviewing_a_document_cannot_rename_it_or_move_it(cast, client, case_at):
    case = case_at("documentation")
    document = uploaded_document(case, cast.liaison)
    original = (document.kind, document.title, document.original_name, document.sha256)
    client.force_login(cast.manager)
    url = reverse("submissions:document_review", kwargs={"number": case.number, "pk": document.pk})
    data = {"decision": "accept"} | forged(cast) | {"state": DocumentState.ACCEPTED}
    data |= {"kind": "other", "title": "Renamed", "original_name": "x.exe", "sha256": "0" * 64}
    client.post(url, data)
    document.refresh_from_db()
    assert (document.kind, document.title, document.original_name, document.sha256) == original
    assert document.reviewed_by == cast.manager and document.case == case


def test_reviewing_an_answer_cannot_change_the_finding_itself(cast, client, case_at):
    from findings import services as findings_services
    from findings.models import FindingResponse

    case = case_at("findings")
    finding = case.findings.get()
    findings_services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind=FindingResponse.Kind.MITIGATED,
        mitigation="A guardrail.",
    )  # fmt: skip
    client.force_login(cast.manager)
    url = reverse("findings:finding_review", kwargs={"number": case.number, "pk": finding.pk})
    data = forged(cast) | {"verdict": "accepted", "note": "Confirmed."}
    data |= {"severity": "low", "title": "Renamed", "category": "other", "mitigation": "Changed"}
    client.post(url, data)
    finding.refresh_from_db()
    assert finding.severity == "high" and finding.category == "adversarial_robustness"
    assert finding.title == "Role-play prompts bypass the refusal policy"
    answer = finding.responses.get()
    assert answer.mitigation == "A guardrail." and answer.responded_by == cast.liaison
    assert answer.reviewed_by == cast.manager


def test_asking_a_clarification_cannot_pre_answer_it(cast, client, testing_case):
    client.force_login(cast.manager)
    url = reverse("findings:clarification_new", kwargs={"number": testing_case.number})
    due = (timezone.localdate() + dt.timedelta(days=4)).isoformat()
    data = forged(cast) | {"question": "Forged question?", "due_date": due}
    data |= {"status": "answered", "answer": "Pre-filled", "answered_by": cast.liaison.pk}
    client.post(url, data)
    asked = ClarificationRequest.objects.get(question="Forged question?")
    assert asked.case == testing_case and asked.asked_by == cast.manager
    assert asked.answer == "" and asked.answered_by is None and asked.status == "open"


def test_editing_a_draft_version_cannot_move_or_submit_it(cast, client, case_at):
    from submissions import services as submissions_services

    case = case_at("intake")
    version = submissions_services.add_version(
        case=case, actor=cast.liaison, label="v-draft", vcs_reference="git:1"
    )
    other = case_at("intake", title="Another case")
    client.force_login(cast.liaison)
    url = reverse("submissions:version_edit", kwargs={"number": case.number, "pk": version.pk})
    data = forged(cast, case=other) | {"label": "v-edited", "vcs_reference": "git:2"}
    data |= {"packaging": "container_image", "changelog": ""}
    client.post(url, data)
    version.refresh_from_db()
    assert version.label == "v-edited" and version.case == case
    assert version.submitted_at is None and version.created_by == cast.liaison
    assert not other.versions.filter(label="v-edited").exists()


def test_api_reviews_and_questions_ignore_forged_fields(cast, api_as, case_at, testing_case):
    from findings import services as findings_services
    from findings.models import FindingResponse

    client = api_as(cast.manager)
    documented = case_at("documentation")
    document = uploaded_document(documented, cast.liaison)
    reviewed = client.post(
        f"/api/v1/cases/{documented.number}/documents/{document.pk}/review/",
        json_forged(cast) | {"accept": True, "kind": "other", "title": "Renamed"},
        format="json",
    )
    assert reviewed.status_code == 200, reviewed.content
    document.refresh_from_db()
    assert document.title != "Renamed" and document.kind != "other"

    shared = case_at("findings")
    finding = shared.findings.get()
    findings_services.respond_to_finding(
        finding=finding, actor=cast.liaison, kind=FindingResponse.Kind.MITIGATED,
        mitigation="A guardrail.",
    )  # fmt: skip
    verdict = client.post(
        f"/api/v1/cases/{shared.number}/findings/{finding.pk}/review/",
        json_forged(cast) | {"verdict": "accepted", "severity": "low", "title": "Renamed"},
        format="json",
    )
    assert verdict.status_code == 200, verdict.content
    finding.refresh_from_db()
    assert finding.severity == "high" and finding.title != "Renamed"

    due = (timezone.localdate() + dt.timedelta(days=4)).isoformat()
    asked = client.post(
        f"/api/v1/cases/{testing_case.number}/clarifications/",
        json_forged(cast)
        | {"question": "API forged question?", "due_date": due}
        | {"status": "answered", "answer": "Pre-filled"},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    question = ClarificationRequest.objects.get(question="API forged question?")
    assert question.answer == "" and question.status == "open"
    assert question.asked_by == cast.manager and question.case == testing_case


# --- the desk and personal settings -----------------------------------------------------------


def test_assigning_an_evaluator_changes_nothing_else_on_the_case(cast, client, case_at):
    case = case_at("testing")
    manager_before = case.case_manager
    client.force_login(cast.manager)
    url = reverse("cases:evaluators", kwargs={"number": case.number})
    client.post(url, forged(cast) | {"evaluator": cast.other_evaluator.pk})
    case.refresh_from_db()
    assert cast.other_evaluator in case.evaluators.all()
    assert_case_untouched(case, cast.liaison, status="testing")
    assert case.case_manager == manager_before


def test_bulk_assignment_sets_only_the_case_manager(cast, client, case_at):
    case = case_at("triage")
    client.force_login(cast.manager)
    data = forged(cast) | {"cases": [case.number], "person": cast.manager.pk, "next": "/desk/"}
    client.post(reverse("cases:bulk_assign"), data)
    case.refresh_from_db()
    assert case.case_manager == cast.manager
    assert case.status == "access"  # the assignment's own transition, not the forged "cleared"
    assert case.organization == cast.liaison.membership.organization
    assert case.number != "CAISI-2026-0999"


def test_notification_settings_are_saved_for_the_requester_only(cast, client):
    from notifications.models import NotificationKind, NotificationPreference

    client.force_login(cast.liaison)
    choices = {kind.value: "off" for kind in NotificationKind}
    response = client.post(
        reverse("notifications:notification_preferences"),
        forged(cast) | choices | {"user": cast.auditor.pk},
    )
    assert response.status_code == 302
    assert NotificationPreference.objects.filter(user=cast.liaison, delivery="off").exists()
    assert not NotificationPreference.objects.filter(user=cast.auditor).exists()
    assert not NotificationPreference.objects.exclude(user=cast.liaison).exists()
