"""Every write to a case: one function per use case.

Views, the API, admin actions, commands and tasks call these; nothing else
changes a case. A transition locks the case row, checks the actor and the
gate, changes the status, appends one timeline event, and schedules the
notifications once the transaction commits.
"""

import datetime as dt
import inspect
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization

from . import policy
from .lifecycle import TRANSITIONS, Action, Status
from .models import Case, CaseEvent, CaseNumberCounter


class ActionRefused(Exception):
    """The action may not be taken; `blockers` says why, in words a person can act on."""

    http_status = 409  # the request conflicts with the case's state

    def __init__(self, blockers: list[str] | str):
        self.blockers = [blockers] if isinstance(blockers, str) else list(blockers)
        super().__init__("; ".join(self.blockers))


class BadInput(ActionRefused):
    """What was sent cannot be accepted as it is (a 400, not a state conflict)."""

    http_status = 400


class NotAllowed(ActionRefused):
    """The actor sees the case but may not do this (a 403)."""

    http_status = 403


class CaseNotFound(Exception):
    """The case does not exist or the actor may not see it (the two are not told apart)."""


# --- the timeline ------------------------------------------------------------


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
        Case.objects.filter(pk=case.pk).update(updated_at=event.created_at)

        from . import outbox
        from .tasks import notify_case_event, sync_case_deadlines

        work = [notify_case_event.s(event.pk)]
        if to_status:  # webhooks announce status changes, to owners who may see the case
            from accounts.tasks import dispatch_webhooks

            work.append(dispatch_webhooks.s(event.pk))
        work.append(sync_case_deadlines.s(case.pk))
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


INTAKE_EDITABLE = (
    "title",
    "model_name",
    "description",
    "architecture",
    "parameter_count",
    "training_compute",
    "training_data_description",
    "intended_uses",
    "modality",
    "release_type",
    "planned_release_date",
)


def _intake_value(value):
    return value.isoformat() if isinstance(value, dt.date) else value


@transaction.atomic
def open_case(*, actor, title: str, model_name: str, **intake) -> Case:
    """Open a new case for the actor's company; it gets its number at once."""
    if not policy.can_create_case(actor):
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
    if not policy.can_edit_intake(actor, locked):
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


def gate_blockers(case: Case, action: str, **params) -> list[str]:
    """Return what the case still lacks for this action (empty when the gate is open)."""
    return TRANSITIONS[action].gate_function()(case, **params)


def _transition(*, case: Case, actor, action: Action, details=None, apply=None, **params) -> Case:
    transition = TRANSITIONS[action]
    with transaction.atomic():
        try:
            locked = Case.objects.select_for_update().get(pk=case.pk)
        except Case.DoesNotExist:
            raise CaseNotFound(case.pk) from None
        if not policy.can_view(actor, locked):
            raise CaseNotFound(locked.number)
        if actor.role not in transition.actors:
            roles = ", ".join(sorted(r.label.lower() for r in transition.actors))
            raise ActionRefused(f"Only a {roles} can {action.label.lower()}.")
        if locked.status not in transition.sources:
            raise ActionRefused(
                f"{action.label} is not possible while the case is in "
                f"{locked.get_status_display().lower()}."
            )
        missing = [
            name
            for name in transition.params
            if params.get(name) in (None, "")
            or (isinstance(params.get(name), str) and not params[name].strip())
        ]
        if missing:
            raise ActionRefused([f"The {name} is required." for name in missing])
        blockers = transition.gate_function()(locked, **params)
        if blockers:
            raise ActionRefused(blockers)

        from_status = locked.status
        now = timezone.now()
        locked.status = transition.target
        locked.status_changed_at = now
        fields = ["status", "status_changed_at"]
        if apply is not None:
            fields += apply(locked)
        locked.save(update_fields=fields)
        record_event(
            case=locked,
            actor=actor,
            verb=action.value,
            from_status=from_status,
            to_status=transition.target,
            details=details or {},
        )
    return locked


def submit_intake(*, case: Case, actor) -> Case:
    """Send the completed intake to CAISI (step 1 → 2); the versions are frozen."""

    def freeze_versions(locked: Case) -> list[str]:
        locked.versions.filter(submitted_at__isnull=True).update(submitted_at=timezone.now())
        return []

    return _transition(case=case, actor=actor, action=Action.SUBMIT_INTAKE, apply=freeze_versions)


