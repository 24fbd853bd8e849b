"""Security keys' rules without a browser: who must hold one, who may add one, TOTP off.

The key ceremonies themselves run in Chromium: tests/e2e/test_security_key_journey.py.
"""

import pytest
from django.urls import reverse

from accounts import services
from accounts import session_keys as keys
from tests.conftest import confirmed_authenticator, current_totp_code


@pytest.fixture
def keys_required(settings):
    settings.STAFF_REQUIRE_WEBAUTHN = True


def test_staff_signed_in_with_a_password_are_held_until_they_hold_a_key(
    client, cast, keys_required
):
    client.force_login(cast.manager)
    response = client.get(reverse("cases:desk"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:security_key"))
    assert client.get(reverse("accounts:security_key")).status_code == 200


def test_staff_signed_in_through_the_staff_provider_need_no_key_of_their_own(
    client, cast, keys_required
):
    client.force_login(cast.manager)
    session = client.session
    session[keys.SSO_PROVIDER] = "staff"
    session.save()
    assert client.get(reverse("cases:desk")).status_code == 200


def test_liaisons_are_not_asked_for_a_key(client, cast, keys_required):
    client.force_login(cast.liaison)
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_a_password_alone_cannot_add_a_key_to_an_account_with_a_second_factor(client, cast):
    confirmed_authenticator(cast.evaluator)
    client.post(reverse("login"), {"username": cast.evaluator.email, "password": "demo-pass-2026"})
    response = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert response.status_code == 403
    assert "publicKey" not in response.content.decode()


def test_a_key_is_never_a_sign_in_of_its_own(client, db):
    response = client.post(reverse("otp_webauthn:credential-authentication-begin"))
    assert response.status_code == 403
    assert "challenge" not in response.content.decode()


def test_totp_switched_off_refuses_codes(client, cast, settings):
    settings.TOTP_ALLOWED = False
    device = confirmed_authenticator(cast.evaluator)
    assert (
        services.verify_second_factor(user=cast.evaluator, code=current_totp_code(device)) is None
    )
    client.force_login(cast.evaluator)
    response = client.get(reverse("accounts:mfa_enrol"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:security_key"))
