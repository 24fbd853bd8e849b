"""Companies manage their own people: access requests, invitations, removal, the audit trail,
the point of contact and service accounts."""

import datetime as dt
import hashlib
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import invitations, organizations
from accounts.models import (
    AccessRequest,
    ApiToken,
    Invitation,
    Membership,
    Organization,
    OrganizationAuditEntry,
    User,
)
from accounts.services import create_api_token
from core.errors import ActionRefused
from tests.conftest import fresh
from tests.factories import LiaisonFactory

pytestmark = pytest.mark.django_db
Action = OrganizationAuditEntry.Action
PASSWORD = "a-long-new-passphrase-2026"
REQUEST = {
    "organization_name": "Initech Models",
    "contact_name": "Peter Gibbons",
    "email": "peter@initech.example",
    "reason": "We plan to release Initech-7B in March.",
}


@pytest.fixture(autouse=True)
def empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin(acme, liaison):
    """Acme's company administrator (the standard liaison is an ordinary colleague)."""
    person = LiaisonFactory(email="admin@acme.example", organization=acme)
    Membership.objects.filter(user=person).update(is_administrator=True)
    return fresh(person)


@pytest.fixture
def other_admin(globex, other_liaison):
    person = LiaisonFactory(email="admin@globex.example", organization=globex)
    Membership.objects.filter(user=person).update(is_administrator=True)
    return fresh(person)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def link_in(message) -> str:
    return re.search(r"https?://\S+/invitations/(\S+)/", message.body).group(1)


