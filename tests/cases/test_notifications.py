"""Notices: one per person per event, emailed at once, in one daily digest, or not at all."""

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from caisi_portal.celery import app
from cases import services
from deadlines import services as deadlines
from deadlines.models import ReminderSent
from notifications import services as notifications
from notifications.models import Delivery, EmailState, Notification, NotificationKind
from notifications.services import notify_event


def events_for(case, *verbs):
    return [services.record_event(case=case, actor=None, verb=verb, details={}) for verb in verbs]


def notify(events):
    for event in events:
        notify_event(event_id=event.pk)


def test_each_person_gets_one_notice_per_event_even_if_notified_twice(case_at, cast):
    case = case_at("access")
    (event,) = events_for(case, "note_added")
    notify([event, event])
    people = set(Notification.objects.filter(event=event).values_list("user__email", flat=True))
    assert people == {cast.liaison.email, cast.manager.email}


def test_internal_events_never_notify_the_company(case_at, cast):
    case = case_at("access")
    event = services.record_event(
        case=case, actor=cast.manager, verb="internal_note", details={}, internal=True
    )
    notify_event(event_id=event.pk)
    assert not Notification.objects.filter(event=event, user=cast.liaison).exists()


def test_digest_gathers_the_day_into_one_email_per_person(case_at, cast):
    case = case_at("access")
    notify(events_for(case, "first_update", "second_update", "third_update"))
    mail.outbox.clear()

    assert notifications.send_digest(user_id=cast.liaison.pk) == 3
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert body.count(case.number) >= 3
    assert mail.outbox[0].alternatives[0][1] == "text/html"

    # A second run the same day sends nothing; new notices wait for tomorrow.
    notify(events_for(case, "late_update"))
    assert notifications.send_digest(user_id=cast.liaison.pk) == 0
    assert len(mail.outbox) == 1
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert notifications.send_digest(user_id=cast.liaison.pk, day=tomorrow) == 1
    assert len(mail.outbox) == 2


def test_immediate_preference_sends_one_email_per_event(case_at, cast):
    notifications.set_preferences(
        user=cast.liaison, choices={NotificationKind.ACTIVITY: Delivery.IMMEDIATE}
    )
    case = case_at("access")
    (event,) = events_for(case, "note_added")
    notify([event])
    notice = Notification.objects.get(event=event, user=cast.liaison)
    mail.outbox.clear()

    assert notifications.email_notification(notification_id=notice.pk) is True
    assert notifications.email_notification(notification_id=notice.pk) is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.liaison.email]
    notice.refresh_from_db()
    assert notice.email_state == EmailState.SENT
    # And it is not sent again in the digest.
    assert notifications.send_digest(user_id=cast.liaison.pk) == 0


def test_preference_off_means_no_email_at_all(case_at, cast):
    notifications.set_preferences(
        user=cast.liaison,
        choices=dict.fromkeys(NotificationKind.values, Delivery.OFF),
    )
    case = case_at("access")
    notify(events_for(case, "note_added", "another_note"))
    mail.outbox.clear()
    notices = Notification.objects.filter(user=cast.liaison, case=case)
    assert notices.exists()
    assert set(notices.values_list("email_state", flat=True)) == {EmailState.NOT_EMAILED}
    assert notifications.send_digest(user_id=cast.liaison.pk) == 0
    assert mail.outbox == []


def test_bell_counts_unread_and_mark_read_clears_it(case_at, cast, client):
    case = case_at("access")
    notify(events_for(case, "note_added", "another_note"))
    client.force_login(cast.liaison)
    page = client.get(reverse("cases:dashboard")).content.decode()
    assert 'data-testid="unread-count">2<' in page
    client.post(reverse("notifications:notifications_mark_read"))
    page = client.get(reverse("notifications:notifications")).content.decode()
    assert 'data-testid="unread-count"' not in page
    assert case.number in page


def test_preferences_page_saves_choices_and_rejects_nonsense(cast, client):
    client.force_login(cast.liaison)
    url = reverse("notifications:notification_preferences")
    choice = dict.fromkeys(NotificationKind.values, Delivery.DIGEST)
    response = client.post(url, {**choice, "reminder": "carrier-pigeon"})
    assert response.status_code == 400
    assert client.post(url, {**choice, "reminder": Delivery.IMMEDIATE}).status_code == 302
    assert notifications.preferences([cast.liaison.pk], "reminder") == {
        cast.liaison.pk: Delivery.IMMEDIATE
    }


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_live_worker_turns_events_and_due_reminders_into_notices_once(case_at, cast):
    notifications.set_preferences(
        user=cast.liaison, choices={NotificationKind.REMINDER: Delivery.IMMEDIATE}
    )
    app.control.purge()  # messages left by earlier tests that had no worker
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case = case_at("triage")
        # The events' tasks ran on the worker: notices and deadline rows exist.
        assert wait_for(lambda: Notification.objects.filter(case=case).exists())
        assert wait_for(lambda: case.deadlines.filter(kind="planned_release").exists())
        release = case.deadlines.get(kind="planned_release", satisfied_at__isnull=True)
        mail.outbox.clear()

        moment = release.due_at - dt.timedelta(days=7, minutes=-1)
        assert deadlines.sweep_reminders(now=moment) >= 1
        assert deadlines.sweep_reminders(now=moment) == 0
        sent = wait_for(lambda: any(case.number in m.subject for m in mail.outbox))
        assert sent, list(
            Notification.objects.filter(reminder__isnull=False).values(
                "user__email", "delivery", "email_state", "text"
            )
        )
        time.sleep(1)  # let any duplicate have its chance to show up
    reminder = ReminderSent.objects.get(deadline=release, offset_days=7)
    notices = Notification.objects.filter(reminder=reminder)
    assert set(notices.values_list("user_id", flat=True)) == {cast.liaison.pk, cast.manager.pk}
    liaison_mail = [m for m in mail.outbox if m.to == [cast.liaison.email]]
    assert len(liaison_mail) == 1
    assert "planned release date in 7 days" in liaison_mail[0].subject


def test_a_submitted_case_without_a_manager_notifies_every_case_manager(case_at, cast):
    case = case_at("triage")
    submitted = case.events.get(verb="submit_intake")
    notify_event(event_id=submitted.pk)
    assert Notification.objects.filter(event=submitted, user=cast.manager).exists()
    assert not Notification.objects.filter(event=submitted, user=cast.liaison).exists()
