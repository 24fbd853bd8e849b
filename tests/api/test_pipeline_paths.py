"""What a pipeline needs beyond the lifecycle: messages, the checklist, evaluators,
clarification close and access revoke, tried by every role's token.

The roles: the company's liaison and administrator, the company's service account
with a read-only and a read-write token, the case manager, the assigned and an
unassigned evaluator, the clearance official, the auditor, and another company's
liaison.
"""

import datetime as dt

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import Message
from findings import services as findings_services
from findings.models import ClarificationRequest
from review import services as review_services
from submissions import services as submission_services
from submissions.checklist import PRACTICES
from submissions.models import AccessGrant, ChecklistEntry
from tests.api.roles import COMPANY, OUTSIDERS, ROLES, STAFF, expect, problem

pytestmark = pytest.mark.django_db

PRACTICE = next(iter(PRACTICES))


@pytest.fixture
def case(case_at, cast):
    """An Acme case in testing, with the evaluator assigned and an access grant."""
    case = case_at("testing")
    review_services.assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    # The package on file answered the checklist; these tests start it from nothing.
    ChecklistEntry.objects.filter(case=case).delete()
    return case


# A service account's read-only token reads case status only: every path here refuses it.
STATUS_ONLY = "service_read_only"


def closed(case, cast):
    return review_services.close_case(case=case, actor=cast.manager, reason="Out of scope.")


# --- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_messages_show_internal_notes_to_caisi_staff_only(role, case, cast, api_as):
    case_services.post_message(case=case, actor=cast.manager, body="Please send the card.")
    case_services.post_message(
        case=case, actor=cast.evaluator, body="Jailbreak rate looks high.", internal=True
    )
    answer = api_as(role).get(f"/api/v1/cases/{case.number}/messages/")
    if role in OUTSIDERS:
        problem(answer, 404)
        return
    if role == STATUS_ONLY:
        problem(answer, 403)
        return
    body = expect(answer, 200)
    bodies = [m["body"] for m in body]
    if role in COMPANY:
        assert bodies == ["Please send the card."]
        assert not any(m["internal"] for m in body)
    else:
        assert bodies == ["Please send the card.", "Jailbreak rate looks high."]
        assert [m["internal"] for m in body] == [False, True]