def invite_by_email(django_capture_on_commit_callbacks, **kwargs) -> tuple[Invitation, str]:
    """Invite through the service and return the invitation with the token its email carries."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitations.invite(**kwargs)
    return invitation, link_in(mail.outbox[-1])


# --- the public request for access ----------------------------------------------------


def test_anyone_can_request_access_and_is_told_what_happens_next(client):
    page = client.get(reverse("accounts:request_access"))
    assert page.status_code == 200 and b"usa-form" in page.content
    response = client.post(reverse("accounts:request_access"), REQUEST)
    assert response["Location"] == reverse("accounts:request_access_sent")
    request = AccessRequest.objects.get()
    assert (request.organization_name, request.email) == ("Initech Models", REQUEST["email"])
    assert request.status == AccessRequest.Status.WAITING
    assert b"was sent" in client.get(response["Location"]).content


def test_an_incomplete_request_is_a_400_that_keeps_what_was_typed(client):
    response = client.post(reverse("accounts:request_access"), {**REQUEST, "reason": ""})
    assert response.status_code == 400
    assert b"Initech Models" in response.content and b"Peter Gibbons" in response.content
    assert not AccessRequest.objects.exists()


def test_a_bot_filling_the_hidden_field_is_thanked_and_nothing_is_kept(client):
    response = client.post(reverse("accounts:request_access"), {**REQUEST, "website": "spam"})
    assert response.status_code == 302
    assert not AccessRequest.objects.exists()


def test_requests_from_one_address_are_limited_and_the_answers_kept(client, settings):
    settings.ACCESS_REQUEST_RATE_LIMIT_PER_HOUR = 2
    for _ in range(2):
        assert client.post(reverse("accounts:request_access"), REQUEST).status_code == 302
    limited = client.post(reverse("accounts:request_access"), REQUEST)
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
    assert b"Initech Models" in limited.content
    assert AccessRequest.objects.count() == 2


# --- CAISI decides ----------------------------------------------------------------------


def test_the_queue_shows_case_managers_the_waiting_requests(cast):
    organizations.request_access(**REQUEST)
    page = signed_in(cast.manager).get(reverse("cases:desk")).content.decode()
    assert 'data-testid="access-requests-task"' in page and "1 request for access" in page
    listing = signed_in(cast.manager).get(reverse("accounts:access_requests")).content.decode()
    assert "Initech Models" in listing and "Approve and invite" in listing


def test_approving_creates_the_company_and_emails_a_single_use_link_after_commit(
    cast, client, django_capture_on_commit_callbacks
):
    access_request = organizations.request_access(**REQUEST)
    manager = signed_in(cast.manager)
    url = reverse("accounts:access_request_decide", args=[access_request.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        manager.post(url, {"decision": "approve", "organization_name": "Initech"})
        assert mail.outbox == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    (message,) = mail.outbox
    assert message.to == [REQUEST["email"]]
    raw = link_in(message)
    organization = Organization.objects.get(name="Initech")
    invitation = Invitation.objects.get(organization=organization)
    assert invitation.is_administrator and invitation.email == REQUEST["email"]
    assert invitation.token_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(v) for v in Invitation.objects.filter(pk=invitation.pk).values()[0]}
    access_request.refresh_from_db()
    assert access_request.status == "approved" and access_request.organization == organization
    actions = set(organization.audit_entries.values_list("action", flat=True))
    assert {Action.ORGANIZATION_CREATED, Action.INVITED} <= actions


def test_only_a_case_manager_decides_and_a_decision_is_taken_once(cast):
    access_request = organizations.request_access(**REQUEST)
    url = reverse("accounts:access_request_decide", args=[access_request.pk])
    for person in (cast.liaison, cast.evaluator, cast.official, cast.auditor):
        assert signed_in(person).post(url, {"decision": "approve"}).status_code == 403
    assert not Organization.objects.filter(name=REQUEST["organization_name"]).exists()
    manager = signed_in(cast.manager)
    manager.post(url, {"decision": "decline", "note": "Not a model developer."})
    access_request.refresh_from_db()
    assert access_request.status == "declined"
    assert access_request.decision_note == "Not a model developer."
    manager.post(url, {"decision": "approve"})
    access_request.refresh_from_db()
    assert access_request.status == "declined"
    assert not Organization.objects.filter(name=REQUEST["organization_name"]).exists()


def test_a_request_for_an_existing_company_name_is_refused_on_approval(cast, acme):
    access_request = organizations.request_access(**{**REQUEST, "organization_name": "ACME AI"})
    with pytest.raises(ActionRefused, match="already takes part"):
        organizations.approve_access_request(actor=cast.manager, access_request=access_request)


# --- invitations ------------------------------------------------------------------------


def test_accepting_an_invitation_sets_a_password_then_asks_for_a_second_factor(
    acme, admin, client, django_capture_on_commit_callbacks
):
    _, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="new@acme.example",
        invited_by=admin,
    )
    url = reverse("accounts:invitation_accept", args=[raw])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "email": "NEW@acme.example",
            "full_name": "New Colleague",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    person = User.objects.get(email="new@acme.example")
    assert person.organization == acme and person.check_password(PASSWORD)
    # A company account owes a second factor before any page.
    assert client.get(reverse("cases:dashboard"))["Location"].startswith(
        reverse("accounts:mfa_enrol")
    )
    assert acme.audit_entries.filter(action=Action.INVITATION_ACCEPTED, subject=person).exists()


def test_with_the_setting_relaxed_a_company_account_needs_no_second_factor(
    acme, admin, client, settings, django_capture_on_commit_callbacks
):
    settings.COMPANY_SECOND_FACTOR_REQUIRED = False
    _, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="new@acme.example",
        invited_by=admin,
    )
    client.post(
        reverse("accounts:invitation_accept", args=[raw]),
        {
            "email": "new@acme.example",
            "full_name": "N",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_an_invitation_link_works_once(acme, admin, client, django_capture_on_commit_callbacks):
    _, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="new@acme.example",
        invited_by=admin,
    )
    form = {
        "email": "new@acme.example",
        "full_name": "N",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    url = reverse("accounts:invitation_accept", args=[raw])
    assert client.post(url, form).status_code == 302
    again = Client().post(url, {**form, "email": "new@acme.example"})
    assert again.status_code == 410 and b"already been used" in again.content
    assert Membership.objects.filter(user__email="new@acme.example").count() == 1


def test_an_expired_invitation_is_refused_with_a_clear_410(
    acme, admin, client, django_capture_on_commit_callbacks
):
    invitation, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="new@acme.example",
        invited_by=admin,
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    url = reverse("accounts:invitation_accept", args=[raw])
    response = client.post(
        url,
        {
            "email": "new@acme.example",
            "full_name": "N",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 410 and b"expired" in response.content
    assert not User.objects.filter(email="new@acme.example").exists()
    assert invitations.find_waiting(raw) is None


def test_an_unknown_or_withdrawn_link_opens_nothing(
    acme, admin, client, django_capture_on_commit_callbacks
):
    assert client.get(reverse("accounts:invitation_accept", args=["made-up"])).status_code == 404
    invitation, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="new@acme.example",
        invited_by=admin,
    )
    signed_in(admin).post(reverse("accounts:invitation_withdraw", args=[invitation.pk]))
    response = client.get(reverse("accounts:invitation_accept", args=[raw]))
    assert response.status_code == 410 and b"withdrawn" in response.content


def test_an_invitation_for_another_address_is_refused_and_keeps_the_form(
    acme, admin, client, django_capture_on_commit_callbacks
):
    _, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="new@acme.example",
        invited_by=admin,
    )
    response = client.post(
        reverse("accounts:invitation_accept", args=[raw]),
        {
            "email": "intruder@evil.example",
            "full_name": "Typed Name",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 403
    assert b"another address" in response.content and b"Typed Name" in response.content
    assert not User.objects.filter(email="intruder@evil.example").exists()
    assert invitations.find_waiting(raw) is not None  # still usable by the right person


def test_an_invitation_of_another_company_cannot_move_a_member(
    acme, globex, admin, other_admin, client, django_capture_on_commit_callbacks
):
    """Invited by both companies, a person joins one; the other's link then moves nothing."""
    kwargs = {"email": "both@example.test"}
    _, acme_link = invite_by_email(
        django_capture_on_commit_callbacks, organization=acme, invited_by=admin, **kwargs
    )
    _, globex_link = invite_by_email(
        django_capture_on_commit_callbacks, organization=globex, invited_by=other_admin, **kwargs
    )
    form = {"email": "both@example.test", "full_name": "B", "password1": PASSWORD}
    client.post(
        reverse("accounts:invitation_accept", args=[globex_link]), {**form, "password2": PASSWORD}
    )
    person = User.objects.get(email="both@example.test")
    with pytest.raises(ActionRefused, match="already belongs to Globex"):
        invitations.accept(invitations.find_waiting(acme_link), person)
    response = Client().post(
        reverse("accounts:invitation_accept", args=[acme_link]), {**form, "password2": PASSWORD}
    )
    assert response.status_code == 400 and b"already has an account" in response.content
    assert fresh(person).organization == globex


