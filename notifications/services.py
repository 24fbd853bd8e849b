"""Notices to people: in-app rows, emails at once or in one daily digest, or none.

One notice per person per event or reminder (a unique row), and each notice is
emailed at most once: the send claims it by compare-and-swap first.
"""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import SimpleLazyObject

from accounts.models import Membership, Role, User
from cases import access
from cases.models import Case, CaseEvent
from cases.status import ANNOUNCED_EVENTS, DeploymentStatus, Status
from core import workrows
from notifications.apps import IMMEDIATE_EMAIL
from notifications.models import (
    Delivery,
    DigestRun,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from submissions.models import DocumentKind

MESSAGE_VERBS = {"message_posted", "clarification_requested", "clarification_answered"}
# Events the whole desk hears of even while no case manager is named.
CAISI_MUST_HEAR = {"access_revoked"}
# An answer due within this many days is emailed at once by default.
TIME_CRITICAL_DAYS = 7


def active_case_managers() -> list[int]:
    """Return every active case manager: CAISI's side of a case that has none named."""

    return list(
        User.objects.filter(staff_role=Role.CASE_MANAGER, is_active=True).values_list(
            "pk", flat=True
        )
    )


def people_concerned(
    *,
    case: Case,
    company: bool,
    caisi: bool,
    members: list[int] | None = None,
    case_managers: list[int] | None = None,
) -> list[int]:
    """Return who hears of the case: its company's members, CAISI's side, or both.

    CAISI's side is the case manager, or every active case manager while none is
    named; nobody at CAISI hears of a draft the company has not submitted.
    `members` and `case_managers`, when given, spare their queries.
    """
    people: list[int] = []
    caisi = caisi and case.submitted_at is not None
    if company:
        if members is None:
            members = list(
                Membership.objects.filter(organization_id=case.organization_id).values_list(
                    "user_id", flat=True
                )
            )
        people += members
    if caisi:
        if case.case_manager_id:
            people.append(case.case_manager_id)
        else:
            people += active_case_managers() if case_managers is None else case_managers
    return people


def kind_of(event: CaseEvent) -> str:
    # A change of the deployment or the statement, or a new incident, is as much
    # news as a change of the case's status.
    if event.to_status or event.verb in ANNOUNCED_EVENTS:
        return NotificationKind.CASE_UPDATE
    if event.verb in MESSAGE_VERBS or event.verb.startswith("clarification"):
        return NotificationKind.MESSAGE
    return NotificationKind.ACTIVITY


def preferences(user_ids: Iterable[int], kind: str, *, urgent: bool = False) -> dict[int, str]:
    """Return each person's delivery for this kind: the daily digest unless they chose.

    What is urgent (an answer due within the week, an incident deadline) is emailed
    at once unless the person chose otherwise for its kind.
    """
    default = Delivery.IMMEDIATE if urgent else Delivery.DIGEST
    user_ids = list(user_ids)
    chosen = dict(
        NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind).values_list(
            "user_id", "delivery"
        )
    )
    return {pk: chosen.get(pk, default) for pk in user_ids}


# What comes next after each move, said in the notice so nobody has to guess.
NEXT_STEP = {
    Status.TRIAGE: "Next: CAISI names a case manager.",
    Status.ACCESS: "Next: the company grants CAISI access to the model, and the case "
    "manager verifies it.",
    Status.DOCUMENTATION: "Next: the company uploads the documentation package for CAISI "
    "to accept.",
    Status.TESTING: "Next: CAISI tests the model.",
    Status.FINDINGS: "Next: the company answers each shared finding within {days} days.",
    Status.CLEARED: "The signed clearance statement is on the case page.",
    Status.REVOKED: "The clearance statement no longer holds; the case page gives the reason.",
    Status.WITHDRAWN: "Nothing more is asked of anyone on this case.",
    Status.CLOSED: "The case page gives CAISI's reason.",
}


def _date(value) -> str:
    """Show a date from an event's details the way every page and email does."""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return date_format(day, "F j, Y")


def _document(details: dict) -> str:
    kind = details.get("kind", "")
    label = DocumentKind(kind).label if kind in DocumentKind.values else kind.replace("_", " ")
    label = label.lower()
    return f"the {label} (version {details.get('version')})"


