"""Every write to the case itself: its number, intake, timeline, thread and clock.

Views, the API, admin actions, commands and tasks call these; nothing else
changes a case. The lifecycle's transitions are `review.services`; each
appends its event here, with `record_event`.
"""

import base64
import binascii
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Organization
from cases import access
from cases.apps import MESSAGE_CONTENT
from cases.intake import INTAKE_EDITABLE
from cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CheckpointHead,
    ClockPause,
    Message,
    TimelineCheckpoint,
)
from cases.status import ANNOUNCED_EVENTS, Status
from core import outbox, signing
from core.errors import ActionRefused, BadInput, CaseNotFound, NotAllowed
from core.exportcheck import canonical_json
from core.records import CONTENT_KEY, recorded_content

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class ChainBreak:
    """The first place a case's timeline does not hold, and why."""

    seq: int
    reason: str
    event: CaseEvent | None = None

    @property
    def pk(self) -> int | None:
        return self.event.pk if self.event is not None else None

    def __str__(self) -> str:
        return f"timeline broken at event #{self.seq}: {self.reason}"


def verify_chain(case: Case, *, trusted_checkpoints: set[int] | None = None) -> ChainBreak | None:
    """Return the first place the case's timeline does not hold, or None.

    Each event's hash and link; the rows its events record (messages,
    findings, answers, decisions, statements), hashed again; and the newest
    head a checkpoint signed, which the chain must still reach unchanged.
    `trusted_checkpoints` holds the checkpoints already checked by the caller.
    """
    prev_hash = ""
    expected_seq = 1
    hashes: dict[int, str] = {}
    recorded: list[CaseEvent] = []
    for event in CaseEvent.objects.filter(case=case).order_by("seq").iterator():
        if (
            event.seq != expected_seq
            or event.prev_hash != prev_hash
            or event.hash != event.compute_hash(case.number)
        ):
            return ChainBreak(event.seq, "its hash or link does not match.", event)
        if CONTENT_KEY in event.details:
            recorded.append(event)
        hashes[event.seq] = event.hash
        prev_hash = event.hash
        expected_seq += 1
    return _content_break(recorded) or _checkpoint_break(case, hashes, trusted_checkpoints)


def _content_break(events: list[CaseEvent]) -> ChainBreak | None:
    """Return the first event whose recorded row no longer hashes to what it recorded."""
    specs = recorded_content()
    wanted: dict = {}
    for event in events:
        spec = specs.get(event.verb)
        if spec is not None:
            wanted.setdefault(spec, set()).add(event.details.get(spec.key))
    rows = {
        spec: {
            getattr(row, spec.lookup): row
            for row in spec.get_model().objects.filter(**{f"{spec.lookup}__in": keys})
        }
        for spec, keys in wanted.items()
    }
    for event in events:
        spec = specs.get(event.verb)
        if spec is None:
            continue
        row = rows[spec].get(event.details.get(spec.key))
        label = spec.get_model()._meta.verbose_name
        if row is None:
            return ChainBreak(event.seq, f"the {label} it records is gone.", event)
        if spec.sha256(row) != event.details[CONTENT_KEY]:
            return ChainBreak(
                event.seq, f"the {label} it records was changed after it was recorded.", event
            )
    return None


def _checkpoint_break(
    case: Case, hashes: dict[int, str], trusted: set[int] | None
) -> ChainBreak | None:
    head = (
        CheckpointHead.objects.filter(case=case)
        .select_related("checkpoint")
        .order_by("-checkpoint_id")
        .first()
    )
    if head is None:
        return None
    checkpoint = head.checkpoint
    if trusted is None or checkpoint.pk not in trusted:
        problem = checkpoint_problem(checkpoint)
        if problem:
            return ChainBreak(head.seq, problem)
    last = max(hashes, default=0)
    if head.seq not in hashes:
        return ChainBreak(
            head.seq,
            f"checkpoint #{checkpoint.seq} signed it as the timeline's head, and the "
            f"timeline now ends at #{last}: its newest events were removed.",
        )
    if hashes[head.seq] != head.hash:
        return ChainBreak(
            head.seq,
            f"it is not the event checkpoint #{checkpoint.seq} signed: the timeline was rewritten.",
        )
    return None


# --- checkpoints of the timeline's heads ---------------------------------------------


def checkpoint_payload(checkpoint: TimelineCheckpoint, heads) -> bytes:
    """Return what a checkpoint's signature covers: its place in line and every head."""
    return canonical_json(
        {
            "format": "caisi-timeline-checkpoint",
            "seq": checkpoint.seq,
            "signed_at": checkpoint.signed_at.astimezone(dt.UTC).isoformat(),
            "prev_root": checkpoint.prev_root,
            "heads": sorted([h.case_number, h.seq, h.hash] for h in heads),
        }
    )