def test_active_accounts_are_not_invited_again(acme, admin, liaison):
    with pytest.raises(ActionRefused, match="already has an account"):
        invitations.invite(organization=acme, email=liaison.email, invited_by=admin)


def test_an_administrator_invites_to_their_own_company_only(acme, globex, admin, other_admin):
    with pytest.raises(ActionRefused, match="your own company"):
        invitations.invite(organization=acme, email="x@globex.example", invited_by=other_admin)
    invitation = invitations.invite(organization=acme, email="x@acme.example", invited_by=admin)
    response = signed_in(other_admin).post(
        reverse("accounts:invitation_withdraw", args=[invitation.pk])
    )
    assert response.status_code == 404
    assert Invitation.objects.waiting().filter(pk=invitation.pk).exists()


def test_an_ordinary_liaison_cannot_invite_or_manage(acme, liaison, admin):
    client = signed_in(liaison)
    assert client.get(reverse("accounts:organization_people")).status_code == 403
    response = client.post(reverse("accounts:organization_invite"), {"email": "x@acme.example"})
    assert response.status_code == 403
    assert client.post(reverse("accounts:person_remove", args=[admin.pk])).status_code == 403
    assert not Invitation.objects.exists() and fresh(admin).is_active


def test_single_sign_on_can_find_and_accept_a_waiting_invitation(
    acme, admin, django_capture_on_commit_callbacks
):
    _, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="sso@acme.example",
        invited_by=admin,
    )
    invitation = invitations.find_waiting(raw)
    assert invitation is not None and invitation.organization == acme
    person = User.objects.create_user(email="sso@acme.example", password=None)
    membership = invitations.accept(invitation, person)
    assert membership.organization == acme and fresh(person).organization == acme
    assert invitations.find_waiting(raw) is None
    with pytest.raises(ActionRefused, match="already been used"):
        invitations.accept(invitation, person)


# --- removal ends access at once ----------------------------------------------------------


