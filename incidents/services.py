"""Every write after release: incidents and their notes, monitoring reports, material changes.

Each function is one use case, called by views, the API, the lifecycle's
services and the demo alike; each change is one timeline event.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role
from cases import access
from cases.models import Case
from cases.services import record_event
from cases.status import DeploymentStatus, Status
from core.errors import ActionRefused, BadInput, CaseNotFound, NotAllowed
from core.folding import prefetched
from incidents.models import (
    Incident,
    IncidentNote,
    IncidentSeverity,
    MaterialChange,
    MonitoringReport,
    ReportState,
    TriageState,
)
from submissions import services as submissions_services
from submissions.models import DocumentKind

# The longest text a field of an incident takes: a report, not an archive.
MAX_TEXT = 10_000
# Who triages incidents and reviews monitoring reports: CAISI's side of the case.
TRIAGERS = frozenset({Role.CASE_MANAGER, Role.CLEARANCE_OFFICIAL})
# A model that has been in service: incidents may be reported on it, retired ones too.
IN_SERVICE = frozenset(
    {
        DeploymentStatus.RELEASED,
        DeploymentStatus.RESTRICTED,
        DeploymentStatus.SUSPENDED,
        DeploymentStatus.RETIRED,
    }
)
INCIDENT_FIELDS = (
    "summary",
    "detected_at",
    "severity",
    "affected_versions",
    "affected_uses",
    "users_affected",
    "mitigations",
)
# What the company may revise with an update (the rest is on record as first reported).
UPDATABLE_FIELDS = ("affected_versions", "affected_uses", "users_affected", "mitigations")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text_problems(values: dict[str, Any]) -> list[str]:
    return [
        f"The {name.replace('_', ' ')} is longer than {MAX_TEXT:,} characters."
        for name, value in values.items()
        if isinstance(value, str) and len(value) > MAX_TEXT
    ]


def _lock_visible(case: Case, actor) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not access.can_view(actor, locked):
        raise CaseNotFound(locked.number)
    return locked


def _lock_incident(incident: Incident, actor) -> tuple[Case, Incident]:
    case = _lock_visible(incident.case, actor)
    return case, Incident.objects.select_for_update().get(pk=incident.pk)


def _writes(actor) -> bool:
    return actor.role in access.WRITES_MESSAGES


# --- incidents -------------------------------------------------------------------


def can_report_incident(user, case: Case) -> bool:
    """Whether this user may report an incident on this case now."""
    return (
        user.is_authenticated
        and _writes(user)
        and case.status in (Status.CLEARED, Status.REVOKED)
        and case.deployment_status in IN_SERVICE
        and access.can_view(user, case)
    )


def report_incident(
    *,
    case: Case,
    actor,
    summary: str,
    detected_at: dt.datetime,
    severity: str,
    affected_versions: str = "",
    affected_uses: str = "",
    users_affected: str = "",
    mitigations: str = "",
) -> Incident:
    """Record a post-release incident; the company's own report is its initial report."""
    problems = []
    if _blank(summary):
        problems.append("Say what happened.")
    if severity not in IncidentSeverity.values:
        problems.append("Choose the severity: critical, high, medium or low.")
    if detected_at is None:
        problems.append("Say when the incident was detected.")
    elif timezone.is_naive(detected_at):
        problems.append("Give the detection time with its time zone.")
    elif detected_at > timezone.now() + dt.timedelta(minutes=5):
        problems.append("The detection time is in the future.")
    problems += _text_problems(
        {
            "summary": summary,
            "affected versions": affected_versions,
            "affected uses": affected_uses,
            "mitigations": mitigations,
        }
    )
    if len(users_affected or "") > 200:
        problems.append("Say how many users were affected in at most 200 characters.")
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        locked = _lock_visible(case, actor)
        if not _writes(actor):
            raise NotAllowed("Only the company or CAISI staff report incidents.")
        if locked.status not in (Status.CLEARED, Status.REVOKED):
            raise ActionRefused("Incidents are reported on a cleared model.")
        if locked.deployment_status not in IN_SERVICE:
            raise ActionRefused(
                "Incidents are reported on a released model: report the release first."
            )
        now = timezone.now()
        last = locked.incidents.aggregate(n=Max("number"))["n"] or 0
        by_company = actor.role == Role.LIAISON
        incident = Incident.objects.create(
            case=locked,
            number=last + 1,
            summary=summary.strip(),
            detected_at=detected_at,
            severity=severity,
            affected_versions=affected_versions.strip(),
            affected_uses=affected_uses.strip(),
            users_affected=users_affected.strip(),
            mitigations=mitigations.strip(),
            reported_by=actor,
            reported_at=now,
            # CAISI may open an incident it learned of elsewhere: then the company's
            # initial report is still due.
            initial_report_at=now if by_company else None,
            last_update_at=now if by_company else None,
        )
        record_event(
            case=locked,
            actor=actor,
            verb="incident_reported",
            details={"incident": incident.number, "severity": severity},
        )
    return incident


