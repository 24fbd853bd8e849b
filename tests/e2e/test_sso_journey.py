"""Single sign-on in Chromium through a real OpenID Provider (Node's oidc-provider).

Two providers run on 127.0.0.1: the company one (Login.gov-style: private_key_jwt,
PKCE, acr_values IAL1, the IAL2 step-up) and the staff one (whose `amr` says
whether a phishing-resistant authenticator was used). Each refused assertion
is provoked at the real provider, or by a proxy on the token endpoint's wire.
"""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from accounts import session_keys as keys
from accounts import sso
from accounts.models import ExternalIdentity, User
from tests.oidc_provider import (
    IAL1,
    IAL2,
    ClientKey,
    OpenIDProvider,
    TokenProxy,
    node_available,
    tamper_payload,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not node_available(), reason="needs `npm ci` in tests/tools/oidc-provider"),
]

OTHER_RP_SECRET = "other-relying-party-secret-of-some-length"


def portal_client(client_id, key, base, name):
    return {
        "client_id": client_id,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.public_jwk]},
        "redirect_uris": [f"{base}/accounts/sso/{name}/callback/"],
        "post_logout_redirect_uris": [f"{base}/accounts/login/"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }


COMPANY_ACCOUNTS = {
    "acme-liaison": {
        "email": "liaison@acme.example",
        "name": "Lia",
        "amr": ["pwd", "otp"],
        "verified": True,
    },
    # Claims the liaison's email address, but is another subject: never matched by it.
    "stranger": {
        "email": "liaison@acme.example",
        "name": "Not Lia",
        "amr": ["pwd", "otp"],
        "verified": True,
    },
    "globex-unverified": {
        "email": "liaison@globex.example",
        "name": "Glo",
        "amr": ["pwd", "otp"],
        "verified": False,
    },
    # People invited by a company, whose first sign-in the invitation links.
    "invited-new": {
        "email": "new@acme.example",
        "name": "Nova Newcomer",
        "amr": ["pwd", "otp"],
        "verified": True,
    },
    "peter-initech": {
        "email": "peter@initech.example",
        "name": "Peter Gibbons",
        "amr": ["pwd", "phishing_resistant"],
        "verified": True,
    },
    "invited-twice": {
        "email": "both@example.test",
        "name": "Bo Th",
        "amr": ["pwd", "otp"],
        "verified": True,
    },
}
STAFF_ACCOUNTS = {
    "manager-piv": {"email": "manager@caisi.example", "name": "Man", "amr": ["hwk", "pin"]},
    "evaluator-otp": {"email": "evaluator@caisi.example", "name": "Eva", "amr": ["pwd", "otp"]},
}


@pytest.fixture(scope="module")
def client_keys():
    return SimpleNamespace(
        company=ClientKey.generate("company-1"), staff=ClientKey.generate("staff-1")
    )


def start_company_provider(base, key, **options):
    other_rp = {
        "client_id": "other-rp",
        "client_secret": OTHER_RP_SECRET,
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": [f"{base}/healthz"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    return OpenIDProvider(
        clients=[portal_client("portal-company", key, base, "company"), other_rp],
        accounts=COMPANY_ACCOUNTS,
        **options,
    ).start()


@pytest.fixture(scope="module")
def company_op(live_server, client_keys):
    provider = start_company_provider(live_server.url, client_keys.company)
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def staff_op(live_server, client_keys):
    provider = OpenIDProvider(
        clients=[portal_client("portal-staff", client_keys.staff, live_server.url, "staff")],
        accounts=STAFF_ACCOUNTS,
    ).start()
    yield provider
    provider.stop()


def configure(settings, company, staff, client_keys, **company_extra):
    def conf(provider, name, client_id, key, **extra):
        defaults = settings.SSO_DEFAULTS[name]
        return {
            "label": defaults["label"],
            "kind": defaults["kind"],
            "issuer": provider.issuer,
            "client_id": client_id,
            "private_key": key.private_pem,
            "key_id": key.key_id,
            "scopes": "openid email",
            "acr_values": defaults["acr_values"],
            "step_up_acr_values": defaults["step_up_acr_values"],
            "second_factor_values": defaults["second_factor"].split(","),
            **extra,
        }

    settings.SSO_PROVIDERS = {
        "company": conf(company, "company", "portal-company", client_keys.company, **company_extra),
        "staff": conf(staff, "staff", "portal-staff", client_keys.staff),
    }
    policy = settings.CONTENT_SECURITY_POLICY
    directives = dict(policy["DIRECTIVES"])
    directives["form-action"] = ["'self'", company.issuer, staff.issuer]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    sso._discovered.clear()


