"""Deadlines and reminders.

Every dated obligation of a case is a `Deadline` row, derived from the case's
records by `sync_case_deadlines` after each change (a planned release date, an
open clarification request, a shared finding awaiting its answer, a live
access grant, the service level of the current status; after clearance, the
reports an open incident and the clearance's monitoring conditions ask for). One periodic sweep
reads the due rows through a partial index and sends each reminder once: a
unique (deadline, offset) row is inserted before the send.
"""

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Membership
from cases.models import Case
from cases.status import Status
from clearance.models import ClearanceStatement
from core.workrows import publish, republish_lost
from deadlines.apps import REMINDER_DELIVERY
from deadlines.models import Deadline, DeadlineKind, ReminderSent
from findings.models import ClarificationRequest, Finding, FindingState
from incidents.models import Incident, MonitoringReport, ReportState
from notifications.models import NotificationKind
from notifications.services import (
    TIME_CRITICAL_DAYS,
    active_case_managers,
    create_notifications,
    people_concerned,
)
from submissions.models import AccessGrant


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Return `start` moved on by this many Monday-to-Friday days."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def moments(deadline_kind: str, due_at: dt.datetime) -> Iterator[tuple[int, dt.datetime]]:
    """Yield (offset in days, when) for every reminder of a deadline, in time order."""
    offsets = settings.REMINDER_OFFSETS_DAYS.get(deadline_kind, [1, 0])
    for offset in sorted(set(offsets), reverse=True):
        yield offset, due_at - dt.timedelta(days=offset)
    every = settings.REMINDER_OVERDUE_EVERY_DAYS
    weeks = 1
    while True:  # while overdue, one more reminder every period, without end
        yield -every * weeks, due_at + dt.timedelta(days=every * weeks)
        weeks += 1


def next_reminder_after(deadline_kind: str, due_at: dt.datetime, moment: dt.datetime):
    for _, when in moments(deadline_kind, due_at):
        if when > moment:
            return when
    raise AssertionError("unreachable: the overdue reminders never end")


def latest_offset_at(deadline_kind: str, due_at: dt.datetime, moment: dt.datetime) -> int | None:
    """Return the offset of the latest reminder whose time has come, if any."""
    latest = None
    for offset, when in moments(deadline_kind, due_at):
        if when > moment:
            return latest
        latest = offset
    return latest


# --- keeping the rows current ----------------------------------------------------


def wanted_deadlines(case: Case) -> dict[tuple[str, str], dt.datetime]:
    """Return the base due time of each obligation the case's records hold now."""

    wanted: dict[tuple[str, str], dt.datetime] = after_release_deadlines(case)
    if not case.is_open:
        return wanted
    if case.planned_release_date:
        wanted[(DeadlineKind.PLANNED_RELEASE, "")] = start_of_day(case.planned_release_date)
    level = settings.SERVICE_LEVEL_WORKING_DAYS.get(case.status)
    if level is not None:
        wanted[(DeadlineKind.SERVICE_LEVEL, case.status)] = add_working_days(
            case.status_changed_at, level
        )
    for request in ClarificationRequest.objects.filter(
        case=case, status=ClarificationRequest.RequestStatus.OPEN
    ):
        wanted[(DeadlineKind.CLARIFICATION_DUE, f"clarification:{request.pk}")] = start_of_day(
            request.due_date + dt.timedelta(days=1)
        )
    for finding in Finding.objects.filter(case=case, state=FindingState.SHARED):
        shared = finding.shared_at or timezone.now()
        wanted[(DeadlineKind.FINDING_RESPONSE_DUE, f"finding:{finding.pk}")] = (
            shared + dt.timedelta(days=settings.FINDING_RESPONSE_DAYS)
        )
    for grant in AccessGrant.objects.filter(
        case=case, revoked_at__isnull=True, valid_until__isnull=False
    ):
        wanted[(DeadlineKind.ACCESS_EXPIRY, f"access:{grant.pk}")] = grant.valid_until
    return wanted