def assign_case_manager(*, case: Case, actor, manager=None) -> Case:
    """Name the case manager (step 2 → 3)."""

    def set_manager(locked: Case) -> list[str]:
        locked.case_manager = manager
        return ["case_manager"]

    return _transition(
        case=case,
        actor=actor,
        action=Action.ASSIGN_CASE_MANAGER,
        manager=manager,
        apply=set_manager,
        details={"case_manager": manager.email if manager else None},
    )


def verify_access(*, case: Case, actor) -> Case:
    """Confirm CAISI can reach the model (step 3 → 4)."""
    return _transition(case=case, actor=actor, action=Action.VERIFY_ACCESS)


def accept_documentation(*, case: Case, actor) -> Case:
    """Accept the documentation package (step 4 → 5)."""
    return _transition(case=case, actor=actor, action=Action.ACCEPT_DOCUMENTATION)


def share_findings(*, case: Case, actor) -> Case:
    """Share every draft finding with the company at once (step 5 → 6)."""
    from findings.models import Finding, FindingState

    details: dict[str, Any] = {"findings": []}  # filled in under the row lock

    def share(locked: Case) -> list[str]:
        drafts = Finding.objects.filter(case=locked, state=FindingState.DRAFT)
        details["findings"] = sorted(drafts.values_list("pk", flat=True))
        drafts.update(state=FindingState.SHARED, shared_at=timezone.now())
        return []

    return _transition(
        case=case, actor=actor, action=Action.SHARE_FINDINGS, apply=share, details=details
    )


def resubmit(*, case: Case, actor) -> Case:
    """Send the case back to testing with the revised version (step 6 → 5).

    Earlier versions, their evaluations and findings stay on record, each
    linked to the version it concerns.
    """
    details: dict[str, Any] = {"versions": []}  # filled in under the row lock

    def attach_revision(locked: Case) -> list[str]:
        pending = locked.versions.filter(submitted_at__isnull=True)
        details["versions"] = list(pending.values_list("label", flat=True))
        pending.update(submitted_at=timezone.now())
        return []

    return _transition(
        case=case, actor=actor, action=Action.RESUBMIT, apply=attach_revision, details=details
    )


def issue_clearance(*, case: Case, actor, scope: str = "", conditions: str = "") -> Case:
    """Clear the reviewed version and create its statement (step 6 → 7)."""
    from clearance.services import create_statement

    details = {"scope": scope, "conditions": conditions}

    def create(locked: Case) -> list[str]:
        superseded = list(
            locked.clearance_statements.filter(status="issued").values_list("number", flat=True)
        )
        statement = create_statement(
            case=locked, official=actor, scope=scope, conditions=conditions
        )
        # The timeline names the statements, so their numbers are on the hash chain.
        details["statement"] = statement.number
        if superseded:
            details["supersedes"] = superseded
        return []

    return _transition(
        case=case,
        actor=actor,
        action=Action.ISSUE_CLEARANCE,
        scope=scope,
        apply=create,
        details=details,
    )


def revoke_clearance(*, case: Case, actor, reason: str = "") -> Case:
    """Revoke the clearance, with the reason on record."""
    from clearance.services import revoke_statements

    def revoke(locked: Case) -> list[str]:
        revoke_statements(case=locked, reason=reason)
        return []

    return _transition(
        case=case,
        actor=actor,
        action=Action.REVOKE_CLEARANCE,
        reason=reason,
        apply=revoke,
        details={"reason": reason},
    )


def withdraw(*, case: Case, actor, reason: str = "") -> Case:
    """Withdraw the case at the company's request."""
    return _transition(case=case, actor=actor, action=Action.WITHDRAW, details={"reason": reason})


def close_case(*, case: Case, actor, reason: str = "") -> Case:
    """Close the case on CAISI's side, with the reason on record."""
    return _transition(
        case=case, actor=actor, action=Action.CLOSE_CASE, reason=reason, details={"reason": reason}
    )


ACTION_SERVICES = {
    Action.SUBMIT_INTAKE: submit_intake,
    Action.ASSIGN_CASE_MANAGER: assign_case_manager,
    Action.VERIFY_ACCESS: verify_access,
    Action.ACCEPT_DOCUMENTATION: accept_documentation,
    Action.SHARE_FINDINGS: share_findings,
    Action.RESUBMIT: resubmit,
    Action.ISSUE_CLEARANCE: issue_clearance,
    Action.REVOKE_CLEARANCE: revoke_clearance,
    Action.WITHDRAW: withdraw,
    Action.CLOSE_CASE: close_case,
}