@pytest.fixture
def providers(settings, company_op, staff_op, client_keys, cast):
    configure(settings, company_op, staff_op, client_keys)
    ExternalIdentity.objects.create(
        user=cast.liaison, provider="company", issuer=company_op.issuer, subject="acme-liaison"
    )
    ExternalIdentity.objects.create(
        user=cast.other_liaison,
        provider="company",
        issuer=company_op.issuer,
        subject="globex-unverified",
    )
    ExternalIdentity.objects.create(
        user=cast.manager, provider="staff", issuer=staff_op.issuer, subject="manager-piv"
    )
    ExternalIdentity.objects.create(
        user=cast.evaluator, provider="staff", issuer=staff_op.issuer, subject="evaluator-otp"
    )
    return SimpleNamespace(company=company_op, staff=staff_op)


@pytest.fixture
def proxy(settings, providers):
    """Put a proxy on the wire between the portal and the company provider's token endpoint."""
    wire = TokenProxy(providers.company.token_endpoint).start()
    company = settings.SSO_PROVIDERS["company"]
    company["endpoints"] = {"token_endpoint": wire.url}
    # The client assertion still names the real endpoint: the provider checks its audience.
    company["assertion_audience"] = providers.company.token_endpoint
    yield wire
    wire.stop()


def requests_to(page, fragment):
    seen = []
    page.on(
        "request", lambda request: seen.append(request.url) if fragment in request.url else None
    )
    return seen


def sign_in_at_provider(page, account):
    page.wait_for_selector("[data-testid=op-login]")
    page.select_option("select[name=login]", account)
    page.click("[data-testid=op-login] button[type=submit]")


def sign_in_through(page, live_server, button, account):
    page.goto(f"{live_server.url}/accounts/login/")
    page.click(f"[data-testid=sso-{button}]")
    sign_in_at_provider(page, account)


def session_of(page, live_server):
    from importlib import import_module

    from django.conf import settings

    cookie = next(c for c in page.context.cookies(live_server.url) if c["name"] == "sessionid")
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])


def signed_in_user_id(page, live_server):
    cookies = [c for c in page.context.cookies(live_server.url) if c["name"] == "sessionid"]
    if not cookies:
        return None
    return session_of(page, live_server).get("_auth_user_id")


def test_login_page_offers_both_providers_in_uswds_buttons(page, live_server, providers):
    page.goto(f"{live_server.url}/accounts/login/")
    company = page.locator("[data-testid=sso-company]")
    staff = page.locator("[data-testid=sso-staff]")
    assert company.inner_text() == "Sign in with Login.gov"
    assert staff.inner_text() == "CAISI staff sign-in"
    assert "usa-button" in company.get_attribute("class")
    assert "usa-button" in staff.get_attribute("class")


def test_liaison_signs_in_with_login_gov_by_subject(page, live_server, providers, cast):
    authorize = requests_to(page, f"{providers.company.issuer}/auth?")
    sign_in_through(page, live_server, "company", "acme-liaison")
    page.wait_for_url(f"{live_server.url}/")
    assert signed_in_user_id(page, live_server) == str(cast.liaison.pk)
    params = parse_qs(urlsplit(authorize[0]).query)
    assert params["acr_values"] == [IAL1]
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) >= 43
    assert params["nonce"][0] and params["state"][0]
    session = session_of(page, live_server)
    assert session[keys.SSO_PROVIDER] == "company"
    assert session[keys.SSO_ACR] == IAL1
    identity = ExternalIdentity.objects.get(subject="acme-liaison")
    assert identity.last_sign_in_at is not None


def test_staff_with_a_phishing_resistant_authenticator_needs_no_second_code(
    page, live_server, providers, cast
):
    sign_in_through(page, live_server, "staff", "manager-piv")
    page.wait_for_url(f"{live_server.url}/")
    assert signed_in_user_id(page, live_server) == str(cast.manager.pk)
    assert session_of(page, live_server)[keys.SECOND_FACTOR_DEVICE] == "sso:staff"
    page.goto(f"{live_server.url}/desk/")
    assert "/accounts/two-step/" not in page.url


