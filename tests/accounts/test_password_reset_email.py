"""The password-reset email in the portal's voice: the link on SITE_URL, and how long it lasts."""

import re

import pytest
from django.core import mail
from django.urls import reverse


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://review.caisi.example"
    settings.ALLOWED_HOSTS = ["*"]
    return settings


def reset_email(client, user, **extra):
    client.post(reverse("password_reset"), {"email": user.email}, **extra)
    (message,) = mail.outbox
    return message


def test_reset_email_is_the_portals_own(cast, client, site):
    message = reset_email(client, cast.liaison)
    assert message.subject == "Reset your CAISI Review Portal password"
    assert message.body.startswith(f"Hello {cast.liaison.get_full_name()},")
    assert "CAISI Review Portal" in message.body
    assert "Thanks for using our site" not in message.body
    assert "team" not in message.body
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    assert 'lang="en"' in html and "Choose a new password" in html


def test_reset_link_is_on_the_site_url_whatever_host_the_request_named(cast, client, site):
    message = reset_email(client, cast.liaison, HTTP_HOST="attacker.example:8000")
    links = re.findall(r"https?://\S+/accounts/reset/\S+", message.body)
    assert links and all(link.startswith("https://review.caisi.example/") for link in links)
    assert "attacker.example" not in message.body
    assert "attacker.example" not in message.alternatives[0][0]


def test_reset_email_says_how_long_the_link_lasts(cast, client, site):
    site.PASSWORD_RESET_TIMEOUT = 1800
    message = reset_email(client, cast.liaison)
    assert "The link works once, for 30 minutes (until " in message.body
    assert " EST)" in message.body or " EDT)" in message.body or " UTC)" in message.body


def test_default_link_lifetime_is_one_hour(cast, client, site):
    assert "for 1 hour (until" in reset_email(client, cast.liaison).body


def test_reset_link_in_the_email_works(cast, client, site):
    body = reset_email(client, cast.liaison).body
    path = re.search(r"https://review\.caisi\.example(/accounts/reset/\S+)", body).group(1)
    response = client.get(path)
    assert response.status_code == 302  # Django moves the token out of the URL
    assert client.get(response["Location"]).status_code == 200
