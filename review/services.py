"""The lifecycle's actions and the desk's assignments: one function per use case.

A transition locks the case row, checks who acts, the status (and after
clearance the deployment status), the action's parameters and the gate,
changes the status or the deployment status, appends one timeline event, and
leaves the work that follows (notices, deadlines, webhooks) to the outbox.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from accounts.models import ConflictOfInterest, Organization, Role
from cases import access
from cases.models import Case
from cases.services import record_event
from cases.status import OPEN_STATUSES, Status
from clearance.apps import STATEMENT_CONTENT
from clearance.models import ClearanceStatement
from clearance.services import (
    STANDING,
    create_statement,
    draft_statement,
    reinstate_statement,
    revoke_statements,
    suspend_statement,
)
from core.errors import ActionRefused, BadInput, CaseNotFound, NotAllowed
from core.records import CONTENT_KEY
from core.security_log import security_event
from findings.models import Finding, FindingState
from incidents import services as incident_services
from incidents.models import MaterialChange
from review import export
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
    fields: list[str] = field(default_factory=list)


@contextmanager
def transition(*, case: Case, actor, action: Action, **params) -> Iterator[Step]:
    """Move the case by this action: lock, check who acts, status, parameters and gate.

    The body of the `with` block runs with the case locked and its new status
    (or new deployment status) set, and adds what the action does; on leaving
    it the case is saved and one timeline event recorded, in the same transaction.
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
            roles = " or ".join(sorted(r.label.lower() for r in spec.actors))
            # Not this person's to take (403), whatever the case's state.
            raise NotAllowed(f"Only a {roles} can {action.label.lower()}.")
        if locked.status not in spec.sources:
            raise ActionRefused(
                f"{action.label} is not possible while the case is in "
                f"{locked.get_status_display().lower()}."
            )
        if (
            spec.deployment_sources is not None
            and locked.deployment_status not in spec.deployment_sources
        ):
            raise ActionRefused(
                f"{action.label} is not possible while the model is "
                f"{locked.get_deployment_status_display().lower()}."
            )
        missing = [
            name
            for name in spec.params
            if params.get(name) in (None, "")
            or (isinstance(params.get(name), str) and not params[name].strip())
        ]
        if missing:
            raise BadInput([f"The {name.replace('_', ' ')} is required." for name in missing])
        blockers = spec.gate(locked, **params)
        if blockers:
            raise ActionRefused(blockers)

        now = timezone.now()
        from_status = locked.status
        step = Step(case=locked)
        if spec.target is not None:
            locked.status = spec.target
            locked.status_changed_at = now
            step.fields += ["status", "status_changed_at"]
        if spec.deployment_target is not None:
            step.details["deployment"] = {
                "from": locked.deployment_status,
                "to": spec.deployment_target,
            }
            locked.deployment_status = spec.deployment_target
            locked.deployment_changed_at = now
            step.fields += ["deployment_status", "deployment_changed_at"]
        yield step
        if step.fields:
            locked.save(update_fields=step.fields)
        record_event(
            case=locked,
            actor=actor,
            verb=action.value,
            from_status=from_status if spec.target is not None else "",
            to_status=spec.target or "",
            details=step.details,
        )


def _answers(step: Step, incident, action: Action) -> None:
    """Link the incident this action answers, if one is named, and record it with the step."""
    number = incident_services.link_response(case=step.case, number=incident, action=action)
    if number is not None:
        step.details["incident"] = number


