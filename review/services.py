"""The lifecycle's actions and the desk's assignments: one function per use case.

A transition locks the case row, checks who acts, the status, the action's
parameters and the gate, changes the status, appends one timeline event, and
leaves the work that follows (notices, deadlines, webhooks) to the outbox.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import ConflictOfInterest, Role
from cases import access
from cases.models import Case
from cases.services import record_event
from clearance.services import create_statement, revoke_statements
from core.errors import ActionRefused, CaseNotFound
from findings.models import Finding, FindingState
from review.lifecycle import TRANSITIONS, Action
from submissions.models import ModelVersion


def gate_blockers(case: Case, action: str, **params) -> list[str]:
    """Return what the case still lacks for this action (empty when the gate is open)."""
    return TRANSITIONS[action].gate(case, **params)


@dataclass
class Step:
    """The case being moved, under its row lock, and what the move records with it."""

    case: Case
    details: dict[str, Any] = field(default_factory=dict)
    fields: list[str] = field(default_factory=lambda: ["status", "status_changed_at"])


@contextmanager
def transition(*, case: Case, actor, action: Action, **params) -> Iterator[Step]:
    """Move the case by this action: lock, check who acts, status, parameters and gate.

    The body of the `with` block runs with the case locked and its new status
    set, and adds what the action does; on leaving it the case is saved and
    one timeline event recorded, in the same transaction.
    """
    spec = TRANSITIONS[action]
    with transaction.atomic():
        try:
            locked = Case.objects.select_for_update().get(pk=case.pk)
        except Case.DoesNotExist:
            raise CaseNotFound(case.pk) from None
        if not access.can_view(actor, locked):
            raise CaseNotFound(locked.number)
        if actor.role not in spec.actors:
            roles = ", ".join(sorted(r.label.lower() for r in spec.actors))
            raise ActionRefused(f"Only a {roles} can {action.label.lower()}.")
        if locked.status not in spec.sources:
            raise ActionRefused(
                f"{action.label} is not possible while the case is in "
                f"{locked.get_status_display().lower()}."
            )
        missing = [
            name
            for name in spec.params
            if params.get(name) in (None, "")
            or (isinstance(params.get(name), str) and not params[name].strip())
        ]
        if missing:
            raise ActionRefused([f"The {name} is required." for name in missing])
        blockers = spec.gate(locked, **params)
        if blockers:
            raise ActionRefused(blockers)

        from_status = locked.status
        locked.status = spec.target
        locked.status_changed_at = timezone.now()
        step = Step(case=locked)
        yield step
        locked.save(update_fields=step.fields)
        record_event(
            case=locked,
            actor=actor,
            verb=action.value,
            from_status=from_status,
            to_status=spec.target,
            details=step.details,
        )


def submit_intake(*, case: Case, actor) -> Case:
    """Send the completed intake to CAISI (step 1 → 2); the versions are frozen."""
    with transition(case=case, actor=actor, action=Action.SUBMIT_INTAKE) as step:
        step.case.versions.filter(submitted_at__isnull=True).update(submitted_at=timezone.now())
    return step.case


def assign_case_manager(*, case: Case, actor, manager=None) -> Case:
    """Name the case manager (step 2 → 3)."""
    with transition(
        case=case, actor=actor, action=Action.ASSIGN_CASE_MANAGER, manager=manager
    ) as step:
        step.case.case_manager = manager
        step.fields.append("case_manager")
        step.details["case_manager"] = manager.email
    return step.case


def verify_access(*, case: Case, actor) -> Case:
    """Confirm CAISI can reach the model (step 3 → 4)."""
    with transition(case=case, actor=actor, action=Action.VERIFY_ACCESS) as step:
        pass
    return step.case


def accept_documentation(*, case: Case, actor) -> Case:
    """Accept the documentation package (step 4 → 5)."""
    with transition(case=case, actor=actor, action=Action.ACCEPT_DOCUMENTATION) as step:
        pass
    return step.case


def share_findings(*, case: Case, actor) -> Case:
    """Share every draft finding with the company at once (step 5 → 6)."""
    with transition(case=case, actor=actor, action=Action.SHARE_FINDINGS) as step:
        drafts = Finding.objects.filter(case=step.case, state=FindingState.DRAFT)
        step.details["findings"] = sorted(drafts.values_list("pk", flat=True))
        drafts.update(state=FindingState.SHARED, shared_at=timezone.now())
    return step.case


def resubmit(*, case: Case, actor) -> Case:
    """Send the case back to testing with the revised version (step 6 → 5).

    Earlier versions, their evaluations and findings stay on record, each
    linked to the version it concerns.
    """
    with transition(case=case, actor=actor, action=Action.RESUBMIT) as step:
        pending = step.case.versions.filter(submitted_at__isnull=True)
        step.details["versions"] = list(pending.values_list("label", flat=True))
        pending.update(submitted_at=timezone.now())
    return step.case


def issue_clearance(
    *, case: Case, actor, version: ModelVersion | None = None, scope: str = "", conditions: str = ""
) -> Case:
    """Clear the named version, the one CAISI tested, and create its statement (step 6 → 7)."""
    if version is not None and version.case_id != case.pk:
        raise ActionRefused("That model version belongs to another case.")
    with transition(
        case=case, actor=actor, action=Action.ISSUE_CLEARANCE, version=version, scope=scope
    ) as step:
        superseded = list(
            step.case.clearance_statements.filter(status="issued").values_list("number", flat=True)
        )
        statement = create_statement(
            case=step.case, official=actor, version=version, scope=scope, conditions=conditions
        )
        # The timeline names the statements, so their numbers are on the hash chain.
        step.details.update(
            version=version.label,
            digest=statement.digest,
            digest_verification=statement.digest_verification,
            scope=scope,
            conditions=conditions,
            statement=statement.number,
        )
        if superseded:
            step.details["supersedes"] = superseded
    return step.case


def revoke_clearance(*, case: Case, actor, reason: str = "") -> Case:
    """Revoke the clearance, with the reason on record."""
    with transition(case=case, actor=actor, action=Action.REVOKE_CLEARANCE, reason=reason) as step:
        revoke_statements(case=step.case, reason=reason)
        step.details["reason"] = reason
    return step.case


def withdraw(*, case: Case, actor, reason: str = "") -> Case:
    """Withdraw the case at the company's request."""
    with transition(case=case, actor=actor, action=Action.WITHDRAW) as step:
        step.details["reason"] = reason
    return step.case


def close_case(*, case: Case, actor, reason: str = "") -> Case:
    """Close the case on CAISI's side, with the reason on record."""
    with transition(case=case, actor=actor, action=Action.CLOSE_CASE, reason=reason) as step:
        step.details["reason"] = reason
    return step.case


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
        action = Action(action)
    except ValueError:
        raise ActionRefused(f"There is no action “{action}”.") from None
    unknown = sorted(set(params) - TRANSITIONS[action].accepts)
    if unknown:
        raise ActionRefused(f"{action.label} takes no {', '.join(unknown)}.")
    return ACTION_SERVICES[action](case=case, actor=actor, **params)


@transaction.atomic
def assign_evaluator(*, case: Case, actor, evaluator) -> Case:
    """Give an evaluator access to the case; refused on a declared conflict."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if actor.role != Role.CASE_MANAGER or not access.can_view(actor, locked):
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


def assign_in_bulk(*, cases, actor, person) -> dict[str, list[str]]:
    """Assign one person to many cases, each on its own; return each case's refusals.

    A case manager is named on cases in triage; an evaluator is added to any
    open case. One refused case does not undo the others.
    """
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