# role → (status posting a shared message, status posting an internal note)
POSTING = {
    "liaison": (201, 403),
    "company_admin": (201, 403),
    "service_read_only": (403, 403),
    "service_read_write": (201, 403),
    "case_manager": (201, 201),
    "evaluator": (201, 201),
    "official": (201, 201),
    "auditor": (403, 403),
    "unassigned_evaluator": (404, 404),
    "other_liaison": (404, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_post_shared_messages_and_internal_notes(role, case, people, api_as):
    shared_status, internal_status = POSTING[role]
    client = api_as(role)
    url = f"/api/v1/cases/{case.number}/messages/"
    shared = client.post(url, {"body": f"Shared from {role}"}, format="json")
    expect(shared, shared_status)
    internal = client.post(url, {"body": f"Note from {role}", "internal": True}, format="json")
    expect(internal, internal_status)
    if shared_status == 201:
        message = Message.objects.get(body=f"Shared from {role}")
        assert not message.internal and message.author == people[role]
        assert shared.json()["internal"] is False
    if internal_status == 201:
        assert Message.objects.get(body=f"Note from {role}").internal
        assert internal.json()["internal"] is True
    else:
        assert not Message.objects.filter(body=f"Note from {role}").exists()


def test_an_internal_note_posted_by_api_never_reaches_the_company(case, api_as):
    url = f"/api/v1/cases/{case.number}/messages/"
    internal = {"body": "Internal", "internal": True}
    expect(api_as("evaluator").post(url, internal, format="json"), 201)
    expect(api_as("case_manager").post(url, {"body": "Shared"}, format="json"), 201)
    for role in COMPANY:
        if role != STATUS_ONLY:
            assert [m["body"] for m in api_as(role).get(url).json()] == ["Shared"], role


@pytest.mark.parametrize(
    "payload",
    [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 20001}, {"body": "ok", "internal": "maybe"}],
)
def test_a_message_that_cannot_be_accepted_is_a_400(payload, case, api_as):
    url = f"/api/v1/cases/{case.number}/messages/"
    problem(api_as("liaison").post(url, payload, format="json"), 400)
    assert not Message.objects.filter(case=case).exists()


def test_a_closed_cases_thread_takes_no_message(case, cast, api_as):
    closed(case, cast)
    url = f"/api/v1/cases/{case.number}/messages/"
    problem(api_as("liaison").post(url, {"body": "Still there?"}, format="json"), 409)


# --- the deployment checklist ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_checklist_is_read_by_whoever_sees_the_case(role, case, cast, api_as):
    entries = {PRACTICE: {"status": "implemented", "evidence_document": None, "note": "Done."}}
    submission_services.record_checklist(case=case, actor=cast.liaison, answers=entries)
    answer = api_as(role).get(f"/api/v1/cases/{case.number}/checklist/")
    if role in OUTSIDERS:
        problem(answer, 404)
        return
    if role == STATUS_ONLY:
        problem(answer, 403)
        return
    body = expect(answer, 200)
    assert body["answered"] == 1 and body["total"] == len(PRACTICES)
    [practice] = [p for p in body["practices"] if p["key"] == PRACTICE]
    assert practice["status"] == "implemented" and practice["note"] == "Done."


CHECKLIST_WRITE = {
    "liaison": 200,
    "company_admin": 200,
    "service_read_only": 403,
    "service_read_write": 200,
    "case_manager": 403,
    "evaluator": 403,
    "official": 403,
    "auditor": 403,
    "unassigned_evaluator": 404,
    "other_liaison": 404,
}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_company_answers_the_checklist(role, case, api_as):
    document = case.documents.first()
    answer = api_as(role).patch(
        f"/api/v1/cases/{case.number}/checklist/",
        {"answers": {PRACTICE: {"status": "partial", "evidence_document": document.pk}}},
        format="json",
    )
    body = expect(answer, CHECKLIST_WRITE[role])
    saved = ChecklistEntry.objects.filter(case=case, practice=PRACTICE).first()
    if CHECKLIST_WRITE[role] == 200:
        assert saved.status == "partial" and saved.evidence_document == document
        assert body["answered"] == 1
    else:
        assert saved is None


def test_a_null_status_takes_the_answer_back(case, api_as):
    client, url = api_as("liaison"), f"/api/v1/cases/{case.number}/checklist/"
    expect(client.patch(url, {"answers": {PRACTICE: {"status": "planned"}}}, format="json"), 200)
    body = expect(client.patch(url, {"answers": {PRACTICE: {"status": None}}}, format="json"), 200)
    assert body["answered"] == 0
    assert not ChecklistEntry.objects.filter(case=case).exists()


def test_a_patch_naming_no_practice_changes_nothing(case, cast, api_as):
    entries = {PRACTICE: {"status": "planned", "evidence_document": None, "note": ""}}
    submission_services.record_checklist(case=case, actor=cast.liaison, answers=entries)
    url = f"/api/v1/cases/{case.number}/checklist/"
    for payload in ({}, {"answers": {}}):
        body = expect(api_as("liaison").patch(url, payload, format="json"), 200)
        assert body["answered"] == 1
    problem(api_as("case_manager").patch(url, {}, format="json"), 403)


@pytest.mark.parametrize(
    "answers",
    [
        "not an object",
        {"no_such_practice": {"status": "implemented"}},
        {PRACTICE: {"status": "done"}},
        {PRACTICE: {}},
        {PRACTICE: {"status": "implemented", "note": "x" * 4001}},
        {PRACTICE: {"status": "implemented", "evidence_document": "first"}},
        {PRACTICE: {"status": "implemented", "evidence_document": 999999}},
    ],
)
def test_checklist_answers_that_cannot_be_accepted_are_a_400(answers, case, api_as):
    answer = api_as("liaison").patch(
        f"/api/v1/cases/{case.number}/checklist/", {"answers": answers}, format="json"
    )
    problem(answer, 400)
    assert not ChecklistEntry.objects.filter(case=case).exists()


def test_another_cases_document_is_no_evidence(case, case_at, api_as):
    elsewhere = case_at("testing", title="Another review").documents.first()
    answer = api_as("liaison").patch(
        f"/api/v1/cases/{case.number}/checklist/",
        {"answers": {PRACTICE: {"status": "implemented", "evidence_document": elsewhere.pk}}},
        format="json",
    )
    body = problem(answer, 400)
    assert body["errors"][0]["field"] == f"answers.{PRACTICE}.evidence_document"


def test_the_checklist_of_a_closed_case_is_not_answered(case, cast, api_as):
    closed(case, cast)
    answer = api_as("liaison").patch(
        f"/api/v1/cases/{case.number}/checklist/",
        {"answers": {PRACTICE: {"status": "implemented"}}},
        format="json",
    )
    problem(answer, 409)


# --- evaluators ---------------------------------------------------------------------------------


EVALUATORS_READ = {
    **dict.fromkeys(COMPANY, 403),
    **dict.fromkeys(STAFF, 200),
    **dict.fromkeys(OUTSIDERS, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_evaluates_a_case_is_for_caisi_staff_to_see(role, case, cast, api_as):
    body = expect(
        api_as(role).get(f"/api/v1/cases/{case.number}/evaluators/"), EVALUATORS_READ[role]
    )
    if EVALUATORS_READ[role] == 200:
        assert [e["email"] for e in body] == [cast.evaluator.email]
    else:
        assert cast.evaluator.email not in str(body)


EVALUATORS_WRITE = {
    **dict.fromkeys(COMPANY + STAFF, 403),
    "case_manager": 200,
    **dict.fromkeys(OUTSIDERS, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_a_case_manager_assigns_evaluators(role, case, cast, api_as):
    answer = api_as(role).post(
        f"/api/v1/cases/{case.number}/evaluators/",
        {"evaluator": cast.other_evaluator.email},
        format="json",
    )
    body = expect(answer, EVALUATORS_WRITE[role])
    assigned = case.evaluators.filter(pk=cast.other_evaluator.pk).exists()
    assert assigned == (EVALUATORS_WRITE[role] == 200)
    if assigned:
        assert sorted(e["email"] for e in body) == sorted(
            [cast.evaluator.email, cast.other_evaluator.email]
        )


def test_a_newly_assigned_evaluator_sees_the_case_at_once(case, cast, api_as):
    evaluator = api_as("unassigned_evaluator")
    problem(evaluator.get(f"/api/v1/cases/{case.number}/"), 404)
    expect(
        api_as("case_manager").post(
            f"/api/v1/cases/{case.number}/evaluators/",
            {"evaluator": cast.other_evaluator.email},
            format="json",
        ),
        200,
    )
    expect(evaluator.get(f"/api/v1/cases/{case.number}/"), 200)


def test_a_company_is_refused_before_its_body_is_read(case, api_as):
    # A 403 whatever was sent: the answer must not depend on CAISI's staff list.
    for payload in ({}, {"evaluator": "not an email"}, {"evaluator": "nobody@caisi.example"}):
        answer = api_as("liaison").post(
            f"/api/v1/cases/{case.number}/evaluators/", payload, format="json"
        )
        problem(answer, 403)


@pytest.mark.parametrize(
    "payload", [{}, {"evaluator": "not an email"}, {"evaluator": "nobody@caisi.example"}]
)
def test_assigning_someone_who_is_no_evaluator_is_a_400(payload, case, api_as):
    url = f"/api/v1/cases/{case.number}/evaluators/"
    problem(api_as("case_manager").post(url, payload, format="json"), 400)


def test_a_case_manager_is_not_assigned_as_an_evaluator(case, cast, api_as):
    url = f"/api/v1/cases/{case.number}/evaluators/"
    answer = api_as("case_manager").post(url, {"evaluator": cast.manager.email}, format="json")
    problem(answer, 400)


def test_a_conflicted_evaluator_is_refused_with_the_reason(case, cast, acme, api_as):
    review_services.declare_conflict(
        actor=cast.other_evaluator, organization=acme, reason="Former Acme employee."
    )
    answer = api_as("case_manager").post(
        f"/api/v1/cases/{case.number}/evaluators/",
        {"evaluator": cast.other_evaluator.email},
        format="json",
    )
    body = problem(answer, 409)
    assert "Former Acme employee." in " ".join(body["blockers"])
    assert not case.evaluators.filter(pk=cast.other_evaluator.pk).exists()


def test_evaluators_are_not_assigned_to_a_closed_case(case, cast, api_as):
    closed(case, cast)
    answer = api_as("case_manager").post(
        f"/api/v1/cases/{case.number}/evaluators/",
        {"evaluator": cast.other_evaluator.email},
        format="json",
    )
    problem(answer, 409)


# --- clarification requests: closing -------------------------------------------------------------


@pytest.fixture
def asked(case, cast):
    return findings_services.ask_clarification(
        case=case,
        actor=cast.manager,
        question="Which safety report covers the multilingual tests?",
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )


CLARIFICATION_CLOSE = {
    **dict.fromkeys(COMPANY + STAFF, 403),
    "case_manager": 200,
    **dict.fromkeys(OUTSIDERS, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_a_case_manager_closes_a_clarification_request(role, case, asked, api_as):
    answer = api_as(role).post(
        f"/api/v1/cases/{case.number}/clarifications/{asked.pk}/close/",
        {"note": "Answered on the call."},
        format="json",
    )
    body = expect(answer, CLARIFICATION_CLOSE[role])
    asked.refresh_from_db()
    is_closed = asked.status == ClarificationRequest.RequestStatus.CLOSED
    assert is_closed == (CLARIFICATION_CLOSE[role] == 200)
    if is_closed:
        assert body["status"] == "closed"
        event = case.events.get(verb="clarification_closed")
        assert event.details["note"] == "Answered on the call."


def test_closing_a_closed_request_again_is_a_409(case, asked, api_as):
    client, url = api_as("case_manager"), f"/api/v1/cases/{case.number}/clarifications/"
    expect(client.post(f"{url}{asked.pk}/close/", {}, format="json"), 200)
    problem(client.post(f"{url}{asked.pk}/close/", {}, format="json"), 409)


def test_closing_a_request_of_another_case_is_a_404(case, case_at, cast, api_as):
    other = case_at("testing", title="Another review")
    elsewhere = findings_services.ask_clarification(
        case=other,
        actor=cast.manager,
        question="Elsewhere?",
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )
    url = f"/api/v1/cases/{case.number}/clarifications/{elsewhere.pk}/close/"
    problem(api_as("case_manager").post(url, {}, format="json"), 404)
    elsewhere.refresh_from_db()
    assert elsewhere.status != ClarificationRequest.RequestStatus.CLOSED


def test_a_closing_note_over_the_limit_is_a_400(case, asked, api_as):
    url = f"/api/v1/cases/{case.number}/clarifications/{asked.pk}/close/"
    problem(api_as("case_manager").post(url, {"note": "x" * 2001}, format="json"), 400)


# --- access grants: revoking ----------------------------------------------------------------------


ACCESS_REVOKE = {
    **dict.fromkeys(COMPANY, 200),
    "service_read_only": 403,
    **dict.fromkeys(STAFF, 403),
    **dict.fromkeys(OUTSIDERS, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_company_revokes_its_access_grant(role, case, people, api_as):
    grant = case.access_grants.get()
    answer = api_as(role).post(
        f"/api/v1/cases/{case.number}/access/{grant.pk}/revoke/",
        {"reason": "The endpoint is being retired.", "confirmed": True},
        format="json",
    )
    body = expect(answer, ACCESS_REVOKE[role])
    grant.refresh_from_db()
    if ACCESS_REVOKE[role] == 200:
        assert grant.revoked_at is not None and grant.revoked_by == people[role]
        assert grant.revoke_reason == "The endpoint is being retired."
        assert body["id"] == grant.pk
    else:
        assert grant.revoked_at is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"reason": "Retired."},
        {"confirmed": True},
        {"reason": "", "confirmed": True},
        {"reason": "   ", "confirmed": True},
        {"reason": "Retired.", "confirmed": False},
        {"reason": "Retired.", "confirmed": "perhaps"},
    ],
)
def test_a_revocation_needs_a_reason_and_the_confirmation(payload, case, api_as):
    grant = case.access_grants.get()
    url = f"/api/v1/cases/{case.number}/access/{grant.pk}/revoke/"
    problem(api_as("liaison").post(url, payload, format="json"), 400)
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_revoking_twice_keeps_the_first_revocation(case, api_as):
    grant = case.access_grants.get()
    client, url = api_as("liaison"), f"/api/v1/cases/{case.number}/access/{grant.pk}/revoke/"
    first = expect(client.post(url, {"reason": "First.", "confirmed": True}, format="json"), 200)
    again = expect(client.post(url, {"reason": "Again.", "confirmed": True}, format="json"), 200)
    assert again == first
    assert AccessGrant.objects.get(pk=grant.pk).revoke_reason == "First."
    assert case.events.filter(verb="access_revoked").count() == 1


def test_revoking_a_grant_of_another_case_is_a_404(case, case_at, cast, api_as):
    elsewhere = case_at("documentation", title="Another review").access_grants.get()
    url = f"/api/v1/cases/{case.number}/access/{elsewhere.pk}/revoke/"
    problem(api_as("liaison").post(url, {"reason": "x", "confirmed": True}, format="json"), 404)