def end_of_day(day: dt.date) -> dt.datetime:
    """Return the first moment after this day, in the portal's time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _not_after_today(day, what: str) -> None:
    if day is not None and day > timezone.localdate():
        raise BadInput(f"The {what} is in the future.")


def submit_intake(*, case: Case, actor) -> Case:
    """Send the completed intake to CAISI (step 1 → 2); the versions are frozen."""
    with transition(case=case, actor=actor, action=Action.SUBMIT_INTAKE) as step:
        # From now on the case is CAISI's to see (`cases.access`), not before.
        step.case.submitted_at = step.case.status_changed_at
        step.fields.append("submitted_at")
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
    *,
    case: Case,
    actor,
    version: ModelVersion | None = None,
    scope_items: list[str] | None = None,
    scope: str = "",
    condition_items: list[str] | None = None,
    conditions: str = "",
    valid_until: dt.date | None = None,
    monitoring_every_days: int | None = None,
    monitoring_for_days: int | None = None,
) -> Case:
    """Clear the named version, the one CAISI tested, and create its statement (step 6 → 7).

    The scope is chosen from `clearance.models.Scope` (keys) and may be
    described further in `scope`; the conditions likewise. The statement is
    created being signed: a worker renders and signs its PDF after the commit.

    A validity period ends after `valid_until`; monitoring conditions ask for a
    report every `monitoring_every_days` for `monitoring_for_days` (a year unless said).
    """
    if version is not None and version.case_id != case.pk:
        raise ActionRefused("That model version belongs to another case.")
    if valid_until is not None and valid_until <= timezone.localdate():
        raise BadInput("The end of the validity period must be after today.")
    if monitoring_for_days and not monitoring_every_days:
        raise BadInput("Say how often a monitoring report is due.")
    with transition(
        case=case, actor=actor, action=Action.ISSUE_CLEARANCE, version=version, scope=scope
    ) as step:
        superseded = list(
            step.case.clearance_statements.filter(status__in=STANDING).values_list(
                "number", flat=True
            )
        )
        statement = create_statement(
            case=step.case,
            official=actor,
            version=version,
            scope_items=scope_items or [],
            scope=scope,
            condition_items=condition_items or [],
            conditions=conditions,
            valid_until=end_of_day(valid_until) if valid_until else None,
        )
        # The timeline names the statements, so their numbers are on the hash chain.
        step.details.update(
            version=version.label,
            digest=statement.digest,
            digest_verification=statement.digest_verification,
            scope_items=statement.scope_items,
            scope=statement.scope,
            condition_items=statement.condition_items,
            conditions=statement.conditions,
            statement=statement.number,
        )
        if valid_until:
            step.details["valid_until"] = valid_until.isoformat()
        if monitoring_every_days:
            reports = incident_services.schedule_monitoring_reports(
                case=step.case,
                statement_number=statement.number,
                every_days=monitoring_every_days,
                for_days=monitoring_for_days or 365,
                start=statement.issued_at,
            )
            step.details["monitoring_reports"] = {
                "every_days": monitoring_every_days,
                "count": len(reports),
            }
        step.details[CONTENT_KEY] = STATEMENT_CONTENT.sha256(statement)
        if superseded:
            step.details["supersedes"] = superseded
    return step.case


def preview_clearance(
    *,
    case: Case,
    actor,
    version: ModelVersion | None = None,
    scope_items: list[str] | None = None,
    scope: str = "",
    condition_items: list[str] | None = None,
    conditions: str = "",
    valid_until: dt.date | None = None,
    monitoring_every_days: int | None = None,
    monitoring_for_days: int | None = None,
) -> ClearanceStatement:
    """Return the statement `issue_clearance` would create with these choices, unsaved.

    The same checks as the issue itself, short of the lock: who acts, the status,
    the gate and the content, so what the official previews is what can be signed.
    """
    spec = TRANSITIONS[Action.ISSUE_CLEARANCE]
    if not access.can_view(actor, case):
        raise CaseNotFound(case.number)
    if actor.role not in spec.actors or case.status not in spec.sources:
        raise ActionRefused("Only a clearance official can issue clearance, from findings.")
    if version is None:
        raise BadInput("Choose the model version the statement names.")
    if version.case_id != case.pk:
        raise ActionRefused("That model version belongs to another case.")
    blockers = gate_blockers(case, Action.ISSUE_CLEARANCE, version=version)
    if blockers:
        raise ActionRefused(blockers)
    if valid_until is not None and valid_until <= timezone.localdate():
        raise BadInput("The end of the validity period must be after today.")
    if monitoring_for_days and not monitoring_every_days:
        raise BadInput("Say how often a monitoring report is due.")
    return draft_statement(
        case=case,
        official=actor,
        version=version,
        scope_items=scope_items or [],
        scope=scope,
        condition_items=condition_items or [],
        conditions=conditions,
        valid_until=end_of_day(valid_until) if valid_until else None,
    )


def revoke_clearance(*, case: Case, actor, reason: str = "", incident: int | None = None) -> Case:
    """Revoke the clearance, with the reason on record."""
    with transition(case=case, actor=actor, action=Action.REVOKE_CLEARANCE, reason=reason) as step:
        revoke_statements(case=step.case, reason=reason, actor=actor)
        step.details["reason"] = reason
        _answers(step, incident, Action.REVOKE_CLEARANCE)
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


# --- after clearance ------------------------------------------------------------------


def report_release(*, case: Case, actor, release_date=None, channel: str = "", notes: str = ""):
    """Record that the cleared model is in service (again, after a restriction or suspension)."""
    _not_after_today(release_date, "release date")
    with transition(
        case=case,
        actor=actor,
        action=Action.REPORT_RELEASE,
        release_date=release_date,
        channel=channel,
    ) as step:
        step.details.update(
            release_date=release_date.isoformat(), channel=channel.strip(), notes=notes.strip()
        )
    return step.case


def restrict_deployment(
    *, case: Case, actor, uses: str = "", reason: str = "", incident: int | None = None
) -> Case:
    """Limit the model's use to a reduced set of uses, with the reason."""
    with transition(
        case=case, actor=actor, action=Action.RESTRICT_DEPLOYMENT, uses=uses, reason=reason
    ) as step:
        step.details.update(uses=uses.strip(), reason=reason.strip())
        _answers(step, incident, Action.RESTRICT_DEPLOYMENT)
    return step.case


