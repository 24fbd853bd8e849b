"""Confidentiality and custody: conflicts of interest, drafts, what the company can time,
who takes the model, and whose names the company sees."""

import datetime as dt
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConflictOfInterest
from cases import services as case_services
from cases.models import Case, CaseEvent
from findings import services as findings_services
from notifications.models import Notification
from notifications.services import notify_event
from review import services as review_services
from review.desk import dashboard_data
from review.services import assign_evaluator, withdraw
from submissions import services as submissions_services
from submissions.models import AccessMethod, DocumentKind, ModelVersion
from webhooks.models import WebhookDelivery
from webhooks.services import claim_webhook_deliveries, register_webhook

SECRET = "sk-acme-CONFID-secret"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user):
    from rest_framework.test import APIClient

    from accounts.services import create_api_token

    _, raw = create_api_token(user=user, name="confid", read_only=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def grant(case, liaison, **overrides):
    fields = {
        "method": AccessMethod.API_ENDPOINT,
        "endpoint_url": "https://eval.acme.example/v1",
        "credentials": SECRET,
        "nda_reference": "NDA-9",
        "nda_signed_on": timezone.localdate(),
        "valid_until": timezone.now() + dt.timedelta(days=30),
    }
    return submissions_services.grant_access(case=case, actor=liaison, **{**fields, **overrides})


def weights(case, liaison):
    now = timezone.now()
    content = b"the weights under review"
    # The version under test declares the digest of the weights the company sends.
    ModelVersion.objects.filter(pk=ModelVersion.objects.under_test(case).pk).update(
        artifact_sha256=hashlib.sha256(content).hexdigest()
    )
    g = submissions_services.grant_access(
        case=case,
        actor=liaison,
        method=AccessMethod.WEIGHTS_UPLOAD,
        nda_reference="NDA-10",
        nda_signed_on=timezone.localdate(),
        valid_from=now,
        valid_until=now + dt.timedelta(days=30),
    )
    return submissions_services.upload_artifact(
        grant=g,
        actor=liaison,
        file=ContentFile(content),
        original_name="weights.safetensors",
        expected_sha256=hashlib.sha256(content).hexdigest(),
    )


def acme(cast):
    return cast.liaison.membership.organization


# --- 4. conflicts of interest ------------------------------------------------------------


def test_a_conflicted_case_manager_does_not_see_the_company_cases_anywhere(case_at, cast):
    case = case_at("testing")
    document = submissions_services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.OTHER,
        file=ContentFile(b"# Annex\n"),
        original_name="annex.md",
        title="Annex",
    )
    g = grant(case, cast.liaison)
    review_services.declare_conflict(actor=cast.manager, organization=acme(cast), reason="Ex-Acme")
    manager = type(cast.manager).objects.get(pk=cast.manager.pk)
    assert not Case.objects.visible_to(manager).filter(pk=case.pk).exists()
    web = signed_in(manager)
    assert web.get(case.get_absolute_url()).status_code == 404
    assert (
        web.get(reverse("submissions:document_download", args=[case.number, document.pk]))
    ).status_code == 404
    reveal = web.post(reverse("submissions:grant_reveal", args=[case.number, g.pk]))
    assert reveal.status_code == 404 and SECRET not in reveal.content.decode()
    api = api_for(manager)
    assert case.number not in api.get("/api/v1/cases/").content.decode()
    assert api.get(f"/api/v1/cases/{case.number}/").status_code == 404
    with pytest.raises(Exception):  # noqa: B017 - CaseNotFound: the case is not theirs to see
        submissions_services.reveal_credentials(grant=g, actor=manager)


def test_a_conflicted_evaluator_loses_the_assignment_on_declaring_it(case_at, cast):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    review_services.declare_conflict(
        actor=cast.evaluator, organization=acme(cast), reason="Spouse at Acme"
    )
    assert not case.evaluators.filter(pk=cast.evaluator.pk).exists()
    event = CaseEvent.objects.get(case=case, verb="evaluator_withdrew")
    assert event.internal  # the reason is CAISI's own
    assert signed_in(cast.evaluator).get(case.get_absolute_url()).status_code == 404