def update_incident(
    *,
    incident: Incident,
    actor,
    body: str,
    resolved: bool = False,
    final: bool = False,
    **changes: str,
) -> Incident:
    """File the company's report on an open incident: an update, the resolution, the final one.

    The first report on an incident CAISI opened is the initial report.
    """
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise BadInput(f"An update cannot change the {', '.join(unknown)}.")
    problems = []
    if _blank(body):
        problems.append("Say what is new in this report.")
    problems += _text_problems({"report": body, **changes})
    if len(changes.get("users_affected") or "") > 200:
        problems.append("Say how many users were affected in at most 200 characters.")
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        case, locked = _lock_incident(incident, actor)
        if actor.role != Role.LIAISON:
            raise NotAllowed("Only the company files reports on an incident.")
        if not locked.is_open:
            raise ActionRefused("The incident is closed.")
        if final and not (resolved or locked.resolved_at):
            raise ActionRefused("Mark the incident resolved with its final report.")
        if locked.final_report_at:
            raise ActionRefused("The final report is in; add a note instead.")
        now = timezone.now()
        fields = ["last_update_at"]
        for name, value in changes.items():
            if value is not None:
                setattr(locked, name, value.strip())
                fields.append(name)
        locked.last_update_at = now
        if locked.initial_report_at is None:
            locked.initial_report_at = now
            fields.append("initial_report_at")
        if resolved and locked.resolved_at is None:
            locked.resolved_at = now
            fields.append("resolved_at")
        if final:
            locked.final_report_at = now
            fields.append("final_report_at")
        locked.save(update_fields=fields)
        kind = IncidentNote.Kind.FINAL_REPORT if final else IncidentNote.Kind.UPDATE
        IncidentNote.objects.create(incident=locked, kind=kind, author=actor, body=body.strip())
        record_event(
            case=case,
            actor=actor,
            verb="incident_final_report" if final else "incident_updated",
            details={
                "incident": locked.number,
                "resolved": locked.resolved_at is not None,
                "fields": sorted(changes),
            },
        )
    return locked


def triage_incident(*, incident: Incident, actor, state: str, conclusion: str = "") -> Incident:
    """Move CAISI's triage on: acknowledged, under review, or closed with a conclusion."""
    if state not in (TriageState.ACKNOWLEDGED, TriageState.UNDER_REVIEW, TriageState.CLOSED):
        raise BadInput("Choose the triage state: acknowledged, under review or closed.")
    if state == TriageState.CLOSED and _blank(conclusion):
        raise BadInput("Give the conclusion: it is shown to the company.")
    problems = _text_problems({"conclusion": conclusion})
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        case, locked = _lock_incident(incident, actor)
        if actor.role not in TRIAGERS:
            raise NotAllowed("Only a case manager or a clearance official triages incidents.")
        if not locked.is_open:
            raise ActionRefused("The incident is closed.")
        if locked.triage_state == state:
            raise ActionRefused(f"The incident is already {locked.get_triage_state_display()}.")
        from_state = locked.triage_state
        locked.triage_state = state
        fields = ["triage_state"]
        if state == TriageState.CLOSED:
            locked.conclusion = conclusion.strip()
            locked.closed_at = timezone.now()
            fields += ["conclusion", "closed_at"]
        locked.save(update_fields=fields)
        record_event(
            case=case,
            actor=actor,
            verb="incident_triaged",
            details={"incident": locked.number, "from": from_state, "to": state},
        )
    return locked


def add_incident_note(*, incident: Incident, actor, body: str, internal: bool = False):
    """Add a note to an incident: shared with the company, or internal to CAISI."""
    if _blank(body):
        raise BadInput("The note is empty.")
    problems = _text_problems({"note": body})
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        case, locked = _lock_incident(incident, actor)
        if not _writes(actor):
            raise NotAllowed("You cannot write on this incident.")
        if internal and not access.can_post_internal(actor):
            raise NotAllowed("Only CAISI staff can write internal notes.")
        note = IncidentNote.objects.create(
            incident=locked, author=actor, body=body.strip(), internal=internal
        )
        record_event(
            case=case,
            actor=actor,
            verb="incident_internal_note_added" if internal else "incident_note_added",
            details={"incident": locked.number, "note": note.pk},
            internal=internal,
        )
    return note