def suspend_deployment(
    *,
    case: Case,
    actor,
    reason: str = "",
    expected_end=None,
    incident: int | None = None,
) -> Case:
    """Prohibit all use of the model for a while, for remediation."""
    if expected_end is not None and expected_end < timezone.localdate():
        raise BadInput("The expected end of the suspension is in the past.")
    with transition(
        case=case, actor=actor, action=Action.SUSPEND_DEPLOYMENT, reason=reason
    ) as step:
        step.details["reason"] = reason.strip()
        if expected_end:
            step.details["expected_end"] = expected_end.isoformat()
        _answers(step, incident, Action.SUSPEND_DEPLOYMENT)
    return step.case


def retire_deployment(
    *, case: Case, actor, reason: str = "", retired_on=None, incident: int | None = None
) -> Case:
    """Take the model permanently out of service (it stays monitored: incidents still count)."""
    _not_after_today(retired_on, "retirement date")
    with transition(case=case, actor=actor, action=Action.RETIRE_DEPLOYMENT, reason=reason) as step:
        step.details.update(
            reason=reason.strip(), retired_on=(retired_on or timezone.localdate()).isoformat()
        )
        _answers(step, incident, Action.RETIRE_DEPLOYMENT)
    return step.case


def suspend_clearance(*, case: Case, actor, reason: str = "", incident: int | None = None) -> Case:
    """Suspend the valid statement; the verification page says so, the PDF stays as signed."""
    with transition(case=case, actor=actor, action=Action.SUSPEND_CLEARANCE, reason=reason) as step:
        statement = suspend_statement(case=step.case, actor=actor, reason=reason.strip())
        step.details.update(
            statement=statement.number, statement_status=statement.status, reason=reason.strip()
        )
        _answers(step, incident, Action.SUSPEND_CLEARANCE)
    return step.case


def reinstate_clearance(*, case: Case, actor, reason: str = "") -> Case:
    """Put the suspended statement back in force; its history keeps the suspension."""
    with transition(
        case=case, actor=actor, action=Action.REINSTATE_CLEARANCE, reason=reason
    ) as step:
        statement = reinstate_statement(case=step.case, actor=actor, reason=reason.strip())
        step.details.update(
            statement=statement.number, statement_status=statement.status, reason=reason.strip()
        )
    return step.case