def test_a_case_manager_declaring_a_conflict_leaves_the_cases_they_managed(case_at, cast):
    case = case_at("testing")
    assert case.case_manager == cast.manager
    review_services.declare_conflict(actor=cast.manager, organization=acme(cast), reason="Ex-Acme")
    case.refresh_from_db()
    assert case.case_manager is None
    shown = CaseEvent.objects.get(case=case, verb="case_manager_withdrew")
    assert not shown.internal and "Ex-Acme" not in str(shown.details)


def test_ending_a_conflict_today_never_stores_an_end_before_its_start(case_at, cast, settings):
    # Far from UTC, "today" here is not the server's UTC day for most of the day.
    settings.TIME_ZONE = "Pacific/Kiritimati"
    conflict = review_services.declare_conflict(
        actor=cast.evaluator, organization=acme(cast), reason="Advisor"
    )
    review_services.end_conflict(actor=cast.manager, conflict=conflict, reason="Advice ended.")
    conflict.refresh_from_db()
    assert conflict.valid_until >= conflict.valid_from
    assert conflict.valid_until == timezone.localdate()
    # In force through its last day.
    assert ConflictOfInterest.objects.active().filter(pk=conflict.pk).exists()


def test_a_case_manager_cannot_end_their_own_conflict_and_assign_themselves(case_at, cast):
    case = case_at("triage")
    conflict = review_services.declare_conflict(
        actor=cast.manager, organization=acme(cast), reason="Ex-Acme"
    )
    web = signed_in(cast.manager)
    ended = web.post(reverse("cases:conflict_end", args=[conflict.pk]), {"reason": "Over."})
    assert ended.status_code == 403
    conflict.refresh_from_db()
    assert conflict.valid_until is None and conflict.ended_by is None
    taken = web.post(reverse("cases:action", args=[case.number, "assign_case_manager"]), {})
    assert taken.status_code == 404
    case.refresh_from_db()
    assert case.case_manager is None


def test_another_case_manager_ends_a_conflict_with_a_reason_on_record(case_at, cast):
    other_manager = type(cast.manager).objects.create_user(
        email="manager2@caisi.example", staff_role="case_manager"
    )
    case = case_at("testing")
    conflict = review_services.declare_conflict(
        actor=cast.evaluator, organization=acme(cast), reason="Advisor"
    )
    web = signed_in(other_manager)
    url = reverse("cases:conflict_end", args=[conflict.pk])
    missing = web.post(url, {"reason": "  "})
    assert missing.status_code == 400
    assert web.post(url, {"reason": "Advice ended in March."}).status_code == 302
    conflict.refresh_from_db()
    assert conflict.ended_by == other_manager and conflict.end_reason == "Advice ended in March."
    event = CaseEvent.objects.get(case=case, verb="conflict_ended_early")
    assert event.internal and event.details["reason"] == "Advice ended in March."
    page = signed_in(cast.evaluator).get(reverse("cases:conflicts")).content.decode()
    assert "Advice ended in March." in page and "Ended early by" in page


# --- 5. drafts ---------------------------------------------------------------------------


def test_staff_never_see_a_draft_on_pages_api_or_counts(case_at, cast):
    draft = case_at("intake", title="ACME-DRAFT-TITLE")
    for person in (cast.manager, cast.official, cast.auditor):
        assert not Case.objects.visible_to(person).filter(pk=draft.pk).exists()
        web = signed_in(person)
        assert web.get(draft.get_absolute_url()).status_code == 404
        assert "ACME-DRAFT-TITLE" not in web.get(reverse("cases:dashboard")).content.decode()
        assert "ACME-DRAFT-TITLE" not in web.get(reverse("cases:desk")).content.decode()
        api = api_for(person)
        assert "ACME-DRAFT-TITLE" not in api.get("/api/v1/cases/").content.decode()
        assert api.get(f"/api/v1/cases/{draft.number}/").status_code == 404
        assert dict(dashboard_data(person)["status_counts"])["Intake"] == 0
    assert signed_in(cast.liaison).get(draft.get_absolute_url()).status_code == 200


def test_a_draft_withdrawn_unsubmitted_stays_the_company_alone(case_at, cast):
    draft = case_at("intake")
    withdraw(case=draft, actor=cast.liaison, reason="Not this model.")
    assert not Case.objects.visible_to(cast.manager).filter(pk=draft.pk).exists()


