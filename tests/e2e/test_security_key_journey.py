"""Security keys and passkeys for CAISI staff, in Chromium with a virtual authenticator.

Chromium's DevTools protocol (`WebAuthn.addVirtualAuthenticator`) gives the
browser a security key that answers the real WebAuthn ceremonies; the portal
checks them with django-otp-webauthn as it would a physical key's.
"""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import session_keys as keys
from tests.conftest import confirmed_authenticator, current_totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-pass-2026"


@pytest.fixture
def keys_required(settings, live_server):
    settings.STAFF_REQUIRE_WEBAUTHN = True
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]


def virtual_authenticator(page) -> tuple:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    made = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, made["authenticatorId"]


def password_sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")


def pass_totp(page, live_server, user):
    device = confirmed_authenticator(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    page.wait_for_url(f"{live_server.url}/accounts/two-step/**")
    page.fill("input[name=code]", current_totp_code(device))
    page.click("[data-testid=mfa-verify] button[type=submit]")


def session_of(page, live_server):
    from importlib import import_module

    from django.conf import settings

    cookie = next(c for c in page.context.cookies(live_server.url) if c["name"] == "sessionid")
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])


def test_staff_without_sso_enrol_a_key_then_sign_in_with_it(page, live_server, keys_required, cast):
    cdp, authenticator = virtual_authenticator(page)
    confirmed_authenticator(cast.manager)
    password_sign_in(page, live_server, cast.manager)
    pass_totp(page, live_server, cast.manager)
    # A code was enough before; now the key is owed, and every page waits for it.
    page.wait_for_url(f"{live_server.url}/accounts/two-step/security-key/**")
    assert page.locator("[data-testid=security-key-required]").is_visible()
    page.goto(f"{live_server.url}/desk/")
    assert "/accounts/two-step/security-key/" in page.url

    page.click("#passkey-register-button")
    page.wait_for_url(lambda url: "/security-key/" not in url)
    credential = WebAuthnCredential.objects.get(user=cast.manager)
    assert credential.confirmed
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1
    page.goto(f"{live_server.url}/desk/")
    assert page.url == f"{live_server.url}/desk/"

    # Next time: the password, then the key instead of a code.
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    password_sign_in(page, live_server, cast.manager)
    page.wait_for_url(f"{live_server.url}/accounts/two-step/**")
    page.click("#passkey-verification-button")
    page.wait_for_url(f"{live_server.url}/")
    session = session_of(page, live_server)
    assert session[keys.SECOND_FACTOR_DEVICE] == credential.persistent_id
    page.goto(f"{live_server.url}/desk/")
    assert page.url == f"{live_server.url}/desk/"


def test_with_totp_off_the_first_key_comes_with_recovery_codes_and_the_list_keeps_it(
    page, live_server, keys_required, settings, cast
):
    from django_otp import verify_token
    from django_otp.plugins.otp_static.models import StaticDevice

    settings.TOTP_ALLOWED = False
    virtual_authenticator(page)
    password_sign_in(page, live_server, cast.manager)
    # No code to set up: the key is the second factor.
    page.wait_for_url(f"{live_server.url}/accounts/two-step/security-key/**")
    page.click("#passkey-register-button")
    page.wait_for_url(f"{live_server.url}/accounts/two-step/recovery-codes/**")
    codes = page.locator("[data-testid=recovery-codes] li").all_inner_texts()
    assert len(codes) == 10
    device = StaticDevice.objects.get(user=cast.manager)
    assert verify_token(cast.manager, device.persistent_id, codes[0]) is not None
    page.click("text=Continue")
    page.wait_for_url(f"{live_server.url}/")

    # The list shows the key; being the only one this account must keep, it stays.
    page.goto(f"{live_server.url}/me/security/keys/")
    key = WebAuthnCredential.objects.get(user=cast.manager)
    row = page.locator(f"[data-testid=security-key-list] tr[data-key='{key.name}']")
    assert key.created_at.astimezone().strftime("%Y") in row.inner_text()
    assert "must keep one key" in row.inner_text()
    assert row.locator("button:has-text('Remove')").count() == 0
    page.goto(f"{live_server.url}/me/security/")
    assert page.locator("[data-testid=recovery-codes-renew]").is_visible()
    assert page.locator("a:has-text('Use a new authenticator')").count() == 0
