"""The after-release part of a case's exported record: incidents, monitoring reports, changes."""

from cases.access import name_in_record
from incidents.models import Incident, IncidentNote, MaterialChange, MonitoringReport


def write_after_release(record, case, internal: bool) -> None:
    """Write the case's incidents with their notes (internal ones in CAISI's record only),
    its monitoring reports and its declared material changes."""
    notes = IncidentNote.objects.filter(incident__case=case).select_related("author")
    if not internal:
        notes = notes.filter(internal=False)
    by_incident: dict[int, list[dict]] = {}
    for note in notes.order_by("created_at", "pk"):
        by_incident.setdefault(note.incident_id, []).append(
            {
                "kind": note.kind,
                "author": name_in_record(note.author, internal),
                "body": note.body,
                "internal": note.internal,
                "created_at": note.created_at,
            }
        )
    incidents = Incident.objects.filter(case=case).select_related("reported_by").order_by("number")
    record.add_json(
        "incidents.json",
        [
            {
                "number": i.number,
                "summary": i.summary,
                "detected_at": i.detected_at,
                "severity": i.severity,
                "affected_versions": i.affected_versions,
                "affected_uses": i.affected_uses,
                "users_affected": i.users_affected,
                "mitigations": i.mitigations,
                "reported_by": name_in_record(i.reported_by, internal),
                "reported_at": i.reported_at,
                "initial_report_at": i.initial_report_at,
                "last_update_at": i.last_update_at,
                "resolved_at": i.resolved_at,
                "final_report_at": i.final_report_at,
                "triage_state": i.triage_state,
                "conclusion": i.conclusion,
                "closed_at": i.closed_at,
                "response_action": i.response_action,
                "notes": by_incident.get(i.pk, []),
            }
            for i in incidents
        ],
    )
    record.add_json(
        "monitoring_reports.json",
        [
            {
                "statement": r.statement_number,
                "sequence": r.sequence,
                "due_at": r.due_at,
                "state": r.state,
                "document": r.document_id,
                "submitted_at": r.submitted_at,
                "review_comment": r.review_comment,
                "reviewed_by": name_in_record(r.reviewed_by, internal),
                "reviewed_at": r.reviewed_at,
            }
            for r in MonitoringReport.objects.filter(case=case).order_by("due_at", "pk")
        ],
    )
    record.add_json(
        "material_changes.json",
        [
            {
                "description": c.description,
                "declared_by": name_in_record(c.declared_by, internal),
                "declared_at": c.declared_at,
                "decision": c.decision,
            }
            for c in MaterialChange.objects.filter(case=case).order_by("declared_at", "pk")
        ],
    )