@pytest.mark.parametrize("cache_kind", ["local", "shared"])
def test_removing_a_person_ends_their_session_and_tokens_on_the_very_next_request(
    request, cache_kind, acme, admin, liaison, case_at
):
    if cache_kind == "shared":
        request.getfixturevalue("shared_cache")
    case = case_at("intake")
    browser = signed_in(liaison)
    _, raw = create_api_token(user=liaison, name="pipeline", read_only=False)
    program = bearer(raw)
    assert browser.get(case.get_absolute_url()).status_code == 200
    assert program.get(f"/api/v1/cases/{case.number}/").status_code == 200  # now cached

    response = signed_in(admin).post(reverse("accounts:person_remove", args=[liaison.pk]))
    assert response.status_code == 302

    web = browser.get(case.get_absolute_url())
    assert web.status_code == 302 and web["Location"].startswith(reverse("login"))
    assert program.get(f"/api/v1/cases/{case.number}/").status_code == 401
    assert program.post(f"/api/v1/cases/{case.number}/actions/withdraw/", {}).status_code == 401
    person = fresh(liaison)
    assert not person.is_active and person.membership is None
    assert not ApiToken.objects.usable().filter(user=person).exists()
    entry = acme.audit_entries.get(action=Action.REMOVED)
    assert entry.actor == admin and entry.subject == person


def test_the_last_administrator_cannot_be_removed_or_remove_themselves(acme, admin, liaison):
    with pytest.raises(ActionRefused, match="yourself"):
        organizations.remove_person(actor=admin, person=admin)
    organizations.set_administrator(actor=admin, person=liaison, is_administrator=True)
    organizations.remove_person(actor=fresh(liaison), person=admin)
    assert not fresh(admin).is_active


def test_an_administrator_cannot_remove_someone_of_another_company(admin, other_liaison):
    response = signed_in(admin).post(reverse("accounts:person_remove", args=[other_liaison.pk]))
    assert response.status_code == 404
    assert fresh(other_liaison).is_active


def test_a_removed_person_invited_again_gets_their_account_back(
    acme, admin, liaison, client, django_capture_on_commit_callbacks
):
    organizations.remove_person(actor=admin, person=liaison)
    _, raw = invite_by_email(
        django_capture_on_commit_callbacks,
        organization=acme,
        email=liaison.email,
        invited_by=admin,
    )
    client.post(
        reverse("accounts:invitation_accept", args=[raw]),
        {"email": liaison.email, "full_name": "Back", "password1": PASSWORD, "password2": PASSWORD},
    )
    person = fresh(liaison)
    assert person.pk == liaison.pk and person.is_active and person.organization == acme


# --- point of contact and the audit trail -------------------------------------------------


def test_the_point_of_contact_is_named_by_the_administrator_and_shown_to_caisi(
    acme, admin, liaison, cast, case_at
):
    case = case_at("triage")
    signed_in(admin).post(reverse("accounts:person_point_of_contact", args=[liaison.pk]))
    assert Organization.objects.get(pk=acme.pk).point_of_contact == liaison
    page = signed_in(cast.manager).get(case.get_absolute_url()).content.decode()
    assert 'data-testid="point-of-contact"' in page and liaison.email in page
    assert acme.audit_entries.filter(action=Action.POINT_OF_CONTACT_NAMED).exists()


def test_the_audit_trail_is_read_by_caisi_and_the_company_administrator_only(
    acme, admin, liaison, other_admin, cast
):
    organizations.set_administrator(actor=admin, person=liaison, is_administrator=False)
    organizations.name_point_of_contact(actor=admin, person=liaison)
    url = reverse("accounts:organization_audit", args=[acme.slug])
    for person in (admin, cast.manager, cast.evaluator, cast.official, cast.auditor):
        page = signed_in(person).get(url)
        assert page.status_code == 200, person
        assert "Point of contact named" in page.content.decode()
    assert signed_in(liaison).get(url).status_code == 403
    other = signed_in(other_admin).get(url)
    assert other.status_code == 404 and b"Point of contact" not in other.content
    assert Client().get(url).status_code == 302


# --- service accounts -----------------------------------------------------------------------