def after_release_deadlines(case: Case) -> dict[tuple[str, str], dt.datetime]:
    """Return the reports a cleared model's incidents and monitoring conditions ask for."""
    wanted: dict[tuple[str, str], dt.datetime] = {}
    if case.status not in (Status.CLEARED, Status.REVOKED):
        return wanted
    for incident in Incident.objects.filter(case=case).open():
        subject = f"incident:{incident.number}"
        if incident.initial_report_at is None:
            # A severity the settings leave out gets the shortest period.
            days = settings.INCIDENT_INITIAL_REPORT_DAYS.get(incident.severity, 2)
            wanted[(DeadlineKind.INCIDENT_INITIAL_REPORT, subject)] = (
                incident.detected_at + dt.timedelta(days=days)
            )
        elif incident.resolved_at is None:
            # One row per period, so each period has its own reminders.
            since = incident.last_update_at or incident.initial_report_at
            wanted[(DeadlineKind.INCIDENT_UPDATE, f"{subject}:{since:%Y%m%dT%H%M%S}")] = (
                since + dt.timedelta(days=settings.INCIDENT_UPDATE_EVERY_DAYS)
            )
        elif incident.final_report_at is None:
            wanted[(DeadlineKind.INCIDENT_FINAL_REPORT, subject)] = incident.resolved_at + (
                dt.timedelta(days=settings.INCIDENT_FINAL_REPORT_DAYS)
            )
    if case.status != Status.CLEARED:
        return wanted
    # A superseded or revoked statement's conditions no longer ask for anything.
    standing = case.clearance_statements.filter(
        status__in=(
            ClearanceStatement.StatementStatus.ISSUED,
            ClearanceStatement.StatementStatus.SUSPENDED,
        )
    ).values("number")
    for report in MonitoringReport.objects.filter(
        case=case,
        statement_number__in=standing,
        state__in=(ReportState.DUE, ReportState.CHANGES_REQUESTED),
    ):
        wanted[(DeadlineKind.MONITORING_REPORT_DUE, f"monitoring:{report.pk}")] = report.due_at
    return wanted


def effective_due(deadline: Deadline, case: Case, now: dt.datetime) -> dt.datetime:
    """Return the due time, moved later by the time the service-level clock stood still."""
    if deadline.kind != DeadlineKind.SERVICE_LEVEL:
        return deadline.base_due_at
    return deadline.base_due_at + case.paused_since_status_change(now)


@transaction.atomic
def sync_case_deadlines(*, case_id: int, now: dt.datetime | None = None) -> None:
    """Create, move and satisfy the case's deadline rows to match its records."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        return
    wanted = wanted_deadlines(case)
    pending = {(d.kind, d.subject): d for d in Deadline.objects.pending().filter(case=case)}
    for key, deadline in pending.items():
        if key not in wanted:
            deadline.satisfied_at = now
            deadline.next_reminder_at = None
            deadline.save(update_fields=["satisfied_at", "next_reminder_at"])
    for (kind, subject), base in wanted.items():
        deadline = pending.get((kind, subject)) or Deadline(
            case=case, kind=kind, subject=subject, created_at=now
        )
        deadline.base_due_at = base
        due = effective_due(deadline, case, now)
        if deadline.pk and deadline.due_at == due:
            continue
        deadline.due_at = due
        deadline.next_reminder_at = next_reminder_after(kind, due, now)
        if deadline.pk:
            deadline.save(update_fields=["base_due_at", "due_at", "next_reminder_at"])
        else:
            deadline.save()


# --- the sweep -----------------------------------------------------------------


# A claim whose delivery has not marked it by then is published again (the first
# publish may have been lost with the broker); delivery is safe to repeat.
REDELIVER_AFTER = REMINDER_DELIVERY.after
# Claims per delivery message: one message per reminder costs more than the claim.
DELIVERY_CHUNK = REMINDER_DELIVERY.chunk
DELIVER_REMINDERS = REMINDER_DELIVERY.task


def _claim_batch(pairs: list[tuple[int, int]], now: dt.datetime) -> list[int]:
    """Insert the (deadline, offset) rows in one statement; return the ids of those new."""
    if not pairs:
        return []
    if connection.vendor != "postgresql":
        return _claim_one_by_one(pairs, now)
    table = ReminderSent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            # Published on commit: the claim is stamped as published with it.
            f"INSERT INTO {table} (deadline_id, offset_days, created_at, published_at) "  # noqa: S608
            "SELECT d, o, %s, %s FROM unnest(%s::bigint[], %s::integer[]) AS t(d, o) "
            "ON CONFLICT (deadline_id, offset_days) DO NOTHING RETURNING id",
            [now, now, [d for d, _ in pairs], [o for _, o in pairs]],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _claim_one_by_one(pairs: list[tuple[int, int]], now: dt.datetime) -> list[int]:
    """The embedded database's claim (SQLite has no arrays): one insert a pair."""
    claimed = []
    for deadline_id, offset in pairs:
        try:
            with transaction.atomic():  # a savepoint: a taken pair leaves the batch intact
                claimed.append(
                    ReminderSent.objects.create(
                        deadline_id=deadline_id,
                        offset_days=offset,
                        created_at=now,
                        published_at=now,
                    ).pk
                )
        except IntegrityError:
            continue  # claimed already, by an earlier or another sweep
    return sorted(claimed)