def perform(*, case: Case, actor, action: str, **params) -> Case:
    """Run the named action's service (the entry point of action URLs and the API)."""
    try:
        service = ACTION_SERVICES[Action(action)]
    except ValueError:
        raise ActionRefused(f"There is no action “{action}”.") from None
    accepted = set(inspect.signature(service).parameters) - {"case", "actor"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ActionRefused(f"{Action(action).label} takes no {', '.join(unknown)}.")
    return service(case=case, actor=actor, **params)


# --- notifications -------------------------------------------------------------


def notify_event(*, event_id: int) -> int:
    """Create the in-app notices for one event, once per person; return how many are new."""
    from . import notifications

    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return 0
    case = event.case
    people = set(case.evaluators.values_list("pk", flat=True))
    people.update(
        notifications.people_concerned(
            case=case,
            company=not event.internal,
            # Until a case manager is named, the whole desk hears of the case's moves only.
            caisi=bool(case.case_manager_id or event.to_status),
        )
    )
    people.discard(event.actor_id)
    return notifications.create_notifications(
        user_ids=people,
        case=case,
        kind=notifications.kind_of(event),
        text=notifications.describe(event, case),
        event=event,
    )


# --- assignment of evaluators ---------------------------------------------------


@transaction.atomic
def assign_evaluator(*, case: Case, actor, evaluator) -> Case:
    """Give an evaluator access to the case; refused on a declared conflict."""
    from accounts.models import ConflictOfInterest, Role

    locked = Case.objects.select_for_update().get(pk=case.pk)
    if actor.role != Role.CASE_MANAGER or not policy.can_view(actor, locked):
        raise ActionRefused("Only a case manager can assign evaluators.")
    if not locked.is_open:
        raise ActionRefused("Evaluators can only be assigned to an open case.")
    if evaluator.role != Role.EVALUATOR or not evaluator.is_active:
        raise ActionRefused(f"{evaluator} is not an active evaluator.")
    conflicts = ConflictOfInterest.objects.active().filter(
        user=evaluator, organization_id=locked.organization_id
    )
    if conflicts:
        raise ActionRefused(
            [f"{evaluator} has declared a conflict of interest: {c.reason}" for c in conflicts]
        )
    if locked.evaluators.filter(pk=evaluator.pk).exists():
        return locked
    locked.evaluators.add(evaluator)
    record_event(
        case=locked,
        actor=actor,
        verb="evaluator_assigned",
        details={"evaluator": evaluator.email},
        internal=True,
    )
    return locked


# --- the service-level clock -------------------------------------------------------


def pause_clock(*, case: Case, reason: str = "", at=None) -> None:
    """Stop the case's service-level clock, unless it already stands still."""
    from .models import ClockPause

    with transaction.atomic():
        Case.objects.select_for_update().only("pk").get(pk=case.pk)
        if not ClockPause.objects.filter(case_id=case.pk, ended_at__isnull=True).exists():
            ClockPause.objects.create(
                case_id=case.pk, started_at=at or timezone.now(), reason=reason[:200]
            )


def resume_clock(*, case: Case, at=None) -> None:
    """Let the case's service-level clock run again."""
    from .models import ClockPause

    with transaction.atomic():
        Case.objects.select_for_update().only("pk").get(pk=case.pk)
        ClockPause.objects.filter(case_id=case.pk, ended_at__isnull=True).update(
            ended_at=at or timezone.now()
        )


# --- the case's message thread -------------------------------------------------------


@transaction.atomic
def post_message(*, case: Case, actor, body: str, internal: bool = False):
    """Add a message to the case's thread; shared ones notify the company."""
    from findings.policy import can_post_internal, can_post_message

    from .models import Message

    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not policy.can_view(actor, locked):
        raise CaseNotFound(locked.number)
    if not can_post_message(actor, locked):
        raise ActionRefused("You cannot write in this case's thread.")
    if internal and not can_post_internal(actor):
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


# --- assignment from the triage queue ---------------------------------------------------


def assign_in_bulk(*, cases, actor, person) -> dict[str, list[str]]:
    """Assign one person to many cases, each on its own; return each case's refusals.

    A case manager is named on cases in triage; an evaluator is added to any
    open case. One refused case does not undo the others.
    """
    from accounts.models import Role

    refusals: dict[str, list[str]] = {}
    for case in cases:
        try:
            if person.role == Role.CASE_MANAGER:
                assign_case_manager(case=case, actor=actor, manager=person)
            elif person.role == Role.EVALUATOR:
                assign_evaluator(case=case, actor=actor, evaluator=person)
            else:
                raise ActionRefused(f"{person} is neither a case manager nor an evaluator.")
        except ActionRefused as refusal:
            refusals[case.number] = refusal.blockers
        except CaseNotFound:
            refusals[case.number] = ["You cannot see this case."]
    return refusals
