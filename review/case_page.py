"""The case page's reads: the case and every row its panels, gates and tasks show, at once.

The panels of the submissions, findings and clearance apps, the gates and the
person's tasks each ask the case for its rows (`case.versions.all()`, or
`core.folding.prefetched`); read here with the case in its one query, they
cost no query of their own, however long the case has run.
"""

from django.db.models import prefetch_related_objects
from django.http import Http404

from accounts.models import User
from cases import access
from cases.models import Case, ClockPause
from clearance.models import ClearanceStatement
from core import folding
from core.folding import Fold
from findings.models import ClarificationRequest, EvaluationRun, Finding
from incidents.models import Incident, MaterialChange, MonitoringReport
from submissions.models import AccessGrant, ChecklistEntry, Document, ModelVersion

# The case's rows its page shows, read with the case in its one query.
CASE_PAGE_FOLDS = (
    Fold("clock_pauses", ClockPause.objects.all()),
    Fold("evaluators", User.objects.all()),
    Fold("versions", ModelVersion.objects.all()),
    Fold("access_grants", AccessGrant.objects.all(), related=("revoked_by",)),
    Fold("documents", Document.objects.all()),
    Fold("checklist_entries", ChecklistEntry.objects.all()),
    Fold("clarification_requests", ClarificationRequest.objects.all(), related=("asked_by",)),
    Fold("evaluations", EvaluationRun.objects.all()),
    Fold("findings", Finding.objects.all()),
    Fold("clearance_statements", ClearanceStatement.objects.all()),
    Fold("monitoring_reports", MonitoringReport.objects.all(), related=("document",)),
    Fold("incidents", Incident.objects.all()),
    Fold("material_changes", MaterialChange.objects.all(), related=("declared_by", "decided_by")),
)


def case_for_page(user, number: str) -> Case:
    """Return the visible case with every row its page shows, in one query (or a 404)."""
    cases = (
        Case.objects.visible_to(user)
        .select_related("organization__point_of_contact", "case_manager")
        .filter(number=number)
    )
    found = folding.fetch(cases, CASE_PAGE_FOLDS)
    if not found:
        raise Http404("No case with that number is visible to you.")
    case = found[0]
    access.mark_read_through_visible_to(case, user)
    versions = list(case.versions.all())
    grants, runs = list(case.access_grants.all()), list(case.evaluations.all())
    findings = list(case.findings.all())
    # Each version's grants and runs, and what each row points at, from the rows just read.
    for version in versions:
        folding.remember(
            version, "access_grants", [g for g in grants if g.model_version_id == version.pk]
        )
        folding.remember(
            version, "evaluations", [r for r in runs if r.model_version_id == version.pk]
        )
    folding.attach(grants, "model_version", versions)
    folding.attach(runs, "model_version", versions)
    folding.attach(findings, "model_version", versions)
    folding.attach(findings, "evaluation", runs)
    prefetch_related_objects(findings, "responses")
    prefetch_related_objects(list(case.clearance_statements.all()), "history")
    return case
