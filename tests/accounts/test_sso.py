"""Single sign-on pages without a browser: bad callbacks, switched-off passwords, the hook.

The sign-ins themselves, through a real provider, are in tests/e2e/test_sso_journey.py.
"""

import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import invitations, sso
from accounts import session_keys as keys
from accounts.models import ExternalIdentity, User
from review import demo
from review.services import assign_evaluator, share_findings
from tests.incidents.helpers import released

PASSWORD = "demo-pass-2026"


@pytest.fixture
def company_configured(settings, db):
    settings.SSO_PROVIDERS = {
        "company": {
            "label": "Login.gov",
            "kind": "company",
            # Nothing listens here: a page that would reach the provider says so.
            "issuer": "http://127.0.0.1:9",
            "client_id": "portal",
            "private_key": "",
            "key_id": "k",
            "acr_values": settings.SSO_LOGIN_GOV_IAL1,
            "step_up_acr_values": settings.SSO_LOGIN_GOV_IAL2,
            "second_factor_values": ["*"],
        }
    }
    sso._discovered.clear()


def test_a_provider_that_is_not_configured_has_no_pages(client, db):
    assert client.get(reverse("accounts:sso_company_start")).status_code == 404
    assert client.get(reverse("accounts:sso_staff_callback")).status_code == 404


def test_the_login_page_shows_no_provider_buttons_when_none_is_configured(client, db):
    page = client.get(reverse("login")).content.decode()
    assert 'data-testid="sso-buttons"' not in page
    assert 'name="password"' in page


@pytest.mark.parametrize(
    "query",
    ["", "?state=nothing-started", "?code=abc", "?code=abc&state=never-issued"],
)
def test_a_callback_with_no_state_this_browser_started_is_a_clear_400(
    client, company_configured, query
):
    response = client.get(reverse("accounts:sso_company_callback") + query)
    assert response.status_code == 400
    assert "already used, or was not started in this browser" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_provider_error_on_the_callback_is_a_clear_400(client, company_configured):
    response = client.get(reverse("accounts:sso_company_callback") + "?error=access_denied&state=x")
    assert response.status_code == 400
    assert "did not sign you in" in response.content.decode()


def test_an_unreachable_provider_is_said_so_not_a_500(client, company_configured):
    response = client.get(reverse("accounts:sso_company_start"))
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


def test_no_invitation_links_nothing(rf, cast, settings):
    request = rf.get("/")
    request.session = {}
    settings.SSO_INVITATION_REDEEMER = "tests.accounts.test_sso.redeem_any"
    provider = sso.Provider(
        name="company",
        label="Login.gov",
        kind="company",
        issuer="https://op.example",
        client_id="c",
        private_key="",
        key_id="k",
    )
    people = User.objects.count()
    linked = sso.link_invited_subject(
        request=request, provider=provider, issuer="https://op.example", subject="s", claims={}
    )
    assert linked is None
    assert User.objects.count() == people
    assert not ExternalIdentity.objects.exists()


def redeem_any(token, *, provider, claims):
    return User.objects.get(email="liaison@acme.example")


