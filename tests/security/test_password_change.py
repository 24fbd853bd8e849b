"""Passwords: the reset link's address, and what a new password ends.

Before the fix the reset email's link was built from the request's Host (any
port the client named), and a person's API tokens and other sessions went on
working after they changed or reset their password.
"""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, SignedInSession
from accounts.services import create_api_token

PASSWORD = "demo-pass-2026"
NEW_PASSWORD = "a-new-passphrase-for-2027"
RESET_LINK = re.compile(r"(\S+/accounts/reset/\S+/\S+/)")


def reset_link(client, email: str, **extra) -> str:
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": email}, **extra)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    return RESET_LINK.search(mail.outbox[0].body).group(1)


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def signed_in_elsewhere(user) -> Client:
    other = Client()
    other.force_login(user)
    assert other.get(reverse("cases:dashboard")).status_code == 200
    return other


# --- The reset link -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost:8443", "127.0.0.1:1", "testserver", "LOCALHOST.:9000"])
def test_the_reset_link_is_on_site_url_whatever_host_the_request_named(
    client, cast, settings, host
):
    settings.SITE_URL = "https://portal.caisi.example"
    link = reset_link(client, cast.liaison.email, HTTP_HOST=host)
    assert link.startswith("https://portal.caisi.example/accounts/reset/"), link


def test_the_reset_link_keeps_site_urls_scheme_and_port(client, cast, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    link = reset_link(client, cast.liaison.email, HTTP_HOST="localhost:9999", secure=True)
    assert link.startswith("http://127.0.0.1:8000/accounts/reset/"), link


def test_the_reset_email_names_the_portal_not_the_request_host(client, cast, settings):
    settings.SITE_URL = "https://portal.caisi.example"
    reset_link(client, cast.liaison.email, HTTP_HOST="localhost:8443")
    message = mail.outbox[0]
    assert "localhost" not in message.subject + message.body


# --- What a new password ends -------------------------------------------------------


def test_changing_the_password_revokes_every_api_token_and_says_so(client, cast):
    _, raw = create_api_token(user=cast.liaison, name="release pipeline", read_only=False)
    _, raw_read = create_api_token(user=cast.liaison, name="status poller")
    assert client.get("/api/v1/cases/", **bearer(raw)).status_code == 200

    client.force_login(cast.liaison)
    warned = client.get(reverse("password_change")).content.decode()
    assert "API tokens are revoked" in warned
    changed = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert changed.status_code == 200
    page = changed.content.decode()
    assert "API tokens" in page and "revoked" in page

    for token in (raw, raw_read):
        assert client.get("/api/v1/cases/", **bearer(token)).status_code == 401
    assert not ApiToken.objects.usable().filter(user=cast.liaison).exists()
    # The person who changed it stays signed in, on this browser.
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_changing_the_password_ends_the_persons_other_sessions_server_side(client, cast):
    other = signed_in_elsewhere(cast.liaison)
    other_key = other.session.session_key
    client.force_login(cast.liaison)
    client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert not SignedInSession.objects.filter(session_key=other_key).exists()
    assert SESSION_KEY not in other.session.load()
    assert other.get(reverse("cases:dashboard")).status_code == 302
    # This browser's new session is remembered, so a later "end my sessions" reaches it.
    assert SignedInSession.objects.filter(
        user=cast.liaison, session_key=client.session.session_key
    ).exists()


def test_a_reset_password_revokes_every_api_token_and_ends_every_session(client, cast):
    _, raw = create_api_token(user=cast.manager, name="desk script")
    other = signed_in_elsewhere(cast.manager)
    link = reset_link(client, cast.manager.email)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form = client.get("/" + path, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert done.status_code == 200
    assert "revoked" in done.content.decode()

    assert client.get("/api/v1/cases/", **bearer(raw)).status_code == 401
    assert other.get(reverse("cases:dashboard")).status_code == 302
    assert not SignedInSession.objects.filter(user=cast.manager).exists()


def test_a_password_set_from_the_command_line_revokes_the_tokens_too(cast, monkeypatch):
    _, raw = create_api_token(user=cast.auditor, name="audit export")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", cast.auditor.email)
    assert not ApiToken.objects.usable().filter(user=cast.auditor).exists()
    assert Client().get("/api/v1/cases/", **bearer(raw)).status_code == 401


def test_signing_in_keeps_the_tokens(client, cast, settings):
    settings.COMPANY_SECOND_FACTOR_REQUIRED = False  # a password-only sign-in, as it tests
    """Only a new password ends them; a sign-in (and its hash upgrade) does not."""
    _, raw = create_api_token(user=cast.liaison, name="release pipeline")
    response = client.post(reverse("login"), {"username": cast.liaison.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/cases/", **bearer(raw)).status_code == 200
