"""Sessions: a new id at sign-in, gone at sign-out, idle and absolute timeouts, deactivation."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignedInSession
from tests.conftest import confirmed_authenticator, current_totp_code

PASSWORD = "demo-pass-2026"


@pytest.fixture(autouse=True)
def liaisons_without_a_second_factor(settings):
    # These tests sign a liaison in by password alone to watch the session; the second
    # factor every company account owes by default is tested in test_mfa.py.
    settings.COMPANY_SECOND_FACTOR_REQUIRED = False


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client.cookies["sessionid"].value


def signed_in(client) -> bool:
    return client.get(reverse("cases:dashboard")).status_code == 200


def test_sign_in_gives_a_new_session_id(client, cast):
    client.get(reverse("login"))  # an anonymous session exists before signing in
    session = client.session
    session["anonymous"] = True
    session.save()
    before = session.session_key
    after = sign_in(client, cast.liaison)
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_sign_out_deletes_the_session_on_the_server(client, cast):
    key = sign_in(client, cast.liaison)
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies["sessionid"] = key  # an old cookie, copied before sign-out
    assert replay.get(reverse("cases:dashboard")).status_code == 302


def test_an_idle_session_ends(client, cast, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        key = sign_in(client, cast.liaison)
        clock.move_to(start + dt.timedelta(minutes=31))
        response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()
    page = client.get(response["Location"])
    assert "signed out after 30 minutes without activity" in page.content.decode()


def test_activity_keeps_a_session_alive_within_the_idle_timeout(client, cast, settings):
    settings.SESSION_IDLE_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, cast.liaison)
        for minutes in (20, 40, 60, 80):
            clock.move_to(start + dt.timedelta(minutes=minutes))
            assert signed_in(client), minutes


def test_a_session_ends_at_the_absolute_timeout_however_active(client, cast, settings):
    settings.SESSION_IDLE_MINUTES = 30
    settings.SESSION_ABSOLUTE_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, cast.liaison)
        for minutes in (20, 40, 59):
            clock.move_to(start + dt.timedelta(minutes=minutes))
            assert signed_in(client), minutes
        clock.move_to(start + dt.timedelta(minutes=61))
        assert not signed_in(client)
        page = client.get(reverse("login")).content.decode()
    assert "signed out after 1 hour signed in" in page


def test_the_timeouts_default_to_half_an_hour_idle_and_twelve_hours_in_all():
    from django.conf import settings

    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_ABSOLUTE_HOURS == 12


def test_deactivating_a_person_ends_all_their_sessions(cast):
    laptop, phone, colleague = Client(), Client(), Client()
    keys = [sign_in(laptop, cast.liaison), sign_in(phone, cast.liaison)]
    sign_in(colleague, cast.other_liaison)
    assert SignedInSession.objects.filter(user=cast.liaison).count() == 2

    cast.liaison.is_active = False
    cast.liaison.save(update_fields=["is_active"])

    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not SignedInSession.objects.filter(user=cast.liaison).exists()
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(colleague)


def test_deactivating_with_a_full_save_as_the_admin_does_ends_the_sessions(cast):
    victim = Client()
    key = sign_in(victim, cast.liaison)
    user = cast.liaison
    user.is_active = False
    user.save()  # the admin's change form saves every field
    assert not Session.objects.filter(session_key=key).exists()
    assert not signed_in(victim)


def test_changing_something_else_leaves_sessions_alone(client, cast):
    key = sign_in(client, cast.liaison)
    cast.liaison.full_name = "Renamed"
    cast.liaison.save(update_fields=["full_name"])
    assert Session.objects.filter(session_key=key).exists()
    assert signed_in(client)


def test_passing_the_second_factor_leaves_one_row_for_that_sign_in(client, cast):
    device = confirmed_authenticator(cast.official)
    before = sign_in(client, cast.official)
    client.post(reverse("accounts:mfa_verify"), {"code": current_totp_code(device)})
    after = client.cookies["sessionid"].value
    assert after != before
    rows = SignedInSession.objects.filter(user=cast.official)
    assert list(rows.values_list("session_key", flat=True)) == [after]


def test_signing_in_forgets_sessions_older_than_the_absolute_timeout(cast, settings):
    settings.SESSION_ABSOLUTE_HOURS = 1
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        old = sign_in(Client(), cast.liaison)
        other = sign_in(Client(), cast.other_liaison)
        clock.move_to(start + dt.timedelta(minutes=30))
        recent = sign_in(Client(), cast.liaison)
        clock.move_to(start + dt.timedelta(minutes=61))
        new = sign_in(Client(), cast.liaison)
    mine = set(
        SignedInSession.objects.filter(user=cast.liaison).values_list("session_key", flat=True)
    )
    assert mine == {recent, new} and old not in mine
    # Another person's rows are theirs to prune when they sign in.
    assert SignedInSession.objects.filter(session_key=other).exists()