def test_password_sign_in_can_be_switched_off_for_a_role(client, cast, settings):
    settings.PASSWORD_SIGN_IN_DISABLED_ROLES = ["liaison"]
    response = client.post(reverse("login"), {"username": cast.liaison.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Password sign-in is switched off for your role" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another role still signs in with its password.
    response = client.post(reverse("login"), {"username": cast.manager.email, "password": PASSWORD})
    assert response.status_code == 302


def test_a_break_glass_superuser_keeps_the_password_whatever_the_switch(
    client, db, settings, django_user_model
):
    settings.PASSWORD_SIGN_IN_DISABLED_ROLES = ["liaison", "case_manager", ""]
    django_user_model.objects.create_superuser(email="root@caisi.example", password=PASSWORD)
    response = client.post(
        reverse("login"), {"username": "root@caisi.example", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_sign_out_without_a_provider_session_goes_to_the_login_page(client, cast):
    client.force_login(cast.liaison)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def verify_identity(client, settings):
    """Mark the session as having passed the step-up, as the company provider's return does."""
    session = client.session
    session[keys.SSO_PROVIDER] = "company"
    session[keys.SSO_ACR] = settings.SSO_LOGIN_GOV_IAL2
    session.save()


def test_the_step_up_holds_the_act_when_sent_not_the_page_and_only_with_the_provider(
    client, case_at, cast, settings, company_configured
):
    case = case_at("intake")
    client.force_login(cast.liaison)
    action = reverse("cases:action", args=[case.number, "submit_intake"])
    # The pages open at the basic level: the intake draft is written and saved there.
    assert client.get(reverse("cases:intake", args=[case.number])).status_code == 200
    assert client.get(action).status_code == 200
    response = client.post(action, {})
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("accounts:sso_step_up") + "?" + urlencode({"next": action})
    )
    case.refresh_from_db()
    assert case.status == "intake"
    # Other acts, and CAISI staff, are not held.
    client.force_login(cast.manager)
    response = client.post(reverse("cases:action", args=[case.number, "close_case"]), {})
    assert not response.get("Location", "").startswith(reverse("accounts:sso_step_up"))
    settings.SSO_STEP_UP_REQUIRED = False
    client.force_login(cast.liaison)
    response = client.post(action, {})
    assert not response.get("Location", "").startswith(reverse("accounts:sso_step_up"))


def test_a_held_incident_report_is_kept_and_shown_filled_after_the_step_up(
    client, case_at, cast, settings, company_configured
):
    case = released(case_at, cast)
    client.force_login(cast.liaison)
    page = reverse("incidents:new", args=[case.number])
    report = {
        "summary": "A jailbreak prompt circulated on a public forum.",
        "detected_at": "2026-12-01T09:30",
        "severity": "high",
        "affected_versions": "v1.0",
        "affected_uses": "Chat assistant",
        "users_affected": "About 300",
        "mitigations": "The prompt pattern is now filtered.",
    }
    response = client.post(page, report)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sso_step_up"))
    assert not case.incidents.exists()
    verify_identity(client, settings)
    filled = client.get(page)
    text = filled.content.decode()
    assert filled.status_code == 200
    assert "A jailbreak prompt circulated on a public forum." in text
    assert 'value="About 300"' in text
    # Shown once: a later visit opens an empty form.
    assert "About 300" not in client.get(page).content.decode()
    # Verified, the report is sent at once.
    response = client.post(page, report)
    assert response.status_code == 302 and case.incidents.count() == 1


def test_a_held_answer_to_a_finding_comes_back_on_the_finding_page(
    client, case_at, cast, settings, company_configured
):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    finding = demo.record_evaluation(case, cast.evaluator)
    share_findings(case=case, actor=cast.manager)
    client.force_login(cast.liaison)
    finding_page = reverse("findings:finding", args=[case.number, finding.pk])
    answer = {"kind": "disputed", "rationale": "The prompts were out of scope for this model."}
    response = client.post(
        reverse("findings:finding_respond", args=[case.number, finding.pk]), answer
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("accounts:sso_step_up") + "?" + urlencode({"next": finding_page})
    )
    assert not finding.responses.exists()
    verify_identity(client, settings)
    text = client.get(finding_page).content.decode()
    assert "The prompts were out of scope for this model." in text
    assert re.search(r'<input[^>]*value="disputed"[^>]*checked', text)
    assert not re.search(r'<input[^>]*value="fixed"[^>]*checked', text)


def test_only_the_company_provider_redeems_an_invitation(rf, cast, settings):
    request = rf.get("/")
    request.session = {keys.SSO_INVITATION: "any-token"}
    settings.SSO_INVITATION_REDEEMER = "tests.accounts.test_sso.redeem_any"
    staff = sso.Provider(
        name="staff",
        label="CAISI staff sign-in",
        kind="staff",
        issuer="https://agency.example",
        client_id="c",
        private_key="",
        key_id="k",
    )
    linked = sso.link_invited_subject(
        request=request, provider=staff, issuer="https://agency.example", subject="s", claims={}
    )
    assert linked is None
    assert not ExternalIdentity.objects.exists()


def test_a_refused_invitation_is_a_clear_refusal_that_creates_nothing(rf, cast, settings):
    request = rf.get("/")
    request.session = {keys.SSO_INVITATION: "never-issued"}
    provider = sso.Provider(
        name="company",
        label="Login.gov",
        kind="company",
        issuer="https://op.example",
        client_id="c",
        private_key="",
        key_id="k",
    )
    people = User.objects.count()
    with pytest.raises(sso.SignInRefused) as refused:
        sso.link_invited_subject(
            request=request,
            provider=provider,
            issuer="https://op.example",
            subject="s",
            claims={"email": "new@acme.example", "email_verified": True},
        )
    assert refused.value.status == 400 and "not valid" in refused.value.message
    assert User.objects.count() == people and not ExternalIdentity.objects.exists()
    assert keys.SSO_INVITATION not in request.session


def test_the_invitation_page_offers_login_gov_beside_the_password(
    client, cast, company_configured, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invite(
            organization=cast.liaison.organization, email="new@acme.example", invited_by=None
        )
    raw = re.search(r"/invitations/(\S+)/", mail.outbox[-1].body).group(1)
    page = client.get(reverse("accounts:invitation_accept", args=[raw])).content.decode()
    assert f'href="/accounts/sso/company/?invitation={raw}"' in page
    assert "Sign in with Login.gov" in page
    assert 'name="password1"' in page


def test_the_invitation_page_has_no_provider_link_without_the_company_provider(
    client, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invite(
            organization=cast.liaison.organization, email="new@acme.example", invited_by=None
        )
    raw = re.search(r"/invitations/(\S+)/", mail.outbox[-1].body).group(1)
    page = client.get(reverse("accounts:invitation_accept", args=[raw])).content.decode()
    assert "/accounts/sso/company/" not in page and 'name="password1"' in page


def bearer(raw):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_an_api_intake_submission_needs_the_tokens_owner_to_have_verified_their_identity(
    case_at, cast, company_configured
):
    from accounts.services import create_api_token

    case = case_at("intake")
    _, raw = create_api_token(user=cast.liaison, name="ci", read_only=False)
    submit = f"/api/v1/cases/{case.number}/actions/submit_intake/"
    refused = bearer(raw).post(submit, {}, format="json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "needs a verified identity" in refused.json()["detail"]
    # Other writes are not held.
    version = bearer(raw).post(
        f"/api/v1/cases/{case.number}/versions/",
        {"label": "v2", "vcs_reference": "git:abc123"},
        format="json",
    )
    assert version.status_code == 201
    # Once a sign-in proved the verified level, the act reaches its gate.
    ExternalIdentity.objects.create(
        user=cast.liaison,
        provider="company",
        issuer="http://127.0.0.1:9",
        subject="acme-liaison",
        identity_verified_at=timezone.now(),
    )
    assert bearer(raw).post(submit, {}, format="json").status_code == 409  # the gate's blockers


def test_a_service_account_cannot_take_an_act_that_needs_a_verified_identity(
    case_at, cast, company_configured
):
    from accounts import organizations
    from accounts.models import Membership

    case = case_at("intake")
    Membership.objects.filter(user=cast.liaison).update(is_administrator=True)
    admin = User.objects.get(pk=cast.liaison.pk)
    account = organizations.create_service_account(actor=admin, name="release pipeline")
    _, raw = organizations.create_service_token(
        actor=admin, account=account, name="ci", read_only=False
    )
    refused = bearer(raw).post(
        f"/api/v1/cases/{case.number}/actions/submit_intake/", {}, format="json"
    )
    assert refused.status_code == 403 and "Service accounts" in refused.json()["detail"]


def test_without_the_step_up_the_api_act_is_not_held(case_at, cast, company_configured, settings):
    from accounts.services import create_api_token

    settings.SSO_STEP_UP_REQUIRED = False
    case = case_at("intake")
    _, raw = create_api_token(user=cast.liaison, name="ci", read_only=False)
    response = bearer(raw).post(
        f"/api/v1/cases/{case.number}/actions/submit_intake/", {}, format="json"
    )
    assert response.status_code == 409


def test_the_schema_says_which_acts_need_a_verified_identity(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operations = {
        operation["operationId"]: operation
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation_id in ("cases_action", "findings_respond", "incidents_report"):
        assert "verified their identity (IAL2)" in operations[operation_id]["description"]
    auth = schema["components"]["securitySchemes"]["bearerAuth"]["description"]
    assert "reads case status only" in auth
