"""Every write to the case itself: its number, intake, timeline, thread and clock.

Views, the API, admin actions, commands and tasks call these; nothing else
changes a case. The lifecycle's transitions are `review.services`; each
appends its event here, with `record_event`.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from cases import access
from cases.intake import INTAKE_EDITABLE
from cases.models import Case, CaseEvent, CaseNumberCounter, ClockPause, Message
from cases.status import ANNOUNCED_EVENTS, Status
from core import outbox
from core.errors import ActionRefused, CaseNotFound

# --- the timeline ------------------------------------------------------------

# What follows an event, reached by name so that the timeline imports none of it.
NOTIFY_CASE_EVENT = "notifications.tasks.notify_case_event"
DISPATCH_WEBHOOKS = "webhooks.tasks.dispatch_webhooks"
SYNC_CASE_DEADLINES = "deadlines.tasks.sync_case_deadlines"


def record_event(
    *,
    case: Case,
    actor,
    verb: str,
    details: dict[str, Any] | None = None,
    from_status: str = "",
    to_status: str = "",
    internal: bool = False,
) -> CaseEvent:
    """Append one event to the case's hash chain and notify after commit."""
    with transaction.atomic():
        # The row lock serializes appends per case, so seq and the chain stay linear.
        locked = Case.objects.select_for_update().only("pk", "number").get(pk=case.pk)
        last = CaseEvent.objects.filter(case_id=case.pk).order_by("-seq").first()
        event = CaseEvent(
            case=locked,  # its number is at hand for the hash and the cache's signal
            seq=(last.seq + 1) if last else 1,
            actor=actor if actor is not None and actor.is_authenticated else None,
            verb=verb,
            from_status=from_status,
            to_status=to_status,
            details=details or {},
            internal=internal,
            created_at=timezone.now(),
            prev_hash=last.hash if last else "",
        )
        event.hash = event.compute_hash(locked.number)
        event.save()
        moved = {"updated_at": event.created_at}
        if not internal:
            moved["company_updated_at"] = event.created_at
        Case.objects.filter(pk=case.pk).update(**moved)

        # The apps that react to an event sit above the timeline: it names their tasks.
        work = [outbox.task(NOTIFY_CASE_EVENT, event.pk)]
        # Webhooks announce status changes (of the case, its deployment or statement)
        # and new incidents, to owners who may see the case.
        if to_status or verb in ANNOUNCED_EVENTS:
            work.append(outbox.task(DISPATCH_WEBHOOKS, event.pk))
        work.append(outbox.task(SYNC_CASE_DEADLINES, case.pk))
        outbox.enqueue(*work)
    return event


def verify_chain(case: Case) -> CaseEvent | None:
    """Return the first event whose hash or link does not hold, or None."""
    prev_hash = ""
    expected_seq = 1
    for event in CaseEvent.objects.filter(case=case).order_by("seq").iterator():
        if (
            event.seq != expected_seq
            or event.prev_hash != prev_hash
            or event.hash != event.compute_hash(case.number)
        ):
            return event
        prev_hash = event.hash
        expected_seq += 1
    return None


# --- opening a case and the intake ---------------------------------------------


def _next_case_number(year: int) -> str:
    CaseNumberCounter.objects.bulk_create([CaseNumberCounter(year=year)], ignore_conflicts=True)
    counter = CaseNumberCounter.objects.select_for_update().get(year=year)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return f"CAISI-{year}-{counter.last_value:04d}"


def _intake_value(value):
    return value.isoformat() if isinstance(value, dt.date) else value


@transaction.atomic
def open_case(*, actor, title: str, model_name: str, **intake) -> Case:
    """Open a new case for the actor's company; it gets its number at once."""
    if not access.can_create_case(actor):
        raise ActionRefused("Only a company liaison can open a case.")
    unknown = set(intake) - set(INTAKE_EDITABLE)
    if unknown:
        raise ActionRefused(f"Unknown intake fields: {', '.join(sorted(unknown))}.")
    now = timezone.now()
    organization: Organization = actor.membership.organization
    case = Case.objects.create(
        number=_next_case_number(timezone.localdate(now).year),
        organization=organization,
        title=title,
        model_name=model_name,
        created_by=actor,
        created_at=now,
        updated_at=now,
        company_updated_at=now,
        status_changed_at=now,
        **intake,
    )
    record_event(
        case=case,
        actor=actor,
        verb="case_opened",
        to_status=Status.INTAKE,
        details={"title": title, "model_name": model_name},
    )
    return case


@transaction.atomic
def update_intake(*, case: Case, actor, data: dict[str, Any]) -> Case:
    """Save intake fields (a draft may be incomplete) and record what changed."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not access.can_edit_intake(actor, locked):
        raise ActionRefused("The intake can only be edited by the company while in intake.")
    changed = [
        field
        for field in INTAKE_EDITABLE
        if field in data and getattr(locked, field) != data[field]
    ]
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, data[field])
    locked.full_clean(exclude=["number", "organization", "created_by"])
    locked.save(update_fields=changed)
    record_event(
        case=locked,
        actor=actor,
        verb="intake_updated",
        details={"fields": changed, "values": {f: _intake_value(data[f]) for f in changed}},
    )
    return locked


# --- the lifecycle ---------------------------------------------------------------


# --- notifications -------------------------------------------------------------


# --- assignment of evaluators ---------------------------------------------------


# --- the service-level clock -------------------------------------------------------


def pause_clock(*, case: Case, reason: str = "", at=None) -> None:
    """Stop the case's service-level clock, unless it already stands still."""
    with transaction.atomic():
        Case.objects.select_for_update().only("pk").get(pk=case.pk)
        if not ClockPause.objects.filter(case_id=case.pk, ended_at__isnull=True).exists():
            ClockPause.objects.create(
                case_id=case.pk, started_at=at or timezone.now(), reason=reason[:200]
            )


def resume_clock(*, case: Case, at=None) -> None:
    """Let the case's service-level clock run again."""
    with transaction.atomic():
        Case.objects.select_for_update().only("pk").get(pk=case.pk)
        ClockPause.objects.filter(case_id=case.pk, ended_at__isnull=True).update(
            ended_at=at or timezone.now()
        )


# --- the case's message thread -------------------------------------------------------


@transaction.atomic
def post_message(*, case: Case, actor, body: str, internal: bool = False):
    """Add a message to the case's thread; shared ones notify the company."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not access.can_view(actor, locked):
        raise CaseNotFound(locked.number)
    if not access.can_post_message(actor, locked):
        raise ActionRefused("You cannot write in this case's thread.")
    if internal and not access.can_post_internal(actor):
        raise ActionRefused("Only CAISI staff can write internal notes.")
    body = body.strip()
    if not body:
        raise ActionRefused("The message is empty.")
    message = Message.objects.create(case=locked, author=actor, body=body, internal=internal)
    record_event(
        case=locked,
        actor=actor,
        verb="internal_note_added" if internal else "message_posted",
        details={"message": message.pk},
        internal=internal,
    )
    return message