def checkpoint_problem(checkpoint: TimelineCheckpoint, heads=None) -> str | None:
    """Return why this checkpoint does not hold, or None."""
    heads = list(checkpoint.heads.all()) if heads is None else heads
    payload = checkpoint_payload(checkpoint, heads)
    name = f"checkpoint #{checkpoint.seq}"
    if hashlib.sha256(payload).hexdigest() != checkpoint.root:
        return f"{name} no longer matches the heads it signed: they were changed."
    if checkpoint.certificate_sha256 != signing.certificate_sha256():
        return (
            f"{name} was signed by a certificate ({checkpoint.certificate_sha256}) "
            "the portal does not hold."
        )
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (binascii.Error, ValueError):
        return f"{name} has a malformed signature."
    if not signing.verify(payload, signature):
        return f"{name}'s signature does not hold."
    return None


def verify_checkpoints() -> tuple[set[int], str | None]:
    """Check every checkpoint in order; return the ids that hold and the first problem."""
    good: set[int] = set()
    expected_seq, prev_root = 1, ""
    heads: dict[int, list[CheckpointHead]] = {}
    for head in CheckpointHead.objects.order_by("checkpoint_id").iterator():
        heads.setdefault(head.checkpoint_id, []).append(head)
    for checkpoint in TimelineCheckpoint.objects.order_by("seq").iterator():
        if checkpoint.seq != expected_seq or checkpoint.prev_root != prev_root:
            return good, (
                f"checkpoint #{checkpoint.seq} does not follow checkpoint #{expected_seq - 1}: "
                "a checkpoint is missing or was replaced."
            )
        problem = checkpoint_problem(checkpoint, heads.get(checkpoint.pk, []))
        if problem:
            return good, problem
        good.add(checkpoint.pk)
        expected_seq, prev_root = expected_seq + 1, checkpoint.root
    return good, None


def _moved_heads(last: TimelineCheckpoint | None):
    """Return each case whose timeline head moved since its last signed head."""
    newest = CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-seq")
    signed = CheckpointHead.objects.filter(case=OuterRef("pk")).order_by("-checkpoint_id")
    cases = Case.objects.annotate(
        head_seq=Subquery(newest.values("seq")[:1]),
        head_hash=Subquery(newest.values("hash")[:1]),
        signed_seq=Subquery(signed.values("seq")[:1]),
        signed_hash=Subquery(signed.values("hash")[:1]),
    ).filter(head_seq__isnull=False)
    if last is not None:
        cases = cases.filter(Q(signed_seq__isnull=True) | ~Q(signed_seq=F("head_seq")))
    return cases.annotate(
        # The event the last signed head names, as the timeline holds it now.
        now_at_signed=Subquery(
            CaseEvent.objects.filter(case=OuterRef("pk"), seq=OuterRef("signed_seq")).values(
                "hash"
            )[:1]
        )
    ).values_list(
        "pk", "number", "head_seq", "head_hash", "signed_seq", "signed_hash", "now_at_signed"
    )


def sign_checkpoint(*, now: dt.datetime | None = None) -> TimelineCheckpoint | None:
    """Sign the heads of the timelines that moved since the last checkpoint; None if none did.

    A head that no longer extends the one signed before (events removed, or the
    chain rewritten) is never signed again: signing it would launder the change.
    It is logged, keeps its last signed head, and `verify_timeline` names it.
    """
    fingerprint = signing.certificate_sha256()
    try:
        with transaction.atomic():
            last = TimelineCheckpoint.objects.select_for_update().order_by("-seq").first()
            heads = []
            for pk, number, seq, hash_, signed_seq, signed_hash, now_at_signed in _moved_heads(
                last
            ):
                if signed_seq is not None and (seq < signed_seq or now_at_signed != signed_hash):
                    logger.error(
                        "Timeline of %s no longer extends its signed head #%s; not signed again.",
                        number,
                        signed_seq,
                    )
                    continue
                heads.append(CheckpointHead(case_id=pk, case_number=number, seq=seq, hash=hash_))
            if not heads:
                return None
            checkpoint = TimelineCheckpoint(
                seq=(last.seq + 1) if last else 1,
                signed_at=now or timezone.now(),
                prev_root=last.root if last else "",
                certificate_sha256=fingerprint,
            )
            payload = checkpoint_payload(checkpoint, heads)
            checkpoint.root = hashlib.sha256(payload).hexdigest()
            checkpoint.signature = base64.b64encode(signing.sign(payload)).decode()
            checkpoint.save()
            for head in heads:
                head.checkpoint = checkpoint
            CheckpointHead.objects.bulk_create(heads, batch_size=2000)
    except IntegrityError:
        # Another worker signed the same checkpoint number first: its checkpoint stands.
        logger.info("A timeline checkpoint was signed concurrently; this one is dropped.")
        return None
    return checkpoint


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
    if actor.role not in access.WRITES_MESSAGES:
        raise NotAllowed("You cannot write in this case's thread.")  # an auditor reads only
    if internal and not access.can_post_internal(actor):
        raise NotAllowed("Only CAISI staff can write internal notes.")
    if not access.can_post_message(actor, locked):
        raise ActionRefused("The case's thread is closed: the case is no longer open.")
    body = body.strip()
    if not body:
        raise BadInput("The message is empty.")
    message = Message.objects.create(case=locked, author=actor, body=body, internal=internal)
    record_event(
        case=locked,
        actor=actor,
        verb="internal_note_added" if internal else "message_posted",
        details={"message": message.pk, CONTENT_KEY: MESSAGE_CONTENT.sha256(message)},
        internal=internal,
    )
    return message
