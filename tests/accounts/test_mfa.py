"""Two-step verification: required for staff and, unless relaxed, companies; the lockout.

These tests sign in through the real sign-in form and the real second-factor pages;
they never use the test client's shortcut that records a passed second factor.
"""

import base64
import os
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import ApiToken, User
from tests.browser_thread import in_own_thread
from tests.conftest import confirmed_authenticator, current_totp_code

PASSWORD = "demo-pass-2026"
STAFF = ["manager", "evaluator", "official", "auditor"]


def sign_in_with_password(client, user, password=PASSWORD):
    return client.post(reverse("login"), {"username": user.email, "password": password})


def key_on_page(html: str) -> bytes:
    key = re.search(r'data-testid="mfa-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return base64.b32decode(key)


def code_for(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


def forget_last_code(device) -> None:
    # A code is accepted once per 30-second step; tests that verify twice quickly
    # would otherwise be refused for replay, which is not what they test.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)


@pytest.mark.parametrize("who", STAFF)
def test_staff_without_an_authenticator_must_enrol_before_any_page(client, cast, who):
    sign_in_with_password(client, getattr(cast, who))
    for url in [reverse("cases:dashboard"), reverse("accounts:api_tokens"), "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:mfa_enrol")), url


def test_the_navigation_waits_for_the_second_factor(client, cast):
    sign_in_with_password(client, cast.manager)
    page = client.get(reverse("accounts:mfa_enrol")).content.decode()
    assert "Sign out" in page
    for link in [
        reverse("cases:desk"),
        reverse("cases:conflicts"),
        reverse("accounts:api_tokens"),
    ]:
        assert f'href="{link}"' not in page, link
    assert 'data-testid="bell"' not in page


def test_staff_enrols_with_qr_and_key_and_sees_recovery_codes_once(client, cast):
    sign_in_with_password(client, cast.manager)
    page = client.get(reverse("accounts:mfa_enrol"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<path" in html  # the QR code, inline
    key = key_on_page(html)

    wrong = client.post(
        reverse("accounts:mfa_enrol"), {"code": "000000" if code_for(key) != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    assert "does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.manager, confirmed=True).exists()

    done = client.post(reverse("accounts:mfa_enrol"), {"code": code_for(key)})
    assert done.status_code == 302
    shown = client.get(done["Location"])
    codes = re.findall(r"<li class=\"grid-col-6\">([a-z2-7]{8})</li>", shown.content.decode())
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=cast.manager).values_list("token", flat=True)
    )
    again = client.get(reverse("accounts:mfa_recovery_codes")).content.decode()
    assert not any(code in again for code in codes)
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_staff_with_an_authenticator_must_enter_a_code_before_any_page(client, cast):
    device = confirmed_authenticator(cast.evaluator)
    sign_in_with_password(client, cast.evaluator)
    response = client.get(reverse("cases:dashboard"))
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))

    wrong = client.post(reverse("accounts:mfa_verify"), {"code": "12345x"})
    assert wrong.status_code == 400
    assert "not accepted" in wrong.content.decode()
    assert client.get(reverse("cases:dashboard")).status_code == 302

    ok = client.post(
        reverse("accounts:mfa_verify"),
        {"code": current_totp_code(device), "next": reverse("cases:desk")},
    )
    assert ok.status_code == 302 and ok["Location"] == reverse("cases:desk")
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_verification_never_sends_anyone_to_another_site(client, cast):
    device = confirmed_authenticator(cast.manager)
    sign_in_with_password(client, cast.manager)
    response = client.post(
        reverse("accounts:mfa_verify"),
        {"code": current_totp_code(device), "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_passing_the_second_factor_gives_a_new_session_id(client, cast):
    device = confirmed_authenticator(cast.official)
    sign_in_with_password(client, cast.official)
    before = client.cookies["sessionid"].value
    client.post(reverse("accounts:mfa_verify"), {"code": current_totp_code(device)})
    assert client.cookies["sessionid"].value != before


def test_a_code_is_not_accepted_twice(client, cast):
    # Within one 30-second step the code stays current; only replay protection refuses it.
    device = confirmed_authenticator(cast.auditor)
    sign_in_with_password(client, cast.auditor)
    code = current_totp_code(device)
    assert client.post(reverse("accounts:mfa_verify"), {"code": code}).status_code == 302
    client.post(reverse("logout"))
    sign_in_with_password(client, cast.auditor)
    assert client.post(reverse("accounts:mfa_verify"), {"code": code}).status_code == 400


def test_each_recovery_code_works_once(client, cast, settings):
    # django-otp pauses a device after a failure; this test is about reuse, not throttling.
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    confirmed_authenticator(cast.manager)
    codes = services.issue_recovery_codes(user=cast.manager)
    sign_in_with_password(client, cast.manager)
    assert client.post(reverse("accounts:mfa_verify"), {"code": codes[0]}).status_code == 302
    assert client.get(reverse("cases:dashboard")).status_code == 200
    client.post(reverse("logout"))

    sign_in_with_password(client, cast.manager)
    reused = client.post(reverse("accounts:mfa_verify"), {"code": codes[0]})
    assert reused.status_code == 400
    assert client.post(reverse("accounts:mfa_verify"), {"code": codes[1]}).status_code == 302
    assert StaticToken.objects.filter(device__user=cast.manager).count() == 8


def test_a_password_alone_cannot_replace_an_existing_authenticator(client, cast):
    device = confirmed_authenticator(cast.manager)
    sign_in_with_password(client, cast.manager)
    response = client.get(reverse("accounts:mfa_enrol"))
    assert response["Location"] == reverse("accounts:mfa_verify")
    client.post(reverse("accounts:mfa_enrol"), {"code": "123456"})
    assert list(TOTPDevice.objects.filter(user=cast.manager)) == [device]


def test_every_company_account_must_enrol_a_second_factor_by_default(client, cast):
    sign_in_with_password(client, cast.liaison)
    assert client.get(reverse("cases:dashboard"))["Location"].startswith(
        reverse("accounts:mfa_enrol")
    )
    key = key_on_page(client.get(reverse("accounts:mfa_enrol")).content.decode())
    assert client.post(reverse("accounts:mfa_enrol"), {"code": code_for(key)}).status_code == 302
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_relaxed_a_liaison_is_not_asked_for_a_second_factor_until_they_enable_it(
    client, cast, settings
):
    settings.COMPANY_SECOND_FACTOR_REQUIRED = False
    sign_in_with_password(client, cast.liaison)
    assert client.get(reverse("cases:dashboard")).status_code == 200
    settings_page = client.get(reverse("accounts:security")).content.decode()
    assert "Set up two-step verification" in settings_page

    key = key_on_page(client.get(reverse("accounts:mfa_enrol")).content.decode())
    assert client.post(reverse("accounts:mfa_enrol"), {"code": code_for(key)}).status_code == 302
    assert "On:" in client.get(reverse("accounts:security")).content.decode()
    client.post(reverse("logout"))

    sign_in_with_password(client, cast.liaison)
    assert client.get(reverse("cases:dashboard"))["Location"].startswith(
        reverse("accounts:mfa_verify")
    )
    device = TOTPDevice.objects.get(user=cast.liaison)
    forget_last_code(device)
    client.post(reverse("accounts:mfa_verify"), {"code": current_totp_code(device)})
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_relaxed_other_people_are_unaffected_when_one_liaison_enables_it(client, cast, settings):
    settings.COMPANY_SECOND_FACTOR_REQUIRED = False
    confirmed_authenticator(cast.liaison)
    sign_in_with_password(client, cast.other_liaison)
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_api_tokens_are_their_own_factor(client, cast, case_at):
    case = case_at("triage")
    _, raw = services.create_api_token(user=cast.manager, name="pipeline")
    response = client.get(
        f"/api/v1/cases/{case.number}/status/", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "triage"


def test_staff_session_without_second_factor_cannot_create_a_token_or_use_the_api(client, cast):
    confirmed_authenticator(cast.manager)
    sign_in_with_password(client, cast.manager)
    response = client.post(reverse("accounts:api_tokens"), {"name": "x", "access": "read_only"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert not ApiToken.objects.filter(user=cast.manager).exists()
    assert client.get("/api/v1/cases/").status_code == 403


def test_renewing_recovery_codes_replaces_the_old_ones(client, cast):
    device = confirmed_authenticator(cast.evaluator)
    old = services.issue_recovery_codes(user=cast.evaluator)
    sign_in_with_password(client, cast.evaluator)
    client.post(reverse("accounts:mfa_verify"), {"code": current_totp_code(device)})
    response = client.post(reverse("accounts:recovery_codes_renew"))
    new = re.findall(
        r'<li class="grid-col-6">([a-z2-7]{8})</li>',
        client.get(response["Location"]).content.decode(),
    )
    assert len(new) == 10 and not set(new) & set(old)


# --- Lockout -----------------------------------------------------------------------


def test_repeated_failures_lock_the_address_out_with_a_clear_message(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in_with_password(client, cast.liaison, password="wrong-password-1")
    locked = sign_in_with_password(client, cast.liaison)  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_changing_the_case_of_the_address_does_not_escape_the_lockout(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for variant in ["liaison@acme.example", "LIAISON@acme.example", "Liaison@Acme.Example"]:
        client.post(reverse("login"), {"username": variant, "password": "wrong-password-1"})
    assert sign_in_with_password(client, cast.liaison).status_code == 429


def test_a_lockout_of_one_address_leaves_others_alone(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in_with_password(client, cast.liaison, password="wrong-password-1")
    assert sign_in_with_password(client, cast.other_liaison).status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        sign_in_with_password(client, cast.liaison, password="wrong-password-1")
    assert sign_in_with_password(client, cast.liaison).status_code == 302
    client.post(reverse("logout"))
    for _ in range(2):
        sign_in_with_password(client, cast.liaison, password="wrong-password-1")
    assert sign_in_with_password(client, cast.liaison).status_code == 302


# --- The demo ----------------------------------------------------------------------


def test_seed_demo_prints_how_every_staff_user_completes_the_second_factor(
    db, client, capsys, settings
):
    settings.DEBUG = True  # the demo runs only there (tests/security/test_demo_keys.py)
    call_command("seed_demo")
    out = capsys.readouterr().out
    for email in ["manager", "evaluator", "official", "auditor"]:
        user = User.objects.get(email=f"{email}@caisi.example")
        line = next(line for line in out.splitlines() if user.email in line and "key" in line)
        key = base64.b32decode(re.search(r"key ([A-Z2-7]+)", line).group(1))
        client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        forget_last_code(device)
        assert (
            client.post(reverse("accounts:mfa_verify"), {"code": code_for(key)}).status_code == 302
        )
        assert client.get(reverse("cases:dashboard")).status_code == 200
        client.post(reverse("logout"))
    assert "recovery" in out.lower()


# --- In the browser ----------------------------------------------------------------


def enrol_then_sign_in_with_a_recovery_code(url: str, email: str, artifacts: str) -> str:
    """Drive Chromium through enrolment and a second sign-in; return the page's text."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/accounts/two-step/set-up/**")
        assert page.locator("[data-testid=mfa-qr] svg").is_visible()
        page.screenshot(path=f"{artifacts}/mfa-enrol.png", full_page=True)
        key = base64.b32decode(page.inner_text("[data-testid=mfa-key]").replace(" ", ""))
        page.fill("input[name=code]", code_for(key))
        page.click("[data-testid=mfa-enrol] button[type=submit]")
        page.wait_for_url(f"{url}/accounts/two-step/recovery-codes/**")
        codes = page.locator("[data-testid=recovery-codes] li").all_inner_texts()
        assert len(codes) == 10
        page.screenshot(path=f"{artifacts}/mfa-recovery-codes.png", full_page=True)
        page.click("text=Continue")
        page.wait_for_url(f"{url}/")
        page.click("button:has-text('Sign out')")

        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/accounts/two-step/**")
        page.fill("input[name=code]", codes[3])
        page.screenshot(path=f"{artifacts}/mfa-verify.png", full_page=True)
        page.click("[data-testid=mfa-verify] button[type=submit]")
        page.wait_for_url(f"{url}/")
        text = page.inner_text("main")
        browser.close()
    return text


@pytest.mark.e2e
def test_staff_enrols_and_signs_in_again_in_the_browser(live_server, cast, artifacts_dir):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    text = in_own_thread(
        lambda: enrol_then_sign_in_with_a_recovery_code(
            live_server.url, cast.official.email, artifacts_dir
        )
    )
    assert "You used a recovery code" in text


def test_behind_a_proxy_the_lockout_holds_the_client_not_everyone(client, cast, settings):
    """Every request comes from the proxy's address; the client is in X-Forwarded-For."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.9"}
    attacker = {**proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for _ in range(3):
        client.post(
            reverse("login"),
            {"username": cast.liaison.email, "password": "wrong-password-1"},
            **attacker,
        )
    form = {"username": cast.liaison.email, "password": PASSWORD}
    assert client.post(reverse("login"), form, **attacker).status_code == 429
    # A forged left-hand entry does not make the attacker someone else.
    forged = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.5"}
    assert client.post(reverse("login"), form, **forged).status_code == 429
    owner = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client.post(reverse("login"), form, **owner).status_code == 302


def test_without_a_trusted_proxy_a_forwarded_header_changes_nothing(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        client.post(
            reverse("login"),
            {"username": cast.liaison.email, "password": "wrong-password-1"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    fresh_claim = {"HTTP_X_FORWARDED_FOR": "198.51.100.99"}
    form = {"username": cast.liaison.email, "password": PASSWORD}
    assert client.post(reverse("login"), form, **fresh_claim).status_code == 429