def _move_batch(rows: list[tuple[int, dt.datetime, dt.datetime]]) -> None:
    """Store each (id, due_at, next_reminder_at) in one statement."""
    if connection.vendor != "postgresql":
        Deadline.objects.bulk_update(
            [Deadline(pk=pk, due_at=due, next_reminder_at=after) for pk, due, after in rows],
            ["due_at", "next_reminder_at"],
        )
        return
    table = Deadline._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET due_at = t.due, next_reminder_at = t.next "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS t(id, due, next) "
            "WHERE d.id = t.id",
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
        )


def sweep_reminders(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Send every reminder that has come due, each once; return how many this call sent."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            due = list(
                Deadline.objects.due_for_reminder(now)
                .select_related("case")
                # A service level reads the case's pauses: one query a batch, not one a row.
                .prefetch_related("case__clock_pauses")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_reminder_at")[:batch]
            )
            if not due:
                break
            moved, claims = [], []
            for deadline in due:
                case = deadline.case
                if deadline.kind == DeadlineKind.SERVICE_LEVEL and case.clock_paused:
                    # Waiting on the company: CAISI's clock stands still; look again later.
                    moved.append((deadline.pk, deadline.due_at, now + dt.timedelta(hours=1)))
                    continue
                due_at = effective_due(deadline, case, now)
                offset = latest_offset_at(deadline.kind, due_at, now)
                moved.append((deadline.pk, due_at, next_reminder_after(deadline.kind, due_at, now)))
                if offset is not None:
                    claims.append((deadline.pk, offset))
            # The rows stay locked until commit, and the unique (deadline, offset) row
            # settles any race left: each reminder is claimed by one sweeper only.
            _move_batch(moved)
            claimed = _claim_batch(claims, now)
            if claimed:
                # Published once the claims are committed; one lost on the way is
                # published again by the sweep of lost work (core.workrows).
                transaction.on_commit(
                    lambda ids=claimed: publish(REMINDER_DELIVERY, ids, chunk=DELIVERY_CHUNK),
                    robust=True,
                )
            sent += len(claimed)
    redeliver_lost_reminders(now=now)
    return sent


def redeliver_lost_reminders(*, now: dt.datetime | None = None) -> int:
    """Publish again the claims that no delivery has marked for a while; return how many.

    Each is claimed first (core.workrows), so however many sweepers run, a lost
    claim is published again once per `REDELIVER_AFTER`, not on every sweep.
    """
    return republish_lost(now=now, kinds={REMINDER_DELIVERY.name})[REMINDER_DELIVERY.name]