def test_staff_without_a_phishing_resistant_amr_must_pass_the_portals_own_factor(
    page, live_server, providers, cast
):
    sign_in_through(page, live_server, "staff", "evaluator-otp")
    page.wait_for_url(f"{live_server.url}/accounts/two-step/**")
    assert signed_in_user_id(page, live_server) == str(cast.evaluator.pk)
    assert keys.SECOND_FACTOR_DEVICE not in session_of(page, live_server)
    page.goto(f"{live_server.url}/desk/")
    assert "/accounts/two-step/" in page.url


def test_an_unknown_subject_creates_nothing_even_with_a_known_email(
    page, live_server, providers, cast
):
    people, identities = User.objects.count(), ExternalIdentity.objects.count()
    sign_in_through(page, live_server, "company", "stranger")
    alert = page.locator("[data-testid=sso-refused]")
    assert "no portal account is linked" in alert.inner_text()
    assert signed_in_user_id(page, live_server) is None
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (people, identities)


def test_an_invitation_waiting_in_the_session_links_the_new_subject(
    page, live_server, providers, cast, settings
):
    invited = User.objects.create_user(email="new@acme.example", password=None)
    from accounts.models import Membership

    Membership.objects.create(user=invited, organization=cast.liaison.organization)
    settings.SSO_INVITATION_REDEEMER = f"{__name__}.redeem_new_liaison"
    page.goto(f"{live_server.url}/accounts/sso/company/?invitation=welcome")
    sign_in_at_provider(page, "stranger")
    page.wait_for_url(f"{live_server.url}/")
    assert signed_in_user_id(page, live_server) == str(invited.pk)
    identity = ExternalIdentity.objects.get(subject="stranger")
    assert (identity.user, identity.issuer) == (invited, providers.company.issuer)
    assert keys.SSO_INVITATION not in session_of(page, live_server)


def redeem_new_liaison(token, *, provider, claims):
    return User.objects.get(email="new@acme.example") if token == "welcome" else None


def test_a_tampered_id_token_is_refused(page, live_server, proxy, cast):
    # The stranger's real token, its subject rewritten to the liaison's: the signature breaks.
    proxy.alter = lambda body: {
        **body,
        "id_token": tamper_payload(body["id_token"], sub="acme-liaison"),
    }
    sign_in_through(page, live_server, "company", "stranger")
    assert "altered on its way" in page.locator("[data-testid=sso-refused]").inner_text()
    assert signed_in_user_id(page, live_server) is None
    assert proxy.seen, "the token answer went through the proxy"


def id_token_for_other_client(browser, provider, base):
    """Sign in at the provider as another relying party would, and return its ID token."""
    from mozilla_django_oidc.utils import generate_code_challenge

    verifier = "v" * 64
    context = browser.new_context()
    page = context.new_page()
    query = urlencode(
        {
            "client_id": "other-rp",
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": f"{base}/healthz",
            "state": "other-state",
            "nonce": "other-nonce",
            "code_challenge": generate_code_challenge(verifier, "S256"),
            "code_challenge_method": "S256",
        }
    )
    page.goto(f"{provider.issuer}/auth?{query}")
    sign_in_at_provider(page, "acme-liaison")
    page.wait_for_url(f"{base}/healthz**")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    context.close()
    answer = requests.post(
        provider.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{base}/healthz",
            "code_verifier": verifier,
        },
        auth=("other-rp", OTHER_RP_SECRET),
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["id_token"]


def test_an_id_token_meant_for_another_client_is_refused(
    page, browser, live_server, proxy, providers
):
    foreign = id_token_for_other_client(browser, providers.company, live_server.url)
    proxy.alter = lambda body: {**body, "id_token": foreign}
    sign_in_through(page, live_server, "company", "acme-liaison")
    assert "meant for another service" in page.locator("[data-testid=sso-refused]").inner_text()
    assert signed_in_user_id(page, live_server) is None


def test_a_replayed_state_is_refused(page, browser, live_server, providers, cast):
    callbacks = requests_to(page, "/accounts/sso/company/callback/")
    sign_in_through(page, live_server, "company", "acme-liaison")
    page.wait_for_url(f"{live_server.url}/")
    callback = callbacks[0]
    # Again in the same browser: the state was used up.
    response = page.goto(callback)
    assert response.status == 400
    assert "already used" in page.locator("[data-testid=sso-refused]").inner_text()
    # In another browser, as someone who caught the link would.
    other = browser.new_context().new_page()
    response = other.goto(callback)
    assert response.status == 400
    assert not [c for c in other.context.cookies(live_server.url) if c["name"] == "sessionid"] or (
        session_of(other, live_server).get("_auth_user_id") is None
    )
    other.context.close()


