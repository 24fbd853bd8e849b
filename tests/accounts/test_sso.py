"""Single sign-on pages without a browser: bad callbacks, switched-off passwords, the hook.

The sign-ins themselves, through a real provider, are in tests/e2e/test_sso_journey.py.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts import invitations, sso
from accounts import session_keys as keys
from accounts.models import ExternalIdentity, User

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


def test_the_step_up_holds_a_liaison_only_while_the_company_provider_is_on(
    client, case_at, cast, settings, company_configured
):
    case = case_at("intake")
    client.force_login(cast.liaison)
    response = client.get(reverse("cases:intake", args=[case.number]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sso_step_up"))
    # A posted answer is sent back to the page it came from, to step up there.
    finding_page = f"/cases/{case.number}/"
    response = client.post(
        reverse("cases:action", args=[case.number, "submit_intake"]),
        {},
        HTTP_REFERER=f"http://testserver{finding_page}",
    )
    assert response.status_code == 302
    assert "next=%2Fcases%2F" in response["Location"]
    # Other acts, and CAISI staff, are not held.
    assert client.get(reverse("cases:detail", args=[case.number])).status_code == 200
    client.force_login(cast.manager)
    assert client.get(reverse("cases:intake", args=[case.number])).status_code != 302
    settings.SSO_STEP_UP_REQUIRED = False
    client.force_login(cast.liaison)
    assert client.get(reverse("cases:intake", args=[case.number])).status_code == 200


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
