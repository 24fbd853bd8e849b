"""An incident's reports fall due by severity, and each is a deadline with reminders."""

import datetime as dt

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from deadlines import services as deadlines
from deadlines.models import Deadline, DeadlineKind, ReminderSent
from incidents import services
from notifications.models import Notification
from review import demo
from review.services import issue_clearance
from submissions.models import ModelVersion
from tests.incidents.helpers import incident_on, released


def sync(case, now=None):
    deadlines.sync_case_deadlines(case_id=case.pk, now=now)


def pending(case, kind):
    return Deadline.objects.pending().filter(case=case, kind=kind)


@pytest.mark.parametrize(
    ("severity", "days"), [("critical", 2), ("high", 5), ("medium", 10), ("low", 15)]
)
def test_initial_report_is_due_by_severity_when_caisi_opens_the_incident(
    case_at, cast, severity, days
):
    case = released(case_at, cast)
    incident = incident_on(case, cast.manager, severity=severity)
    sync(case)
    due = pending(case, DeadlineKind.INCIDENT_INITIAL_REPORT).get()
    assert due.subject == "incident:1"
    assert due.due_at == incident.detected_at + dt.timedelta(days=days)


def test_the_initial_report_periods_are_configurable(case_at, cast, settings):
    settings.INCIDENT_INITIAL_REPORT_DAYS = {"critical": 1, "high": 3, "medium": 7, "low": 9}
    case = released(case_at, cast)
    incident = incident_on(case, cast.official, severity="critical")
    sync(case)
    due = pending(case, DeadlineKind.INCIDENT_INITIAL_REPORT).get()
    assert due.due_at == incident.detected_at + dt.timedelta(days=1)


def test_a_critical_incident_reminds_the_company_and_caisi_the_day_before(case_at, cast):
    case = released(case_at, cast)
    incident_on(case, cast.manager, severity="critical")
    sync(case)
    due = pending(case, DeadlineKind.INCIDENT_INITIAL_REPORT).get()
    deadlines.sweep_reminders(now=due.due_at - dt.timedelta(days=1, minutes=-1))
    reminder = ReminderSent.objects.get(deadline=due)
    assert reminder.offset_days == 1
    deadlines.deliver_reminder(reminder_id=reminder.pk)
    told = set(Notification.objects.filter(reminder=reminder).values_list("user", flat=True))
    assert told == {cast.liaison.pk, cast.manager.pk}
    text = Notification.objects.filter(reminder=reminder).first().text
    assert text.startswith(f"{case.number}: initial incident report due in 1 day")


def test_a_low_incident_sends_no_reminder_while_a_critical_one_would(case_at, cast):
    case = released(case_at, cast)
    incident_on(case, cast.manager, severity="low")
    sync(case)
    due = pending(case, DeadlineKind.INCIDENT_INITIAL_REPORT).get()
    # Two days after detection, a critical incident's report would be due; a low one waits.
    deadlines.sweep_reminders(now=timezone.now() + dt.timedelta(days=2))
    assert not ReminderSent.objects.filter(deadline=due).exists()
    deadlines.sweep_reminders(now=due.due_at + dt.timedelta(minutes=1))
    assert list(
        ReminderSent.objects.filter(deadline=due).values_list("offset_days", flat=True)
    ) == [0]


def test_the_companys_report_satisfies_the_initial_deadline_and_starts_the_four_weeks(
    case_at, cast
):
    case = released(case_at, cast)
    incident = incident_on(case, cast.manager, severity="high")
    sync(case)
    initial = pending(case, DeadlineKind.INCIDENT_INITIAL_REPORT).get()
    updated = services.update_incident(
        incident=incident, actor=cast.liaison, body="Our initial report: a filter gap."
    )
    sync(case)
    initial.refresh_from_db()
    assert initial.satisfied_at is not None
    update = pending(case, DeadlineKind.INCIDENT_UPDATE).get()
    assert update.due_at == updated.last_update_at + dt.timedelta(days=28)


def test_each_four_week_period_has_its_own_reminders(case_at, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        case = released(case_at, cast)
        incident = incident_on(case, cast.liaison, severity="medium")
        sync(case)
    first = pending(case, DeadlineKind.INCIDENT_UPDATE).get()
    deadlines.sweep_reminders(now=first.due_at - dt.timedelta(days=7, minutes=-1))
    assert ReminderSent.objects.filter(deadline=first, offset_days=7).exists()

    with time_machine.travel(start + dt.timedelta(days=25), tick=False):
        services.update_incident(incident=incident, actor=cast.liaison, body="Still working.")
        sync(case)
    first.refresh_from_db()
    assert first.satisfied_at is not None
    second = pending(case, DeadlineKind.INCIDENT_UPDATE).get()
    assert second.due_at == start + dt.timedelta(days=25 + 28)
    deadlines.sweep_reminders(now=second.due_at - dt.timedelta(days=7, minutes=-1))
    assert ReminderSent.objects.filter(deadline=second, offset_days=7).exists()


def test_the_final_report_is_due_sixty_days_after_resolution_and_closing_ends_it(case_at, cast):
    case = released(case_at, cast)
    incident = incident_on(case, cast.liaison, severity="high")
    resolved = services.update_incident(
        incident=incident, actor=cast.liaison, body="Fixed.", resolved=True
    )
    sync(case)
    assert not pending(case, DeadlineKind.INCIDENT_UPDATE).exists()
    final = pending(case, DeadlineKind.INCIDENT_FINAL_REPORT).get()
    assert final.due_at == resolved.resolved_at + dt.timedelta(days=60)
    services.update_incident(incident=resolved, actor=cast.liaison, body="Final.", final=True)
    sync(case)
    final.refresh_from_db()
    assert final.satisfied_at is not None


def test_each_due_monitoring_report_is_a_deadline_until_filed(case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        version=ModelVersion.objects.under_test(case),
        actor=cast.official,
        scope="A.",
        monitoring_every_days=90,
        monitoring_for_days=180,
    )
    sync(case)
    due = list(pending(case, DeadlineKind.MONITORING_REPORT_DUE).order_by("due_at"))
    assert len(due) == 2
    report = case.monitoring_reports.order_by("sequence").first()
    assert due[0].due_at == report.due_at
    services.submit_monitoring_report(
        report=report,
        actor=cast.liaison,
        file=ContentFile(b"# Report\n\nNothing to report.\n"),
        original_name="report.md",
    )
    sync(case)
    assert pending(case, DeadlineKind.MONITORING_REPORT_DUE).count() == 1