def describe(event: CaseEvent, case: Case) -> str:
    """Write the notice from the event itself: what happened then, and what comes next.

    The case may have moved on by the time the worker writes it; the event has not.
    """
    number, details = case.number, event.details or {}
    if event.to_status:
        status = Status(event.to_status)
        text = f"{number} moved to {status.label.lower()}."
        step = NEXT_STEP.get(status, "").format(days=settings.FINDING_RESPONSE_DAYS)
        return f"{text} {step}".strip()
    if "deployment" in details:
        label = DeploymentStatus(details["deployment"]["to"]).label.lower()
        return f"{number}: the model's deployment is now {label}."
    if "statement_status" in details:
        change = "suspended" if details["statement_status"] == "suspended" else "reinstated"
        return f"{number}: clearance statement {details['statement']} {change}."
    verb = event.verb
    if verb == "incident_reported":
        return (
            f"{number}: incident {details.get('incident')} reported "
            f"({details.get('severity')} severity). Next: CAISI triages it."
        )
    if verb == "clarification_requested":
        return (
            f"{number}: CAISI asked a clarification question, due {_date(details.get('due_date'))}."
            " Next: the company answers it on the case page."
        )
    if verb == "clarification_answered":
        return f"{number}: the company answered a clarification request. Next: CAISI reads it."
    if verb == "document_uploaded":
        return f"{number}: {_document(details)} was uploaded. Next: the case manager reviews it."
    if verb == "document_changes_requested":
        return (
            f"{number}: CAISI asked for changes to {_document(details)}. "
            "Next: the company uploads a revised version."
        )
    if verb == "document_accepted":
        return f"{number}: CAISI accepted {_document(details)}."
    if verb == "finding_answered":
        return (
            f"{number}: the company answered the finding “{details.get('title')}”. "
            "Next: CAISI reviews the answer."
        )
    if verb == "finding_answer_reviewed":
        verdict = VERDICT_WORDS.get(details.get("verdict"), "reviewed")
        return f"{number}: CAISI {verdict} the answer to the finding “{details.get('title')}”."
    if verb == "message_posted":
        return f"{number}: a new message on the case. Open the case to read and reply."
    return f"{number}: {event.verb_label.lower()}."


VERDICT_WORDS = {
    "verified": "verified the fix given in",
    "accepted": "accepted",
    "rejected": "did not accept",
}


def is_time_critical(event: CaseEvent, today: dt.date | None = None) -> bool:
    """Whether the event asks for an answer within a week: emailed at once unless chosen."""
    if event.verb != "clarification_requested":
        return False
    try:
        due = dt.date.fromisoformat(str((event.details or {}).get("due_date"))[:10])
    except ValueError:
        return False
    return due <= (today or timezone.localdate()) + dt.timedelta(days=TIME_CRITICAL_DAYS)


@transaction.atomic
def create_notifications(
    *,
    user_ids: Iterable[int],
    case: Case,
    kind: str,
    text: str,
    event: CaseEvent | None = None,
    reminder=None,  # a deadlines.ReminderSent: the reminder this notice tells of
    urgent: bool = False,
) -> int:
    """Record one notice per person (again is a no-op) and queue the immediate emails."""
    deliveries = preferences(user_ids, kind, urgent=urgent)
    if not deliveries:
        return 0
    rows = [
        Notification(
            user_id=pk,
            case=case,
            kind=kind,
            event=event,
            reminder=reminder,
            text=text[:300],
            delivery=delivery,
            email_state=EmailState.NOT_EMAILED if delivery == Delivery.OFF else EmailState.PENDING,
        )
        for pk, delivery in sorted(deliveries.items())
    ]
    before = Notification.objects.filter(event=event, reminder=reminder).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = Notification.objects.filter(event=event, reminder=reminder).count() - before

    immediate = list(
        Notification.objects.filter(
            event=event,
            reminder=reminder,
            delivery=Delivery.IMMEDIATE,
            email_state=EmailState.PENDING,
            email_published_at__isnull=True,  # queued already by an earlier call
        ).values_list("pk", flat=True)
    )
    if immediate:
        # The claim mark and the publish go together: a lost message is found again.
        Notification.objects.filter(pk__in=immediate).update(email_published_at=timezone.now())
        workrows.publish(IMMEDIATE_EMAIL, immediate)
    return created


