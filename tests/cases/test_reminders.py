"""Deadlines kept current from the case's records; reminders sent once each."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from deadlines import services as deadlines
from deadlines.models import Deadline, DeadlineKind, ReminderSent
from findings import services as desk
from notifications.models import Notification
from review.services import assign_case_manager, close_case
from tests.cases.helpers import sweep_at_once


def sync(case, now=None):
    deadlines.sync_case_deadlines(case_id=case.pk, now=now)


def pending(case, kind):
    return Deadline.objects.pending().filter(case=case, kind=kind)


def test_service_level_deadline_follows_the_status(case_at, cast):
    case = case_at("triage")
    sync(case)
    triage = pending(case, DeadlineKind.SERVICE_LEVEL).get()
    assert triage.subject == "triage"
    assert deadlines.add_working_days(case.status_changed_at, 5) == triage.base_due_at
    assert triage.due_at.weekday() < 5

    case = assign_case_manager(case=case, actor=cast.manager, manager=cast.manager)
    sync(case)
    triage.refresh_from_db()
    assert triage.satisfied_at is not None
    assert pending(case, DeadlineKind.SERVICE_LEVEL).get().subject == "access"


def test_planned_release_deadline_is_kept_from_the_intake(case_at, cast):
    case = case_at("triage")
    sync(case)
    release = pending(case, DeadlineKind.PLANNED_RELEASE).get()
    assert timezone.localtime(release.due_at).date() == case.planned_release_date


def test_closing_a_case_satisfies_every_deadline(case_at, cast):
    case = case_at("triage")
    sync(case)
    close_case(case=case, actor=cast.manager, reason="Withdrawn by phone.")
    sync(case)
    assert not Deadline.objects.pending().filter(case=case).exists()


def test_sweep_run_twice_sends_each_reminder_once(case_at, cast):
    case = case_at("triage")
    sync(case)
    due_at = pending(case, DeadlineKind.SERVICE_LEVEL).get().due_at
    day_before = due_at - dt.timedelta(days=1, minutes=-1)

    assert deadlines.sweep_reminders(now=day_before) >= 1
    assert deadlines.sweep_reminders(now=day_before) == 0
    reminders = ReminderSent.objects.filter(deadline__case=case, deadline__kind="service_level")
    assert list(reminders.values_list("offset_days", flat=True)) == [1]

    # The day itself brings the next offset, once.
    assert deadlines.sweep_reminders(now=due_at + dt.timedelta(minutes=1)) >= 1
    assert deadlines.sweep_reminders(now=due_at + dt.timedelta(minutes=2)) == 0
    assert sorted(reminders.values_list("offset_days", flat=True)) == [0, 1]


def test_a_late_sweep_sends_only_the_latest_reminder_not_a_flood(case_at):
    case = case_at("triage")
    sync(case)
    release = pending(case, DeadlineKind.PLANNED_RELEASE).get()
    deadlines.sweep_reminders(now=release.due_at + dt.timedelta(hours=1))
    offsets = ReminderSent.objects.filter(deadline=release).values_list("offset_days", flat=True)
    assert list(offsets) == [0]


def test_overdue_deadline_is_reminded_weekly(case_at):
    case = case_at("triage")
    sync(case)
    level = pending(case, DeadlineKind.SERVICE_LEVEL).get()
    for days in (1, 3, 8, 9, 15):
        deadlines.sweep_reminders(now=level.due_at + dt.timedelta(days=days))
    offsets = ReminderSent.objects.filter(deadline=level).values_list("offset_days", flat=True)
    assert sorted(offsets) == [-14, -7, 0]


def test_satisfied_deadline_sends_nothing(case_at, cast):
    case = case_at("testing")
    request = desk.ask_clarification(
        case=case,
        actor=cast.manager,
        question="Which safety filters were on?",
        due_date=timezone.localdate() + dt.timedelta(days=3),
    )
    sync(case)
    due = pending(case, DeadlineKind.CLARIFICATION_DUE).get()
    desk.answer_clarification(request=request, actor=cast.liaison, answer="All of them.")
    sync(case)
    due.refresh_from_db()
    assert due.satisfied_at is not None

    deadlines.sweep_reminders(now=due.due_at + dt.timedelta(days=1))
    assert not ReminderSent.objects.filter(deadline=due).exists()


def test_reminder_reaches_the_company_once_per_person(case_at, cast):
    case = case_at("testing")
    desk.ask_clarification(
        case=case,
        actor=cast.manager,
        question="Send the red-team transcripts.",
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    sync(case)
    due = pending(case, DeadlineKind.CLARIFICATION_DUE).get()
    deadlines.sweep_reminders(now=due.due_at - dt.timedelta(days=1))
    reminder = ReminderSent.objects.get(deadline=due)

    assert deadlines.deliver_reminder(reminder_id=reminder.pk) == 1
    assert deadlines.deliver_reminder(reminder_id=reminder.pk) == 0
    notice = Notification.objects.get(reminder=reminder)
    assert notice.user == cast.liaison
    assert notice.text == (
        f"{case.number}: clarification request due in 1 day "
        f"({timezone.localtime(due.due_at).date().isoformat()})."
    )


def test_paused_clarification_clock_moves_the_service_level_deadline(case_at, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        case = case_at("testing")
        sync(case)
        level = pending(case, DeadlineKind.SERVICE_LEVEL).get()
        original_due = level.due_at
        request = desk.ask_clarification(
            case=case,
            actor=cast.manager,
            question="Which checkpoint is the release candidate?",
            due_date=timezone.localdate() + dt.timedelta(days=5),
        )
    # While the company has the question, CAISI's clock stands still: no reminder.
    while_waiting = original_due + dt.timedelta(days=2)
    deadlines.sweep_reminders(now=while_waiting)
    assert not ReminderSent.objects.filter(deadline=level).exists()

    with time_machine.travel(start + dt.timedelta(days=3), tick=False):
        desk.answer_clarification(request=request, actor=cast.liaison, answer="rc2.")
        sync(case)
    level.refresh_from_db()
    assert level.due_at == original_due + dt.timedelta(days=3)
    assert level.base_due_at == original_due


@pytest.mark.django_db(transaction=True)
def test_four_sweepers_at_once_send_each_reminder_exactly_once(case_at):
    cases = [case_at("triage", title=f"Sweep {n}") for n in range(6)]
    for case in cases:
        sync(case)
    moment = max(d.due_at for d in Deadline.objects.pending()) + dt.timedelta(hours=1)
    expected = Deadline.objects.pending().count()
    counts = sweep_at_once(moment, sweepers=4, batch=3)
    assert sum(counts) == expected
    assert ReminderSent.objects.count() == expected
    assert deadlines.sweep_reminders(now=moment) == 0