def test_an_expired_id_token_is_refused(page, live_server, settings, client_keys, staff_op, cast):
    brief = start_company_provider(live_server.url, client_keys.company, id_token_ttl=1)
    try:
        configure(
            settings,
            brief,
            staff_op,
            client_keys,
            endpoints={},
            assertion_audience=brief.token_endpoint,
        )
        wire = TokenProxy(brief.token_endpoint).start()
        settings.SSO_PROVIDERS["company"]["endpoints"] = {"token_endpoint": wire.url}
        settings.SSO_CLOCK_LEEWAY_SECONDS = 0
        ExternalIdentity.objects.create(
            user=cast.liaison, provider="company", issuer=brief.issuer, subject="acme-liaison"
        )
        wire.delay = 2.5  # the answer arrives after the one-second token has expired
        sign_in_through(page, live_server, "company", "acme-liaison")
        assert "has expired" in page.locator("[data-testid=sso-refused]").inner_text()
        assert signed_in_user_id(page, live_server) is None
        wire.stop()
    finally:
        brief.stop()


def test_step_up_to_the_verified_level_when_the_intake_is_submitted(
    page, live_server, providers, cast
):
    case = demo_case(cast)
    authorize = requests_to(page, f"{providers.company.issuer}/auth?")
    sign_in_through(page, live_server, "company", "acme-liaison")
    page.wait_for_url(f"{live_server.url}/")
    action = f"{live_server.url}/cases/{case.number}/actions/submit_intake/"
    # The page opens at the basic level; sending the act asks for the verified one.
    page.goto(action)
    assert page.url == action and len(authorize) == 1
    page.click("form button:has-text('Submit intake')")
    sign_in_at_provider(page, "acme-liaison")
    page.wait_for_url(action)
    step_up = parse_qs(urlsplit(authorize[-1]).query)
    assert step_up["acr_values"] == [IAL2]
    assert step_up["prompt"] == ["login"]
    assert session_of(page, live_server)[keys.SSO_ACR] == IAL2
    # Remembered for the person's API tokens too.
    assert ExternalIdentity.objects.get(subject="acme-liaison").identity_verified_at is not None
    # Verified: the act is sent at once (and answered by its gate, this intake being empty).
    with page.expect_response(action) as sent:
        page.click("form button:has-text('Submit intake')")
    assert sent.value.status == 409  # the gate's refusal, its reasons on the form
    assert page.url == action and len(authorize) == 2


def test_step_up_that_the_provider_cannot_verify_is_refused(page, live_server, providers, cast):
    case = demo_case(cast, liaison=cast.other_liaison)
    sign_in_through(page, live_server, "company", "globex-unverified")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/cases/{case.number}/actions/submit_intake/")
    page.click("form button:has-text('Submit intake')")
    sign_in_at_provider(page, "globex-unverified")
    assert (
        "could not confirm your verified identity"
        in page.locator("[data-testid=sso-refused]").inner_text()
    )
    assert session_of(page, live_server)[keys.SSO_ACR] == IAL1
    assert ExternalIdentity.objects.get(subject="globex-unverified").identity_verified_at is None
    case.refresh_from_db()
    assert case.status == "intake"


def test_sign_out_ends_the_provider_session_too(page, live_server, providers, cast):
    sign_in_through(page, live_server, "company", "acme-liaison")
    page.wait_for_url(f"{live_server.url}/")
    hints = requests_to(page, f"{providers.company.issuer}/session/end")
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert parse_qs(urlsplit(hints[0]).query)["id_token_hint"][0].count(".") == 2
    assert signed_in_user_id(page, live_server) is None
    # The provider asks again: its own session ended with the portal's.
    page.click("[data-testid=sso-company]")
    page.wait_for_selector("[data-testid=op-login]")


def demo_case(cast, liaison=None):
    from cases import services

    return services.open_case(
        actor=liaison or cast.liaison, title="Atlas review", model_name="Atlas"
    )


# --- invitations accepted through the company provider -------------------------------------


def invite(organization, email, **kwargs):
    """Invite through the service; return the invitation and the token its email carries."""
    import re

    from django.core import mail

    from accounts import invitations

    invitation = invitations.invite(
        organization=organization, email=email, invited_by=None, **kwargs
    )
    raw = re.search(r"/invitations/(\S+)/", mail.outbox[-1].body).group(1)
    return invitation, raw


def accept_through_login_gov(page, live_server, raw, account):
    page.goto(f"{live_server.url}/invitations/{raw}/")
    link = page.locator("[data-testid=invitation-sso]")
    assert link.inner_text() == "Sign in with Login.gov"
    assert link.get_attribute("href") == f"/accounts/sso/company/?invitation={raw}"
    link.click()
    sign_in_at_provider(page, account)