def _send(user, subject: str, template: str, context: dict) -> None:
    context = {**context, "user": user, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"email/{template}.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string(f"email/{template}.html", context), "text/html")
    message.send()


def email_notification(*, notification_id: int) -> bool:
    """Email one immediate notice, once; return whether this call sent it."""
    claimed = Notification.objects.filter(
        pk=notification_id, email_state=EmailState.PENDING, delivery=Delivery.IMMEDIATE
    ).update(email_state=EmailState.SENDING)
    if not claimed:
        return False
    notification = Notification.objects.select_related("user", "case").get(pk=notification_id)
    try:
        _send(
            notification.user,
            f"[CAISI Review Portal] {notification.text}",
            "notification",
            {"notification": notification},
        )
    except Exception:
        # Give the claim back so the retried task can send it.
        Notification.objects.filter(pk=notification_id).update(email_state=EmailState.PENDING)
        raise
    Notification.objects.filter(pk=notification_id).update(
        email_state=EmailState.SENT, emailed_at=timezone.now()
    )
    return True


def send_digest(*, user_id: int, day=None) -> int:
    """Send one person's daily digest, at most once a day; return how many notices it held."""

    day = day or timezone.localdate()
    pending = Notification.objects.filter(
        user_id=user_id, delivery=Delivery.DIGEST, email_state=EmailState.PENDING
    )
    if not pending.exists():
        return 0
    with transaction.atomic():
        run, created = DigestRun.objects.get_or_create(user_id=user_id, day=day)
        if not created:
            return 0  # today's digest is already out; these wait for tomorrow's
        ids = list(pending.select_for_update(skip_locked=True).values_list("pk", flat=True))
        Notification.objects.filter(pk__in=ids).update(email_state=EmailState.SENDING)
    notifications = list(
        Notification.objects.filter(pk__in=ids).select_related("case").order_by("created_at")
    )
    user = User.objects.get(pk=user_id)
    try:
        _send(
            user,
            f"[CAISI Review Portal] Your daily digest: {len(notifications)} updates",
            "digest",
            {"notifications": notifications, "day": day},
        )
    except Exception:
        Notification.objects.filter(pk__in=ids).update(email_state=EmailState.PENDING)
        DigestRun.objects.filter(pk=run.pk).delete()
        raise
    now = timezone.now()
    Notification.objects.filter(pk__in=ids).update(email_state=EmailState.SENT, emailed_at=now)
    DigestRun.objects.filter(pk=run.pk).update(sent_at=now, notification_count=len(ids))
    return len(ids)


def people_with_pending_digest() -> list[int]:
    return list(
        Notification.objects.filter(delivery=Delivery.DIGEST, email_state=EmailState.PENDING)
        .values_list("user_id", flat=True)
        .distinct()
    )


@transaction.atomic
def set_preferences(*, user, choices: dict[str, str]) -> None:
    """Record how this person wants each kind of notice."""
    for kind, delivery in choices.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=NotificationKind(kind), defaults={"delivery": Delivery(delivery)}
        )


def mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark this person's notices read (all unread ones when no ids are given)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def unread_count(request) -> dict:
    """Context processor: the bell's number, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(user=user, read_at__isnull=True).count()
        )
    }


def notify_event(*, event_id: int) -> int:
    """Create the in-app notices for one event, once per person; return how many are new."""

    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return 0
    case = event.case
    draft = access.during_draft(event, case)
    people = set() if draft else set(case.evaluators.values_list("pk", flat=True))
    people.update(
        people_concerned(
            case=case,
            company=not event.internal,
            # Until a case manager is named, the whole desk hears of the case's moves
            # and of what stops CAISI's work; of a draft, nobody at CAISI hears.
            caisi=not draft
            and bool(case.case_manager_id or event.to_status or event.verb in CAISI_MUST_HEAR),
        )
    )
    people.discard(event.actor_id)
    return create_notifications(
        user_ids=people,
        case=case,
        kind=kind_of(event),
        text=describe(event, case),
        event=event,
        urgent=is_time_critical(event),
    )