def declare_material_change(*, case: Case, actor, change: str = "") -> Case:
    """The company declares a change since release; CAISI decides whether to review again."""
    with transition(
        case=case, actor=actor, action=Action.DECLARE_MATERIAL_CHANGE, change=change
    ) as step:
        declared = incident_services.declare_material_change(
            case=step.case, actor=actor, description=change
        )
        step.details.update(change=declared.description)
    return step.case


def accept_material_change(*, case: Case, actor, reason: str = "") -> Case:
    """Decide that the declared change needs no new review, with the reason on record."""
    with transition(
        case=case, actor=actor, action=Action.ACCEPT_MATERIAL_CHANGE, reason=reason
    ) as step:
        incident_services.decide_material_change(
            case=step.case, actor=actor, decision=MaterialChange.Decision.NO_REVIEW, reason=reason
        )
        step.details["reason"] = reason.strip()
    return step.case


def require_resubmission(
    *, case: Case, actor, reason: str = "", incident: int | None = None
) -> Case:
    """Decide that a revised version must be resubmitted (then `resubmit` takes it to testing)."""
    with transition(
        case=case, actor=actor, action=Action.REQUIRE_RESUBMISSION, reason=reason
    ) as step:
        incident_services.decide_material_change(
            case=step.case, actor=actor, decision=MaterialChange.Decision.RESUBMIT, reason=reason
        )
        step.details["reason"] = reason.strip()
        _answers(step, incident, Action.REQUIRE_RESUBMISSION)
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
    Action.REPORT_RELEASE: report_release,
    Action.RESTRICT_DEPLOYMENT: restrict_deployment,
    Action.SUSPEND_DEPLOYMENT: suspend_deployment,
    Action.RETIRE_DEPLOYMENT: retire_deployment,
    Action.SUSPEND_CLEARANCE: suspend_clearance,
    Action.REINSTATE_CLEARANCE: reinstate_clearance,
    Action.DECLARE_MATERIAL_CHANGE: declare_material_change,
    Action.ACCEPT_MATERIAL_CHANGE: accept_material_change,
    Action.REQUIRE_RESUBMISSION: require_resubmission,
}


def perform(*, case: Case, actor, action: str, **params) -> Case:
    """Run the named action's service (the entry point of action URLs and the API)."""
    try:
        action = Action(action)
    except ValueError:
        raise ActionRefused(f"There is no action “{action}”.") from None
    unknown = sorted(set(params) - TRANSITIONS[action].accepts)
    if unknown:
        raise BadInput(f"{action.label} takes no {', '.join(unknown)}.")
    return ACTION_SERVICES[action](case=case, actor=actor, **params)


@transaction.atomic
def assign_evaluator(*, case: Case, actor, evaluator) -> Case:
    """Give an evaluator access to the case; refused on a declared conflict."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if actor.role != Role.CASE_MANAGER or not access.can_view(actor, locked):
        raise NotAllowed("Only a case manager can assign evaluators.")
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


# --- conflicts of interest -----------------------------------------------------------

# Where a declared conflict undoes an assignment: the cases still being worked on.
WORKED_ON = OPEN_STATUSES | {Status.CLEARED}


@transaction.atomic
def declare_conflict(
    *,
    actor,
    organization: Organization,
    reason: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> ConflictOfInterest:
    """Declare the actor's conflict with a company; they leave its cases at once.

    While it is in force the person sees none of the company's cases
    (`cases.access`), and on declaring it they are taken off those they were
    assigned to, each change on that case's timeline.
    """
    if not actor.is_authenticated or not actor.is_caisi_staff:
        raise ActionRefused("Conflicts of interest are declared by CAISI staff.")
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Give the reason for the conflict.")
    today = timezone.localdate()
    valid_from = valid_from or today
    if valid_until is not None and valid_until < valid_from:
        raise ActionRefused("The conflict cannot end before it begins.")
    conflict = ConflictOfInterest.objects.create(
        user=actor,
        organization=organization,
        reason=reason,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    # Taken off at once, even for a conflict that begins later: no hand-over is
    # left to a day nobody watches.
    _leave_assignments(person=actor, organization=organization)
    access.forget_conflicts(actor)
    return conflict


def _leave_assignments(*, person, organization: Organization) -> None:
    """Take a conflicted person off the company's cases they were assigned to."""
    cases = Case.objects.filter(organization=organization, status__in=WORKED_ON)
    managed = cases.filter(case_manager=person).select_for_update()
    for case in managed:
        case.case_manager = None
        case.save(update_fields=["case_manager"])
        # The company sees its case manager leave; the reason is CAISI's own.
        record_event(case=case, actor=person, verb="case_manager_withdrew", details={})
    for case in cases.filter(evaluators=person).select_for_update():
        case.evaluators.remove(person)
        record_event(
            case=case,
            actor=person,
            verb="evaluator_withdrew",
            details={"evaluator": person.email, "reason": "declared a conflict of interest"},
            internal=True,
        )


