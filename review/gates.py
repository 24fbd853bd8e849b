"""The gates of the lifecycle: each returns the blockers, an empty list when open.

A blocker is a sentence a person can act on; the case page lists them beside
the action they hold back, and a refused action shows them.
"""

from django.urls import reverse
from django.utils import timezone

from accounts.models import ConflictOfInterest, Role
from cases.intake import INTAKE_REQUIRED
from cases.models import Case
from clearance.models import ClearanceStatement
from clearance.services import standing_statement
from core.errors import Blocker
from core.folding import prefetched
from findings import selectors as findings_selectors
from findings.models import EvaluationRun
from incidents.services import pending_material_change
from submissions.models import (
    REQUIRED_DOCUMENT_KINDS,
    DocumentState,
    ModelVersion,
    revision_documentation_problems,
    version_access,
)
from submissions.selectors import unanswered_by_group


def always(case: Case, **params) -> list[str]:
    return []


def intake_complete(case: Case, **params) -> list[str]:
    blockers = [
        f"The intake is missing the {field.label}."
        for field in INTAKE_REQUIRED
        if getattr(case, field.name) in (None, "")
    ]
    if case.planned_release_date and case.planned_release_date < timezone.localdate():
        blockers.append("The planned release date is in the past.")
    versions = list(case.versions.all())
    if not versions:
        blockers.append("No model version is recorded: add its version label and VCS reference.")
    elif not any(v.vcs_reference and v.digest for v in versions):
        blockers.append(
            "No model version has both a VCS reference and an artifact or image digest."
        )
    return blockers


def case_manager_without_conflict(case: Case, *, manager=None, **params) -> list[str]:
    if manager is None:  # previewing the gate before a manager is chosen
        return []
    if manager.role != Role.CASE_MANAGER or not manager.is_active:
        return [f"{manager} is not an active case manager."]
    conflicts = ConflictOfInterest.objects.active().filter(
        user=manager, organization_id=case.organization_id
    )
    return [
        f"{manager} has declared a conflict of interest with {case.organization}: {c.reason}"
        for c in conflicts
    ]


def access_granted(case: Case, **params) -> list[str]:
    version = ModelVersion.objects.under_test(case)
    grants = list(case.access_grants.select_related("model_version"))
    if not grants:
        return ["No model access has been granted yet."]
    if version is not None:
        grants = [g for g in grants if g.model_version_id == version.pk]
        if not grants:
            return [f"No model access is recorded for version {version.label}, the one under test."]
    live = [g for g in grants if g.is_live()]
    if not live:
        return ["No access grant is live: each is revoked, expired, or has no expiry set."]
    # One live grant must carry everything: the NDA, and for uploaded weights a
    # verified checksum. The blockers name what the grants lack.
    if any(g.has_nda and g.is_ready() for g in live):
        return []
    blockers = []
    if not any(g.has_nda for g in live):
        blockers.append("No live access grant has an NDA recorded (reference and signing date).")
    if not any(g.is_ready() for g in live):
        if version is not None:
            blockers += list(version_access(version, grants).problems)
        else:
            blockers.append("The uploaded weights' checksum has not been verified.")
    if not blockers:
        blockers.append("The grant with the NDA recorded has no verified weights upload yet.")
    return blockers


def documentation_accepted(case: Case, **params) -> list[str]:
    """Open when every required document is accepted and every checklist practice answered."""
    latest = case.documents.latest_per_kind()
    blockers = []
    for kind in REQUIRED_DOCUMENT_KINDS:
        doc = latest.get(kind)
        if doc is None:
            blockers.append(f"The {kind.label.lower()} is missing.")
        elif doc.state != DocumentState.ACCEPTED:
            blockers.append(
                f"The {kind.label.lower()} (version {doc.version_number}) is "
                f"{doc.get_state_display().lower()}."
            )
    checklist = reverse("submissions:checklist", kwargs={"number": case.number})
    for group, practices in unanswered_by_group(list(case.checklist_entries.all())):
        titles = "; ".join(p.title for p in practices)
        count = f"{len(practices)} practice{'s' if len(practices) > 1 else ''}"
        blockers.append(
            Blocker(
                f"The deployment checklist's “{group.title}” section has {count} "
                f"unanswered: {titles}.",
                f"{checklist}#section-{group.key}",
            )
        )
    return blockers


def testing_complete(case: Case, **params) -> list[str]:
    """Open when the version under test has a completed run and nothing waits on the company."""
    return [b.text for b in findings_selectors.testing_blockers(case)]


def revised_version_ready(case: Case, **params) -> list[str]:
    """Open when the revised version is pinned, reachable by CAISI, and documented."""
    revised = ModelVersion.objects.revision_pending(case)
    if revised is None:
        return ["Add the revised model version before resubmitting."]
    blockers = []
    if not (revised.vcs_reference and revised.digest):
        blockers.append(
            f"The revised version {revised.label} needs a VCS reference and an artifact "
            "or image digest."
        )
    blockers += version_access(revised).problems
    blockers += revision_documentation_problems(revised, case.documents.all())
    return blockers


def clearable_versions(case: Case) -> list[ModelVersion]:
    """Return the versions a statement may name: the one under test, if CAISI reached and ran it."""
    version = ModelVersion.objects.under_test(case)
    if version is None or version_blockers(version):
        return []
    return [version]


def version_blockers(version: ModelVersion) -> list[str]:
    """Return why a statement may not name this version yet."""
    blockers = list(version_access(version).problems)
    runs = prefetched(version, "evaluations")
    recorded = (
        bool(runs)
        if runs is not None
        else (EvaluationRun.objects.filter(model_version=version).exists())
    )
    if not recorded:
        blockers.append(f"No evaluation is recorded on version {version.label}.")
    return blockers


def findings_addressed(case: Case, *, version=None, **params) -> list[str]:
    """Open when the findings are addressed and the named version is the one CAISI tested.

    Without a version named (previewing the gate), the version under test is judged.
    """
    blockers = [b.text for b in findings_selectors.clearance_blockers(case)]
    under_test = ModelVersion.objects.under_test(case)
    if under_test is None:
        return blockers
    if version is not None and version.pk != under_test.pk:
        blockers.append(
            f"Version {version.label} is not the version under test ({under_test.label}); "
            "a statement names only the version CAISI tested last."
        )
        return blockers
    return blockers + version_blockers(under_test)


def statement_in_force(case: Case, **params) -> list[str]:
    """Open when the case has a valid statement (not suspended, superseded or expired)."""
    if standing_statement(case, ClearanceStatement.StatementStatus.ISSUED) is None:
        return ["The case has no valid clearance statement to suspend."]
    return []


def statement_suspended(case: Case, **params) -> list[str]:
    if standing_statement(case, ClearanceStatement.StatementStatus.SUSPENDED) is None:
        return ["The case has no suspended clearance statement to reinstate."]
    return []


def no_material_change_pending(case: Case, **params) -> list[str]:
    if pending_material_change(case) is not None:
        return ["A declared material change already awaits CAISI's decision."]
    return []


def material_change_pending(case: Case, **params) -> list[str]:
    if pending_material_change(case) is None:
        return ["No declared material change awaits a decision."]
    return []
