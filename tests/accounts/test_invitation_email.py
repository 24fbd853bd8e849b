"""The invitation email, the portal's sign-in link, in the portal's voice: the person's name,
who invites them, how long the link lasts, the host from SITE_URL, and what to do if
it was not expected (like the password-reset email)."""

import re

import pytest
from django.core import mail

from accounts import invitations
from accounts.models import Membership
from tests.factories import LiaisonFactory


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://review.caisi.example"
    return settings


@pytest.fixture
def admin(acme, liaison):
    person = LiaisonFactory(email="admin@acme.example", organization=acme, full_name="Priya Raman")
    Membership.objects.filter(user=person).update(is_administrator=True)
    return person.__class__.objects.get(pk=person.pk)


def invited(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invite(**kwargs)
    (message,) = mail.outbox
    return message


def test_the_invitation_greets_the_person_and_names_who_invites_them(
    acme, admin, site, django_capture_on_commit_callbacks
):
    message = invited(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="sam@acme.example",
        invited_by=admin,
        full_name="Sam Whitaker",
    )
    assert message.body.startswith("Hello Sam Whitaker,")
    assert "Priya Raman invited you to join Acme AI on the CAISI Review Portal" in message.body
    assert "If you did not expect this invitation" in message.body
    assert message.body.rstrip().endswith("https://review.caisi.example")
    ((html, kind),) = message.alternatives
    assert kind == "text/html" and 'lang="en"' in html
    assert "Hello Sam Whitaker," in html and "Priya Raman invited you" in html


def test_the_invitation_says_how_long_its_link_lasts(
    acme, admin, site, django_capture_on_commit_callbacks
):
    site.INVITATION_VALID_DAYS = 2
    message = invited(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="sam@acme.example",
        invited_by=admin,
    )
    assert message.body.startswith("Hello,")
    assert "The link works once, for 2 days (until " in message.body
    assert re.search(r"for 2 days \(until \w+ \d+, \d{4}", message.body)  # the portal's date style
    assert "ask Priya Raman for a new one" in message.body
    assert "for <strong>2 days</strong>" in message.alternatives[0][0]


def test_the_link_is_on_the_site_url(acme, admin, site, django_capture_on_commit_callbacks):
    message = invited(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="sam@acme.example",
        invited_by=admin,
    )
    links = re.findall(r"https?://\S+/invitations/\S+", message.body)
    assert links and all(link.startswith("https://review.caisi.example/") for link in links)
    html_links = re.findall(r'href="([^"]+/invitations/[^"]+)"', message.alternatives[0][0])
    assert html_links and html_links[0] in links[0]


def test_an_invitation_after_caisi_approved_the_request_says_so(
    acme, site, django_capture_on_commit_callbacks
):
    message = invited(
        django_capture_on_commit_callbacks,
        organization=acme,
        email="founder@acme.example",
        invited_by=None,
        full_name="Dana Cho",
        is_administrator=True,
    )
    assert "CAISI approved your company's request for access and invites you" in message.body
    assert "as a liaison and company administrator" in message.body
    assert "ask CAISI for a new one" in message.body