def test_a_read_only_service_token_reads_status_and_gets_a_clear_403_on_writes(
    acme, admin, case_at
):
    case = case_at("intake")
    account = organizations.create_service_account(actor=admin, name="release pipeline")
    token, raw = organizations.create_service_token(
        actor=admin, account=account, name="status poller", read_only=True
    )
    assert token.expires_at is not None  # an expiry by default
    program = bearer(raw)
    status = program.get(f"/api/v1/cases/{case.number}/status/")
    assert status.status_code == 200
    refused = program.post(f"/api/v1/cases/{case.number}/actions/withdraw/", {}, format="json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "read-only" in refused.json()["detail"]
    case.refresh_from_db()
    assert case.status == "intake"


def test_a_status_only_service_token_reads_the_list_and_status_and_nothing_else(
    acme, admin, case_at
):
    case = case_at("intake")
    account = organizations.create_service_account(actor=admin, name="release pipeline")
    _, raw = organizations.create_service_token(
        actor=admin, account=account, name="status poller", read_only=True
    )
    program = bearer(raw)
    listed = program.get("/api/v1/cases/")
    assert listed.status_code == 200
    assert [c["number"] for c in listed.json()["results"]] == [case.number]
    assert program.get(f"/api/v1/cases/{case.number}/status/").json()["status"] == "intake"
    for path in ("", "timeline/", "findings/", "documents/", "versions/", "export/"):
        refused = program.get(f"/api/v1/cases/{case.number}/{path}")
        assert refused.status_code == 403, path
        assert refused["Content-Type"] == "application/problem+json"
        assert "case status only" in refused.json()["detail"]
    # A person's own read-only token still reads the whole record.
    _, personal = create_api_token(user=admin, name="mine", read_only=True)
    assert bearer(personal).get(f"/api/v1/cases/{case.number}/timeline/").status_code == 200


def test_a_read_write_service_token_reads_beyond_status(acme, admin, case_at):
    case = case_at("intake")
    account = organizations.create_service_account(actor=admin, name="release pipeline")
    _, raw = organizations.create_service_token(
        actor=admin, account=account, name="ci", read_only=False
    )
    program = bearer(raw)
    assert program.get(f"/api/v1/cases/{case.number}/").status_code == 200
    assert program.get(f"/api/v1/cases/{case.number}/timeline/").status_code == 200


def test_a_read_write_service_token_acts_and_its_activity_is_on_the_audit_trail(
    acme, admin, case_at
):
    case = case_at("intake")
    account = organizations.create_service_account(actor=admin, name="release pipeline")
    _, raw = organizations.create_service_token(
        actor=admin, account=account, name="ci", read_only=False, expires_in_days=30
    )
    response = bearer(raw).post(
        f"/api/v1/cases/{case.number}/versions/",
        {"label": "v2", "vcs_reference": "git:abc123"},
        format="json",
    )
    assert response.status_code == 201, response.content
    actions = list(acme.audit_entries.values_list("action", flat=True))
    assert Action.SERVICE_ACCOUNT_CREATED in actions and Action.TOKEN_CREATED in actions
    acted = acme.audit_entries.get(action=Action.SERVICE_ACCOUNT_ACTED)
    assert acted.actor == account and "versions" in acted.detail and "201" in acted.detail


def test_a_service_account_cannot_sign_in_in_a_browser(acme, admin, client):
    account = organizations.create_service_account(actor=admin, name="release pipeline")
    assert not account.has_usable_password()
    response = client.post(reverse("login"), {"username": account.email, "password": ""})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_service_tokens_expire_within_a_year_and_are_revoked_by_the_administrator(acme, admin):
    account = organizations.create_service_account(actor=admin, name="ci")
    with pytest.raises(ActionRefused, match="within a year"):
        organizations.create_service_token(
            actor=admin, account=account, name="t", read_only=True, expires_in_days=400
        )
    token, raw = organizations.create_service_token(
        actor=admin, account=account, name="t", read_only=True
    )
    assert token.expires_at - timezone.now() > dt.timedelta(days=89)
    signed_in(admin).post(reverse("accounts:service_token_revoke", args=[token.pk]))
    assert bearer(raw).get("/api/v1/cases/").status_code == 401
    assert acme.audit_entries.filter(action=Action.TOKEN_REVOKED).exists()


def test_the_people_page_lists_people_and_service_accounts_in_few_queries(
    acme, admin, liaison, django_assert_max_num_queries
):
    for n in range(3):
        account = organizations.create_service_account(actor=admin, name=f"pipeline {n}")
        organizations.create_service_token(actor=admin, account=account, name="t", read_only=True)
    client = signed_in(admin)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("accounts:organization_people"))
    text = page.content.decode()
    assert page.status_code == 200 and liaison.email in text and "pipeline 2" in text