def test_an_invited_person_signs_in_with_login_gov_and_joins_the_company(
    page, live_server, providers, cast
):
    from accounts.models import Invitation, OrganizationAuditEntry

    acme = cast.liaison.organization
    invitation, raw = invite(acme, "new@acme.example", full_name="Nova")
    accept_through_login_gov(page, live_server, raw, "invited-new")
    page.wait_for_url(f"{live_server.url}/")
    person = User.objects.get(email="new@acme.example")
    assert signed_in_user_id(page, live_server) == str(person.pk)
    # The portal asks only for `openid email`: the name is the one the invitation gave.
    assert person.organization == acme and person.full_name == "Nova"
    assert not person.has_usable_password()
    identity = ExternalIdentity.objects.get(user=person)
    assert (identity.issuer, identity.subject) == (providers.company.issuer, "invited-new")
    assert Invitation.objects.get(pk=invitation.pk).accepted_by == person
    assert acme.audit_entries.filter(
        action=OrganizationAuditEntry.Action.INVITATION_ACCEPTED, subject=person
    ).exists()
    session = session_of(page, live_server)
    assert keys.SSO_INVITATION not in session
    # Login.gov asked for its own second factor: the portal asks for none again.
    assert session[keys.SECOND_FACTOR_DEVICE] == "sso:company"
    page.goto(f"{live_server.url}/cases/")
    assert "/accounts/two-step/" not in page.url
    # The next sign-in finds the person by subject, without the invitation.
    page.context.clear_cookies()
    sign_in_through(page, live_server, "company", "invited-new")
    page.wait_for_url(f"{live_server.url}/")
    assert signed_in_user_id(page, live_server) == str(person.pk)


def refused_and_nothing_created(page, live_server, text):
    assert text in page.locator("[data-testid=sso-refused]").inner_text()
    assert signed_in_user_id(page, live_server) is None


def test_an_expired_invitation_is_refused_at_the_sso_return_and_creates_nothing(
    page, live_server, providers, cast
):
    from django.utils import timezone

    from accounts.models import Invitation

    invitation, raw = invite(cast.liaison.organization, "new@acme.example")
    page.goto(f"{live_server.url}/accounts/sso/company/?invitation={raw}")
    # It expires while the person is at the provider.
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    sign_in_at_provider(page, "invited-new")
    refused_and_nothing_created(page, live_server, "This invitation has expired.")
    assert not User.objects.filter(email="new@acme.example").exists()
    assert not ExternalIdentity.objects.filter(subject="invited-new").exists()
    assert keys.SSO_INVITATION not in session_of(page, live_server)


def test_a_used_invitation_is_refused_at_the_sso_return(page, live_server, providers, cast):
    _, raw = invite(cast.liaison.organization, "new@acme.example")
    accept_through_login_gov(page, live_server, raw, "invited-new")
    page.wait_for_url(f"{live_server.url}/")
    # The same link again, by another subject claiming the same address.
    page.context.clear_cookies()
    identities = ExternalIdentity.objects.count()
    page.goto(f"{live_server.url}/accounts/sso/company/?invitation={raw}")
    sign_in_at_provider(page, "stranger")
    refused_and_nothing_created(page, live_server, "already been used")
    assert ExternalIdentity.objects.count() == identities


def test_an_invitation_for_another_address_is_refused_at_the_sso_return(
    page, live_server, providers, cast
):
    invitation, raw = invite(cast.liaison.organization, "someone-else@acme.example")
    page.goto(f"{live_server.url}/accounts/sso/company/?invitation={raw}")
    sign_in_at_provider(page, "invited-new")
    refused_and_nothing_created(page, live_server, "sent to another address")
    assert not User.objects.filter(email="new@acme.example").exists()
    from accounts import invitations

    assert invitations.find_waiting(raw) is not None  # the right person can still use it


def test_an_invitation_of_another_company_does_not_move_a_member_through_sso(
    page, live_server, providers, cast
):
    from accounts import invitations

    acme, globex = cast.liaison.organization, cast.other_liaison.organization
    _, acme_link = invite(acme, "both@example.test")
    _, globex_link = invite(globex, "both@example.test")
    person = User.objects.create_user(email="both@example.test", password=None)
    invitations.accept(invitations.find_waiting(globex_link), person)
    page.goto(f"{live_server.url}/accounts/sso/company/?invitation={acme_link}")
    sign_in_at_provider(page, "invited-twice")
    refused_and_nothing_created(page, live_server, "already belongs to Globex Labs")
    person.refresh_from_db()
    assert person.organization == globex
    assert not ExternalIdentity.objects.filter(subject="invited-twice").exists()
    assert invitations.find_waiting(acme_link) is not None