@transaction.atomic
def end_conflict(*, actor, conflict: ConflictOfInterest, reason: str) -> ConflictOfInterest:
    """End a colleague's conflict early: another case manager's decision, with a reason.

    The conflict stays on record, in force through today; the ending is on the
    conflicts page, on the timelines of the company's open cases and in the
    security log.
    """
    if not actor.is_authenticated or actor.role != Role.CASE_MANAGER or not actor.is_active:
        raise NotAllowed("Only a case manager can end a conflict of interest early.")
    conflict = (
        ConflictOfInterest.objects.select_for_update().select_related("user").get(pk=conflict.pk)
    )
    if conflict.user_id == actor.pk:
        raise NotAllowed(
            "You cannot end your own conflict of interest: another case manager decides that."
        )
    reason = reason.strip()
    if not reason:
        raise BadInput("Give the reason for ending the conflict early.")
    today = timezone.localdate()
    if conflict.valid_until is not None and conflict.valid_until < today:
        raise ActionRefused("This conflict has ended already.")
    if conflict.valid_from > today:
        raise ActionRefused("This conflict has not begun yet, so it cannot be ended early.")
    # Its last day is today, as the person ending it means, and never before its first.
    conflict.valid_until = today
    conflict.ended_at = timezone.now()
    conflict.ended_by = actor
    conflict.end_reason = reason
    conflict.save(update_fields=["valid_until", "ended_at", "ended_by", "end_reason"])
    for case in Case.objects.submitted().filter(
        organization_id=conflict.organization_id, status__in=WORKED_ON
    ):
        record_event(
            case=case,
            actor=actor,
            verb="conflict_ended_early",
            details={"person": conflict.user.email, "last_day": today, "reason": reason},
            internal=True,
        )
    security_event(
        "conflict_ended_early",
        user=actor,
        conflict=conflict.pk,
        person=conflict.user.email,
        organization=conflict.organization_id,
        reason=reason,
    )
    access.forget_conflicts(conflict.user)
    return conflict


def export_record(
    *, case: Case, actor, output: IO[bytes], company_view: bool = False, operator: str = ""
) -> export.WrittenRecord:
    """Write the case's signed record to `output`, and put the export on the timeline.

    CAISI staff get the whole record; the company, of its own case, what it sees
    on the portal. No actor is an operator at the command line (`operator`
    names them), who gets CAISI's record. `company_view` writes the company's
    record whoever asks. The event names the manifest's SHA-256, so the
    timeline says which archive left the portal.
    """
    if actor is not None:
        if not access.can_view(actor, case):
            raise CaseNotFound(case.number)
        internal = access.can_see_internal(actor) and not company_view
        exported_by = {"name": str(actor), "email": actor.email, "role": actor.role}
    else:
        internal = not company_view
        exported_by = {"operator": operator or "unknown", "via": "manage.py export_case"}
    written = export.write_record(
        case=case, internal=internal, exported_by=exported_by, output=output
    )
    record_event(
        case=case,
        actor=actor,
        verb="record_exported",
        details={
            "audience": written.audience,
            "manifest_sha256": written.manifest_sha256,
            "files": written.files,
            "events": written.events,
            **({"operator": exported_by["operator"]} if actor is None else {}),
        },
        internal=internal,
    )
    return written
