"""The Django admin: a password alone never reaches it, whoever the account is.

A superuser made with `createsuperuser` has no CAISI staff role; before the fix
the second factor was asked of staff roles only, so the admin opened on a
password and let its holder read internal messages and move a liaison into
another company.
"""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from accounts import session_keys
from accounts.models import Membership, User
from cases import services as case_services
from tests.accounts.test_mfa import code_for, key_on_page
from tests.conftest import confirmed_authenticator, current_totp_code
from tests.security.test_security_log import named, security_log  # noqa: F401

PASSWORD = "admin-pass-for-tests-2026"
ADMIN_PAGES = [
    "/admin/",
    "/admin/accounts/membership/",
    "/admin/accounts/user/",
    "/admin/cases/message/",
]


@pytest.fixture
def superuser(db, monkeypatch):
    """An administrator exactly as the README makes one: `createsuperuser`, no staff role."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, email="root@caisi.example", verbosity=0)
    return User.objects.get(email="root@caisi.example")


@pytest.fixture
def site_staff(db):
    """An account with admin access (is_staff) and no portal role."""
    return User.objects.create_user(
        email="helpdesk@caisi.example", password=PASSWORD, is_staff=True
    )


def admin_sign_in(client, user):
    response = client.post(
        reverse("admin:login"), {"username": user.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


@pytest.mark.parametrize("who", ["superuser", "site_staff"])
def test_admin_account_without_an_authenticator_is_sent_to_enrol_before_any_admin_page(
    client, request, who
):
    user = request.getfixturevalue(who)
    admin_sign_in(client, user)
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:mfa_enrol")), url


def test_admin_account_with_an_authenticator_must_enter_a_code_before_the_admin(client, superuser):
    device = confirmed_authenticator(superuser)
    admin_sign_in(client, superuser)
    response = client.get("/admin/accounts/membership/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    passed = client.post(
        reverse("accounts:mfa_verify"),
        {"code": current_totp_code(device), "next": "/admin/accounts/membership/"},
    )
    assert passed["Location"] == "/admin/accounts/membership/"
    assert client.get("/admin/accounts/membership/").status_code == 200


def test_a_password_alone_cannot_move_a_liaison_into_another_company(client, cast, superuser):
    membership = Membership.objects.get(user=cast.liaison)
    acme = membership.organization
    globex = Membership.objects.get(user=cast.other_liaison).organization
    admin_sign_in(client, superuser)
    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {
            "user": cast.liaison.pk,
            "organization": globex.pk,
            "role": "liaison",
            "created_at_0": "2026-01-05",
            "created_at_1": "09:00:00",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_enrol"))
    membership.refresh_from_db()
    assert membership.organization == acme


def test_a_password_alone_cannot_read_internal_messages_in_the_admin(client, case_at, superuser):
    case = case_at("documentation")
    message = case_services.post_message(
        case=case, actor=case.case_manager, body="ADMIN-INTERNAL-7731", internal=True
    )
    admin_sign_in(client, superuser)
    response = client.get(f"/admin/cases/message/{message.pk}/change/", follow=True)
    assert "ADMIN-INTERNAL-7731" not in response.content.decode()


def test_superuser_enrols_an_authenticator_then_reaches_the_admin(client, superuser):
    admin_sign_in(client, superuser)
    enrol = client.get(reverse("accounts:mfa_enrol"))
    assert enrol.status_code == 200
    assert "administrators sign in with a password" in enrol.content.decode()
    done = client.post(
        reverse("accounts:mfa_enrol"),
        {"code": code_for(key_on_page(enrol.content.decode())), "next": "/admin/"},
    )
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_admin_site_itself_refuses_a_session_without_a_second_factor(superuser):
    """Defence in depth: were the middleware ever left out, the admin still says no."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    request.session = {}
    assert admin.site.has_permission(request) is False
    request.session = {session_keys.SECOND_FACTOR_DEVICE: "otp_totp.totpdevice/1"}
    assert admin.site.has_permission(request) is True


def test_moving_a_membership_in_the_admin_is_on_the_security_log(
    client,
    cast,
    superuser,
    security_log,  # noqa: F811
):
    membership = Membership.objects.get(user=cast.liaison)
    acme = membership.organization
    globex = Membership.objects.get(user=cast.other_liaison).organization
    client.force_login(superuser)  # with its second factor passed
    response = client.post(
        f"/admin/accounts/membership/{membership.pk}/change/",
        {
            "user": cast.liaison.pk,
            "organization": globex.pk,
            "role": "liaison",
            "created_at_0": "2026-01-05",
            "created_at_1": "09:00:00",
        },
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.organization == globex
    (event,) = named(security_log, "membership_changed_in_admin")
    assert event["user_id"] == superuser.pk
    assert event["member_id"] == cast.liaison.pk
    assert event["previous_organization_id"] == acme.pk
    assert event["organization_id"] == globex.pk
