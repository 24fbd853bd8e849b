"""Reads of steps 5 and 6 that several pages and the gates share."""

from django.db.models import Exists, OuterRef
from django.urls import reverse

from core.errors import Blocker
from core.folding import prefetched
from findings.models import ClarificationRequest, EvaluationRun, Finding, FindingState
from submissions.models import ModelVersion


def with_overdue_request(cases, today=None):
    """Annotate each case with whether a clarification request is past its due date."""
    return cases.annotate(
        has_overdue_request=Exists(
            ClarificationRequest.objects.overdue(today).filter(case=OuterRef("pk"))
        )
    )


def open_clarifications(case) -> list[ClarificationRequest]:
    """Return the case's open clarification requests, the first due first."""
    requests = prefetched(case, "clarification_requests")
    if requests is None:
        return list(ClarificationRequest.objects.filter(case=case).open().order_by("due_date"))
    opened = [r for r in requests if r.status == ClarificationRequest.RequestStatus.OPEN]
    return sorted(opened, key=lambda r: r.due_date)


def _open_clarifications(case) -> list[Blocker]:
    return [
        Blocker(
            f"Clarification request “{r}” is still open (due {r.due_date:%Y-%m-%d}).",
            f"{case.get_absolute_url()}#clarification-{r.pk}",
        )
        for r in open_clarifications(case)
    ]


def version_under_test(case):
    return ModelVersion.objects.under_test(case)


def runs_on(case, version) -> list[EvaluationRun]:
    """Return the evaluation runs recorded on this version of the case."""
    runs = prefetched(version, "evaluations")
    if runs is None:
        return list(EvaluationRun.objects.filter(case=case, model_version=version))
    return [r for r in runs if r.case_id == case.pk]


def blocking_findings(case) -> list[Finding]:
    """Return the case's critical and high findings clearance still waits on, oldest first."""
    findings = prefetched(case, "findings")
    if findings is None:
        return list(Finding.objects.filter(case=case).blocking().order_by("created_at"))
    return sorted((f for f in findings if f.is_blocking), key=lambda f: f.created_at)


def testing_blockers(case) -> list[Blocker]:
    """Return what testing still lacks before the findings can be shared."""
    version = version_under_test(case)
    if version is None:
        return [Blocker("No model version has been submitted for testing.")]
    runs = runs_on(case, version)
    blockers = []
    if not any(r.status == EvaluationRun.RunStatus.COMPLETED for r in runs):
        blockers.append(
            Blocker(
                f"No completed evaluation run is recorded for version {version.label}.",
                reverse("findings:evaluation_import", kwargs={"number": case.number}),
            )
        )
    blockers += [
        Blocker(
            f"Evaluation “{r.title}” is still running.",
            reverse("findings:evaluation", kwargs={"number": case.number, "pk": r.pk}),
        )
        for r in runs
        if r.status == EvaluationRun.RunStatus.RUNNING
    ]
    return blockers + _open_clarifications(case)


_WAITING_ON = {
    FindingState.DRAFT: "is still a draft",
    FindingState.SHARED: "awaits the company's answer",
    FindingState.ANSWERED: "has an answer awaiting CAISI's review",
}


def clearance_blockers(case) -> list[Blocker]:
    """Return what stands between the case and a clearance statement."""
    blockers = [
        Blocker(
            f"{f.get_severity_display()} finding “{f.title}” {_WAITING_ON[f.state]}: it is "
            "neither verified fixed nor covered by an accepted mitigation or rationale.",
            reverse("findings:finding", kwargs={"number": case.number, "pk": f.pk}),
        )
        for f in blocking_findings(case)
    ]
    blockers += _open_clarifications(case)
    if version_under_test(case) is None:
        blockers.append(Blocker("No submitted model version to clear."))
    return blockers
