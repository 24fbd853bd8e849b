"""Signing in by email, signing out, password reset, password rules, admin coverage."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

PASSWORD = "demo-pass-2026"


def test_liaison_signs_in_with_email_in_any_case(cast, client, settings):
    settings.COMPANY_SECOND_FACTOR_REQUIRED = False  # the second factor is test_mfa's
    response = client.post(
        reverse("login"), {"username": "LIAISON@Acme.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("cases:dashboard")).context["user"] == cast.liaison


def test_wrong_password_is_refused_with_a_message(cast, client):
    response = client.post(reverse("login"), {"username": cast.liaison.email, "password": "no"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_ends_the_session(cast, client):
    client.force_login(cast.manager)
    client.post(reverse("logout"))
    assert client.get(reverse("cases:dashboard")).status_code == 302


def test_password_reset_sends_a_link_by_email(cast, client):
    client.post(reverse("password_reset"), {"email": cast.manager.email})
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_password_reset_for_an_unknown_address_sends_nothing(cast, client):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.example"})
    assert response.status_code == 302  # the same answer, so addresses cannot be probed
    assert mail.outbox == []


@pytest.mark.parametrize("weak", ["short", "password1234", "123456789012"])
def test_weak_passwords_are_refused(weak, cast):
    with pytest.raises(ValidationError):
        validate_password(weak, user=cast.liaison)


def test_every_model_of_the_portal_is_in_the_admin():
    for label in ["accounts", "cases", "submissions", "findings", "clearance"]:
        for model in apps.get_app_config(label).get_models():
            assert model in admin.site._registry, model


def test_admin_lists_cases_for_a_superuser(case_at, client, django_user_model):
    case_at("triage")
    root = django_user_model.objects.create_superuser(email="root@caisi.example", password="x")
    client.force_login(root)
    assert client.get("/admin/cases/case/").status_code == 200
    assert client.get("/admin/cases/caseevent/").status_code == 200
