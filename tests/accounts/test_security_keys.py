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


def key_of(user, name):
    """A registered key as the library stores it (its ceremony runs in the browser tests)."""
    import os

    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential.objects.create(
        user=user, name=name, confirmed=True, credential_id=os.urandom(32), public_key=b"cose"
    )


def test_the_key_list_shows_name_added_and_last_used_and_a_key_can_be_removed(
    client, cast, settings, caplog
):
    from django.utils import dateformat, timezone
    from django_otp_webauthn.models import WebAuthnCredential

    settings.STAFF_REQUIRE_WEBAUTHN = False
    old = key_of(cast.liaison, "Old YubiKey")
    new = key_of(cast.liaison, "Laptop passkey")
    used = timezone.now().replace(year=2026, month=11, day=3, hour=9, minute=15)
    WebAuthnCredential.objects.filter(pk=new.pk).update(last_used_at=used)
    client.force_login(cast.liaison)
    page = client.get(reverse("accounts:security_keys")).content.decode()
    assert "Old YubiKey" in page and "Laptop passkey" in page
    assert dateformat.format(timezone.localtime(used), "Y-m-d H:i") in page
    assert dateformat.format(timezone.localtime(old.created_at), "Y-m-d H:i") in page
    assert "never" in page
    with caplog.at_level("INFO", logger="caisi.security"):
        response = client.post(reverse("accounts:security_key_remove", args=[old.pk]))
    assert response.status_code == 302
    assert list(WebAuthnCredential.objects.filter(user=cast.liaison)) == [new]
    assert "security_key_removed" in [r.getMessage() for r in caplog.records]
    listed = client.get(reverse("accounts:security_keys")).content.decode()
    assert "The security key “Old YubiKey” was removed." in listed
    assert 'data-key="Old YubiKey"' not in listed and 'data-key="Laptop passkey"' in listed


def test_the_last_key_stays_when_the_account_must_keep_one(client, cast, keys_required):
    from django_otp_webauthn.models import WebAuthnCredential

    only = key_of(cast.manager, "Only key")
    client.force_login(cast.manager)
    session = client.session
    session[keys.SECOND_FACTOR_DEVICE] = only.persistent_id
    session.save()
    page = client.get(reverse("accounts:security_keys")).content.decode()
    assert "must keep one key" in page
    assert reverse("accounts:security_key_remove", args=[only.pk]) not in page
    response = client.post(reverse("accounts:security_key_remove", args=[only.pk]))
    assert response.status_code == 403
    assert "your only security key" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=only.pk).exists()
    # With a second key, either may go.
    key_of(cast.manager, "Spare key")
    assert client.post(reverse("accounts:security_key_remove", args=[only.pk])).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=only.pk).exists()


def test_with_totp_off_a_person_who_owes_a_second_factor_keeps_their_last_key(
    client, cast, settings
):
    settings.STAFF_REQUIRE_WEBAUTHN = False
    settings.TOTP_ALLOWED = False
    only = key_of(cast.evaluator, "Only key")
    confirmed_authenticator(cast.evaluator)  # a code it can no longer use
    client.force_login(cast.evaluator)
    session = client.session
    session[keys.SECOND_FACTOR_DEVICE] = only.persistent_id
    session.save()
    response = client.post(reverse("accounts:security_key_remove", args=[only.pk]))
    assert response.status_code == 403
    settings.TOTP_ALLOWED = True
    assert client.post(reverse("accounts:security_key_remove", args=[only.pk])).status_code == 302


def test_someone_elses_key_is_not_found(client, cast, settings):
    from django_otp_webauthn.models import WebAuthnCredential

    settings.STAFF_REQUIRE_WEBAUTHN = False
    theirs = key_of(cast.other_liaison, "Globex key")
    client.force_login(cast.liaison)
    assert client.post(reverse("accounts:security_key_remove", args=[theirs.pk])).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()


def test_with_totp_off_the_security_page_offers_keys_and_recovery_codes_not_an_app(
    client, cast, settings
):
    settings.TOTP_ALLOWED = False
    settings.STAFF_REQUIRE_WEBAUTHN = False
    only = key_of(cast.liaison, "Only key")
    services.issue_recovery_codes(user=cast.liaison)
    client.force_login(cast.liaison)
    session = client.session
    session[keys.SECOND_FACTOR_DEVICE] = only.persistent_id
    session.save()
    page = client.get(reverse("accounts:security")).content.decode()
    assert "Make new recovery codes" in page and "10 recovery codes left" in page
    assert reverse("accounts:mfa_enrol") not in page
    assert reverse("accounts:security_keys") in page
    response = client.post(reverse("accounts:recovery_codes_renew"))
    assert response["Location"] == reverse("accounts:mfa_recovery_codes")