def test_no_case_manager_hears_of_a_draft(case_at, cast):
    draft = case_at("intake")
    opened = CaseEvent.objects.get(case=draft, verb="case_opened")
    notify_event(event_id=opened.pk)
    assert not Notification.objects.filter(event=opened, user=cast.manager).exists()


def test_staff_webhooks_get_nothing_of_a_draft_the_company_hook_does(case_at, cast):
    staff_hook, _ = register_webhook(owner=cast.manager, url="https://hooks.example/staff")
    company_hook, _ = register_webhook(owner=cast.liaison, url="https://hooks.example/acme")
    draft = case_at("intake", title="ACME-DRAFT-TITLE")
    opened = CaseEvent.objects.get(case=draft, verb="case_opened")
    claim_webhook_deliveries(event_id=opened.pk)
    hooks = set(WebhookDelivery.objects.filter(event=opened).values_list("webhook", flat=True))
    assert staff_hook.pk not in hooks and company_hook.pk in hooks


def test_once_submitted_the_case_reaches_caisi_but_its_draft_history_does_not_notify(case_at, cast):
    case = case_at("triage")
    assert Case.objects.visible_to(cast.manager).filter(pk=case.pk).exists()
    submitted = CaseEvent.objects.get(case=case, verb="submit_intake")
    notify_event(event_id=submitted.pk)
    assert Notification.objects.filter(event=submitted, user=cast.manager).exists()
    opened = CaseEvent.objects.get(case=case, verb="case_opened")
    notify_event(event_id=opened.pk)  # a notice sent late, after the submission
    assert not Notification.objects.filter(event=opened, user=cast.manager).exists()


# --- 9. what the company can time ---------------------------------------------------------


def test_internal_activity_moves_nothing_the_company_sees(case_at, cast):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    company, staff = api_for(cast.liaison), api_for(cast.manager)
    url, status_url = f"/api/v1/cases/{case.number}/", f"/api/v1/cases/{case.number}/status/"
    before = company.get(url)
    before_status = company.get(status_url)
    staff_before = staff.get(url)["ETag"]
    case_services.post_message(case=case, actor=cast.manager, body="Internal.", internal=True)
    findings_services.record_evaluation_run(
        case=case,
        actor=cast.evaluator,
        category="hallucination",
        title="Probe",
        summary="Probe.",
        metrics={},
    )
    after = company.get(url)
    assert after["ETag"] == before["ETag"]
    assert after["Last-Modified"] == before["Last-Modified"]
    assert after.json()["updated_at"] == before.json()["updated_at"]
    assert company.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304
    assert company.get(status_url)["ETag"] == before_status["ETag"]
    assert staff.get(url)["ETag"] != staff_before  # CAISI sees its own work move


def test_the_company_list_is_ordered_by_what_it_sees(case_at, cast):
    older, newer = case_at("testing", title="Older"), case_at("testing", title="Newer")
    case_services.post_message(case=older, actor=cast.manager, body="Internal.", internal=True)
    listed = api_for(cast.liaison).get("/api/v1/cases/").json()["results"]
    numbers = [c["number"] for c in listed]
    assert numbers.index(newer.number) < numbers.index(older.number)


# --- 10. custody ---------------------------------------------------------------------------


def test_a_revoked_or_expired_grant_reveals_nothing(case_at, cast):
    case = case_at("access")
    revoked = grant(case, cast.liaison)
    submissions_services.revoke_access(
        grant=revoked, actor=cast.liaison, reason="Rotating keys.", confirmed=True
    )
    expired = grant(case, cast.liaison)
    type(expired).objects.filter(pk=expired.pk).update(
        valid_until=timezone.now() - dt.timedelta(minutes=1)
    )
    web = signed_in(cast.manager)
    for g in (revoked, expired):
        response = web.post(reverse("submissions:grant_reveal", args=[case.number, g.pk]))
        assert SECRET not in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, verb="credentials_revealed").exists()


