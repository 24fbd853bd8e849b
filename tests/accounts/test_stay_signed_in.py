"""The idle-timeout warning's "Stay signed in": activity, for a live session only."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.accounts.test_sessions import liaisons_without_a_second_factor, sign_in, signed_in

# The liaison signs in by password alone: the second factor is test_mfa's.
pytestmark = pytest.mark.usefixtures(liaisons_without_a_second_factor.__name__)


def test_staying_signed_in_restarts_the_idle_timeout(client, cast, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, cast.liaison)
        clock.move_to(start + dt.timedelta(minutes=28))
        response = client.post(reverse("accounts:stay_signed_in"))
        assert response.status_code == 200
        assert response.json() == {"signed_in": True, "seconds_left": 30 * 60}
        # 28 + 29 minutes after sign-in, but only 29 since the person chose to stay.
        clock.move_to(start + dt.timedelta(minutes=57))
        assert signed_in(client)


def test_staying_signed_in_after_the_timeout_is_refused_and_signs_nobody_in(client, cast, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, cast.liaison)
        clock.move_to(start + dt.timedelta(minutes=31))
        response = client.post(reverse("accounts:stay_signed_in"))
        assert response.status_code == 401
        assert response.json() == {"signed_in": False}
        assert not signed_in(client)


def test_staying_signed_in_needs_a_post_with_the_csrf_token(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.liaison)
    assert browser.get(reverse("accounts:stay_signed_in")).status_code == 405
    refused = browser.post(reverse("accounts:stay_signed_in"))
    assert refused.status_code == 403
    # The portal's own page, which says what happened and that the input is kept.
    assert "This form could not be sent" in refused.content.decode()


def test_signed_in_pages_carry_the_timeout_warning_and_sign_in_keeps_drafts(client, cast):
    assert "data-keep-drafts" in client.get(reverse("login")).content.decode()
    sign_in(client, cast.liaison)
    page = client.get(reverse("cases:dashboard")).content.decode()
    assert 'id="session-timeout"' in page
    assert f'data-idle-seconds="{30 * 60 - 60}"' in page