def test_a_new_company_goes_from_request_for_access_to_its_first_intake_through_login_gov(
    page, live_server, providers, cast, artifacts_dir
):
    import re

    from django.core import mail
    from django.utils import timezone

    from accounts.models import AccessRequest, Organization
    from cases.models import Case

    # The company asks for access.
    page.goto(f"{live_server.url}/request-access/")
    page.fill("input[name=organization_name]", "Initech Models")
    page.fill("input[name=contact_name]", "Peter Gibbons")
    page.fill("input[name=email]", "peter@initech.example")
    page.fill("textarea[name=reason]", "We plan to release Initech-7B in the spring.")
    page.click("[data-testid=request-access] button[type=submit]")
    page.wait_for_selector("[data-testid=request-sent]")

    # A case manager signs in through the staff provider with a security key, and approves.
    sign_in_through(page, live_server, "staff", "manager-piv")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/desk/")
    page.click("[data-testid=access-requests-task] a")
    page.click("[data-testid=approve] button[type=submit]")
    page.wait_for_selector("text=its first liaison is invited")
    assert AccessRequest.objects.get().status == "approved"
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    (message,) = mail.outbox
    assert message.to == ["peter@initech.example"]
    raw = re.search(r"/invitations/(\S+)/", message.body).group(1)

    # The liaison follows the link and signs in with Login.gov, whose second factor counts.
    accept_through_login_gov(page, live_server, raw, "peter-initech")
    page.wait_for_url(f"{live_server.url}/")
    assert session_of(page, live_server)[keys.SECOND_FACTOR_DEVICE] == "sso:company"

    # The first case, its intake and a version, at the basic identity level.
    page.click("text=Open a new case")
    page.fill("input[name=title]", "Initech-7B pre-release review")
    page.fill("input[name=model_name]", "Initech-7B")
    page.click("button:has-text('Open the case')")
    page.wait_for_url(re.compile(r".*/cases/CAISI-\d{4}-\d{4,}/intake/$"))
    case_url = page.url.removesuffix("intake/")
    page.fill("textarea[name=description]", "A small assistant model.")
    page.fill("input[name=architecture]", "Decoder-only transformer")
    page.fill("input[name=modality]", "text")
    page.fill("input[name=parameter_count]", "7000000000")
    page.fill("input[name=training_compute]", "8e22 FLOP")
    page.fill("textarea[name=training_data_description]", "Licensed and public text to 2026-06.")
    page.fill("textarea[name=intended_uses]", "Office drafting through an API.")
    page.select_option("select[name=release_type]", "restricted_api")
    release = timezone.localdate().replace(year=timezone.localdate().year + 1)
    page.fill("input[name=planned_release_date]", release.isoformat())
    page.click("button[name=return]")
    page.wait_for_url(case_url)
    page.click("text=Add a version")
    page.fill("input[name=label]", "v1.0-rc1")
    page.fill("input[name=vcs_reference]", "4c1d2e3f")
    page.select_option("select[name=packaging]", "container_image")
    page.fill("input[name=container_image]", "registry.initech.example/i7b@sha256:" + "d" * 64)
    page.click("button:has-text('Save version')")
    page.wait_for_url(case_url)

    # Submitting asks for the verified identity, then the intake goes to CAISI.
    page.click("[data-testid=actions] >> text=Submit intake")
    action = page.url
    page.click("form button:has-text('Submit intake')")
    sign_in_at_provider(page, "peter-initech")
    page.wait_for_url(action)
    assert session_of(page, live_server)[keys.SSO_ACR] == IAL2
    case = Case.objects.get(organization__name="Initech Models")
    assert case.status == "intake"
    page.click("form button:has-text('Submit intake')")
    page.wait_for_url(case_url)
    page.screenshot(path=f"{artifacts_dir}/new-company-first-intake-sso.png", full_page=True)
    case.refresh_from_db()
    assert case.status == "triage"
    organization = Organization.objects.get(name="Initech Models")
    peter = User.objects.get(email="peter@initech.example")
    assert peter.organization == organization and organization.point_of_contact == peter
    assert ExternalIdentity.objects.get(user=peter).subject == "peter-initech"