def test_the_auditor_and_the_official_take_neither_weights_nor_credentials(case_at, cast):
    case = case_at("access")
    w = weights(case, cast.liaison)
    g = grant(case, cast.liaison)
    for person in (cast.auditor, cast.official):
        web = signed_in(person)
        download = web.get(reverse("submissions:artifact_download", args=[case.number, w.pk]))
        assert download.status_code == 403
        reveal = web.post(reverse("submissions:grant_reveal", args=[case.number, g.pk]))
        assert reveal.status_code == 403 and SECRET not in reveal.content.decode()
    assert not CaseEvent.objects.filter(case=case, verb="weights_downloaded").exists()


def test_the_company_sees_who_took_its_weights_documents_and_credentials(case_at, cast):
    case = case_at("access")
    w = weights(case, cast.liaison)
    g = grant(case, cast.liaison)
    document = submissions_services.upload_document(
        case=case,
        actor=cast.liaison,
        kind=DocumentKind.OTHER,
        file=ContentFile(b"# Annex\n"),
        original_name="annex.md",
        title="Annex",
    )
    web = signed_in(cast.manager)
    assert (
        web.get(reverse("submissions:artifact_download", args=[case.number, w.pk]))
    ).status_code == 200
    web.post(reverse("submissions:grant_reveal", args=[case.number, g.pk]))
    signed_in(cast.auditor).get(
        reverse("submissions:document_download", args=[case.number, document.pk])
    )
    timeline = api_for(cast.liaison).get(f"/api/v1/cases/{case.number}/timeline/").json()
    seen = {(e["verb"], e["details"].get("role")) for e in timeline["results"]}
    assert ("weights_downloaded", "Case manager") in seen
    assert ("credentials_revealed", "Case manager") in seen
    assert ("document_downloaded", "Auditor") in seen
    page = signed_in(cast.liaison).get(case.get_absolute_url()).content.decode()
    assert "Weights downloaded" in page


def test_revoking_access_asks_a_reason_and_a_confirmation_and_tells_caisi(case_at, cast):
    case = case_at("testing")
    case.case_manager = None
    case.save(update_fields=["case_manager"])  # nobody named: the whole desk must hear
    g = grant(case, cast.liaison)
    web = signed_in(cast.liaison)
    url = reverse("submissions:grant_revoke", args=[case.number, g.pk])
    unconfirmed = web.post(url, {"reason": "Moving the endpoint."})
    assert unconfirmed.status_code == 400
    assert "Moving the endpoint." in unconfirmed.content.decode()  # what was typed is kept
    assert web.post(url, {"confirm": "on"}).status_code == 400
    g.refresh_from_db()
    assert g.revoked_at is None
    assert web.post(url, {"reason": "Moving the endpoint.", "confirm": "on"}).status_code == 302
    g.refresh_from_db()
    assert g.revoked_at is not None and g.revoke_reason == "Moving the endpoint."
    event = CaseEvent.objects.get(case=case, verb="access_revoked")
    notify_event(event_id=event.pk)
    assert Notification.objects.filter(event=event, user=cast.manager).exists()
    for person in (cast.liaison, cast.manager):
        page = signed_in(person).get(case.get_absolute_url()).content.decode()
        assert "Moving the endpoint." in page


# --- 14. evaluators' names ---------------------------------------------------------------


@pytest.fixture
def named_evaluator(cast):
    cast.evaluator.full_name = "Erin Evalname"
    cast.evaluator.save(update_fields=["full_name"])
    return cast.evaluator


def test_the_company_sees_caisi_evaluator_not_the_name(case_at, cast, named_evaluator, settings):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=named_evaluator)
    findings_services.ask_clarification(
        case=case,
        actor=named_evaluator,
        question="Which tokenizer?",
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    case_services.post_message(case=case, actor=named_evaluator, body="Hello from CAISI.")
    company = signed_in(cast.liaison)
    pages = [
        company.get(case.get_absolute_url()).content.decode(),
        company.get(reverse("findings:messages", args=[case.number])).content.decode(),
        api_for(cast.liaison).get(f"/api/v1/cases/{case.number}/timeline/").content.decode(),
    ]
    for body in pages:
        assert "Erin Evalname" not in body and "CAISI evaluator" in body
    assert "Erin Evalname" in signed_in(cast.manager).get(case.get_absolute_url()).content.decode()
    settings.SHOW_STAFF_NAMES_TO_COMPANIES = True
    assert "Erin Evalname" in company.get(case.get_absolute_url()).content.decode()