def link_response(*, case: Case, number: int | None, action: str) -> int | None:
    """Record that a lifecycle action answers an incident of the case (under its row lock)."""
    if number in (None, ""):
        return None
    incident = Incident.objects.select_for_update().filter(case=case, number=number).first()
    if incident is None:
        raise ActionRefused(f"This case has no incident {number}.")
    incident.response_action = action
    incident.response_at = timezone.now()
    incident.save(update_fields=["response_action", "response_at"])
    return incident.number


# --- monitoring reports ------------------------------------------------------------


def schedule_monitoring_reports(
    *, case: Case, statement_number: str, every_days: int, for_days: int, start=None
) -> list[MonitoringReport]:
    """Create the reports a clearance's conditions ask for: one every N days for a period."""
    if every_days <= 0 or for_days <= 0:
        raise BadInput("Monitoring reports need a positive interval and period.")
    if for_days // every_days > 100:
        raise BadInput("That asks for more than 100 monitoring reports: lengthen the interval.")
    start = start or timezone.now()
    reports = [
        MonitoringReport(
            case=case,
            statement_number=statement_number,
            sequence=n,
            due_at=start + dt.timedelta(days=every_days * n),
        )
        for n in range(1, for_days // every_days + 1)
    ]
    return MonitoringReport.objects.bulk_create(reports)


def submit_monitoring_report(
    *, report: MonitoringReport, actor, file, original_name: str
) -> MonitoringReport:
    """File a due monitoring report: the upload passes the document pipeline's checks."""
    case = report.case
    if not access.can_view(actor, case):
        raise CaseNotFound(case.number)
    if actor.role != Role.LIAISON:
        raise NotAllowed("Only the company files its monitoring reports.")
    if not report.awaits_company:
        raise ActionRefused("This monitoring report is not waiting on the company.")
    document = submissions_services.upload_document(
        case=case,
        actor=actor,
        kind=DocumentKind.MONITORING_REPORT,
        file=file,
        original_name=original_name,
        title=f"Monitoring report {report.sequence} ({report.statement_number})",
    )
    with transaction.atomic():
        locked_case = _lock_visible(case, actor)
        locked = MonitoringReport.objects.select_for_update().get(pk=report.pk)
        if not locked.awaits_company:  # filed meanwhile by a colleague
            raise ActionRefused("This monitoring report was filed meanwhile.")
        locked.document = document
        locked.state = ReportState.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["document", "state", "submitted_at"])
        record_event(
            case=locked_case,
            actor=actor,
            verb="monitoring_report_submitted",
            details={"report": locked.sequence, "document": document.version_number},
        )
    return locked


def review_monitoring_report(
    *, report: MonitoringReport, actor, accept: bool, comment: str = ""
) -> MonitoringReport:
    """Accept a filed monitoring report, or ask for changes with a comment the company sees."""
    if not accept and _blank(comment):
        raise BadInput("Say what should change: the comment is shown to the company.")
    problems = _text_problems({"comment": comment})
    if problems:
        raise BadInput(problems)
    with transaction.atomic():
        case = _lock_visible(report.case, actor)
        if actor.role not in TRIAGERS:
            raise NotAllowed("Only a case manager or a clearance official reviews these reports.")
        locked = MonitoringReport.objects.select_for_update().get(pk=report.pk)
        if locked.state != ReportState.SUBMITTED:
            raise ActionRefused("Only a filed report awaiting review can be reviewed.")
        locked.state = ReportState.ACCEPTED if accept else ReportState.CHANGES_REQUESTED
        locked.review_comment = comment.strip()
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["state", "review_comment", "reviewed_by", "reviewed_at"])
        record_event(
            case=case,
            actor=actor,
            verb="monitoring_report_accepted" if accept else "monitoring_report_changes_requested",
            details={"report": locked.sequence, "comment": locked.review_comment},
        )
    return locked


# --- material changes ---------------------------------------------------------------


def pending_material_change(case: Case) -> MaterialChange | None:
    """Return the change the company declared that awaits CAISI's decision, if any."""
    read = prefetched(case, "material_changes")  # the case page read them with the case
    if read is None:
        return case.material_changes.filter(decision=MaterialChange.Decision.PENDING).first()
    return next((c for c in read if c.decision == MaterialChange.Decision.PENDING), None)


def declare_material_change(*, case: Case, actor, description: str) -> MaterialChange:
    """Record the company's declaration (the caller holds the case row lock)."""
    problems = _text_problems({"change": description})
    if problems:
        raise BadInput(problems)
    return MaterialChange.objects.create(
        case=case, description=description.strip(), declared_by=actor
    )


def decide_material_change(*, case: Case, actor, decision: str, reason: str) -> MaterialChange:
    """Record CAISI's decision on the pending declaration (the caller holds the case lock)."""
    change = pending_material_change(case)
    if change is None:
        raise ActionRefused("No declared material change awaits a decision.")
    change.decision = decision
    change.decision_reason = reason.strip()
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at"])
    return change