# Who is reminded of each kind: (the company, CAISI's side).
REMINDED = {
    DeadlineKind.PLANNED_RELEASE: (True, True),
    DeadlineKind.CLARIFICATION_DUE: (True, False),
    DeadlineKind.FINDING_RESPONSE_DUE: (True, False),
    DeadlineKind.ACCESS_EXPIRY: (True, True),
    DeadlineKind.SERVICE_LEVEL: (False, True),
    # An initial report still missing: CAISI follows it up too.
    DeadlineKind.INCIDENT_INITIAL_REPORT: (True, True),
    DeadlineKind.INCIDENT_UPDATE: (True, False),
    DeadlineKind.INCIDENT_FINAL_REPORT: (True, False),
    DeadlineKind.MONITORING_REPORT_DUE: (True, False),
}


def recipients(
    deadline: Deadline,
    *,
    members: list[int] | None = None,
    case_managers: list[int] | None = None,
) -> list[int]:
    """Return who is reminded: the company for its obligations, CAISI for its own."""

    company, caisi = REMINDED[deadline.kind]
    return people_concerned(
        case=deadline.case,
        company=company,
        caisi=caisi,
        members=members,
        case_managers=case_managers,
    )


# Reminders of these are emailed at once by default: an incident's report, and an answer
# the company owes within the week.
INCIDENT_DEADLINES = {
    DeadlineKind.INCIDENT_INITIAL_REPORT,
    DeadlineKind.INCIDENT_UPDATE,
    DeadlineKind.INCIDENT_FINAL_REPORT,
}
ANSWERS_DUE = {DeadlineKind.CLARIFICATION_DUE, DeadlineKind.FINDING_RESPONSE_DUE}


def is_time_critical(deadline: Deadline, now: dt.datetime | None = None) -> bool:
    """Whether a reminder of this deadline cannot wait for tomorrow's digest."""
    if deadline.kind in INCIDENT_DEADLINES:
        return True
    now = now or timezone.now()
    return deadline.kind in ANSWERS_DUE and deadline.due_at - now <= dt.timedelta(
        days=TIME_CRITICAL_DAYS
    )


def reminder_text(reminder: ReminderSent) -> str:
    deadline = reminder.deadline
    label = deadline.get_kind_display().lower()
    when = timezone.localtime(deadline.due_at).date().isoformat()
    if reminder.offset_days > 0:
        days = reminder.offset_days
        return f"{deadline.case.number}: {label} in {days} day{'s' * (days != 1)} ({when})."
    if reminder.offset_days == 0:
        return f"{deadline.case.number}: {label} today ({when})."
    return f"{deadline.case.number}: {label} overdue since {when}."


def deliver_reminder(*, reminder_id: int) -> int:
    """Turn one claimed reminder into notices for the people concerned (safe to repeat)."""
    return deliver_reminders(reminder_ids=[reminder_id])


def deliver_reminders(*, reminder_ids: list[int]) -> int:
    """Turn a chunk of claimed reminders into notices (safe to repeat); return how many are new.

    The chunk is read in one query, and so are the companies' members and the
    case managers; a reminder delivered already is skipped.
    """

    reminders = list(
        ReminderSent.objects.select_related("deadline__case")
        .filter(pk__in=reminder_ids, delivered_at__isnull=True)
        .order_by("pk")
    )
    if not reminders:
        return 0
    live = [r for r in reminders if r.deadline.satisfied_at is None]
    members: dict[int, list[int]] = {r.deadline.case.organization_id: [] for r in live}
    if members:
        for organization_id, user_id in Membership.objects.filter(
            organization_id__in=members
        ).values_list("organization_id", "user_id"):
            members[organization_id].append(user_id)
    case_managers = active_case_managers() if live else []
    created = 0
    for reminder in live:
        case = reminder.deadline.case
        created += create_notifications(
            user_ids=recipients(
                reminder.deadline,
                members=members[case.organization_id],
                case_managers=case_managers,
            ),
            case=case,
            kind=NotificationKind.REMINDER,
            text=reminder_text(reminder),
            reminder=reminder,
            urgent=is_time_critical(reminder.deadline),
        )
    # Done, with notices or with nothing left to say: the sweep need not publish them again.
    done = [r.pk for r in reminders]
    ReminderSent.objects.filter(pk__in=done, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )
    return created
