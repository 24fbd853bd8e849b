"""Each person's work: what waits on them, with its due date and a link, in a few queries.

The home page lists it for every case the person may see (`tasks_for`), and the
case page lists it for one case (`tasks_for(user, case=case)`), together with
who must act when it is not this person (`waiting_on`). Every list is one
query over `Case.objects.visible_to`, so the count does not grow with the cases.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from cases.models import Case
from cases.status import OPEN_STATUSES, Status
from core.folding import prefetched
from findings.models import (
    ClarificationRequest,
    EvaluationRun,
    Finding,
    FindingResponse,
    FindingState,
)
from incidents.models import MonitoringReport, ReportState
from review import services
from review.lifecycle import Action
from submissions.models import Document, DocumentState, ModelVersion, latest_of_each_kind

# The clearance gate is confirmed per case; past this many candidates the list says "more".
READY_CHECKED = 10
# Each list is cut here: a home page is for what to do next, the queue for everything.
LIMIT = 50
REPORTS_OWED = (ReportState.DUE, ReportState.CHANGES_REQUESTED)
# What the case page reads with the case, so its tasks need no query of their own.
READ_WITH_THE_CASE = ("clarification_requests", "documents", "findings", "monitoring_reports")
# Monitoring reports are listed from a month before they are due: a clearance asks
# for one every month for a year, and the eleventh is no task today.
REPORTS_AHEAD = dt.timedelta(days=30)


@dataclass(frozen=True)
class Task:
    """One thing a person must do: what, on which case, by when, and where."""

    case: Case
    text: str
    url: str
    due: dt.date | None = None

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.localdate()

    @property
    def due_soon(self) -> bool:
        """Due within the week (and not yet late)."""
        return (
            self.due is not None
            and not self.overdue
            and self.due <= timezone.localdate() + dt.timedelta(days=7)
        )


def _day(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def _cases(user, case: Case | None):
    cases = Case.objects.visible_to(user).filter(status__in=OPEN_STATUSES)
    return cases.filter(pk=case.pk) if case is not None else cases


def _may(case: Case | None, *statuses) -> bool:
    """Whether a list is worth reading: on one case, only in the statuses it can occur in."""
    return case is None or case.status in statuses


def _url(name: str, case: Case, **kwargs) -> str:
    return reverse(name, kwargs={"number": case.number, **kwargs})


# --- the company -------------------------------------------------------------------------


def _liaison_tasks(user, case: Case | None, ready: frozenset[str] | None) -> list[Task]:
    cases = _cases(user, case)
    if case is None:
        drafts = cases.filter(status=Status.INTAKE).order_by("created_at")[:LIMIT]
    else:  # the page has the case already
        drafts = [case] if case.status == Status.INTAKE else []
    tasks = [
        Task(c, "Complete the intake and submit it to CAISI", _url("cases:intake", c))
        for c in drafts
    ]
    read = _read_with(case)
    if read is not None:
        requests, documents, findings, reports = _liaison_rows_on(case, read)
    else:
        requests = (
            ClarificationRequest.objects.open()
            .filter(case__in=cases)
            .select_related("case")
            .order_by("due_date", "pk")[:LIMIT]
        )
        newer = Document.objects.filter(
            case=OuterRef("case"),
            kind=OuterRef("kind"),
            version_number__gt=OuterRef("version_number"),
        )
        documents = (
            Document.objects.filter(case__in=cases, state=DocumentState.CHANGES_REQUESTED)
            .exclude(Exists(newer))
            .select_related("case")
            .order_by("uploaded_at")[:LIMIT]
        )
        findings = (
            Finding.objects.filter(case__in=cases, state=FindingState.SHARED)
            .select_related("case")
            .order_by("shared_at", "pk")[:LIMIT]
        )
        # A cleared case is not "open" for the lifecycle, but its reports are still owed.
        reporting = Case.objects.visible_to(user).filter(status=Status.CLEARED)
        if case is not None:
            reporting = reporting.filter(pk=case.pk)
        reports = (
            MonitoringReport.objects.filter(
                case__in=reporting,
                state__in=REPORTS_OWED,
                due_at__lte=timezone.now() + REPORTS_AHEAD,
            )
            .select_related("case")
            .order_by("due_at")[:LIMIT]
        )
    tasks += [
        Task(
            r.case,
            f"Answer the clarification request “{r}”",
            _url("findings:clarification_answer", r.case, pk=r.pk),
            r.due_date,
        )
        for r in requests
    ]
    tasks += [
        Task(
            d.case,
            f"Upload a revised {d.get_kind_display().lower()}: CAISI asked for changes",
            f"{_url('submissions:document_upload', d.case)}?kind={d.kind}",
        )
        for d in documents
    ]
    days = dt.timedelta(days=settings.FINDING_RESPONSE_DAYS)
    if not _may(case, Status.TESTING, Status.FINDINGS, Status.CLEARED):
        return tasks
    tasks += [
        Task(
            f.case,
            f"Answer the {f.get_severity_display().lower()} finding “{f.title}”",
            _url("findings:finding", f.case, pk=f.pk) + "#respond",
            _day(f.shared_at + days) if f.shared_at else None,
        )
        for f in findings
    ]
    tasks += [
        Task(
            r.case,
            f"File monitoring report {r.sequence}",
            _url("incidents:report_file", r.case, pk=r.pk),
            _day(r.due_at),
        )
        for r in reports
    ]
    return tasks


def _liaison_rows_on(case: Case, read: dict) -> tuple[list, list, list, list]:
    """The lists above for one case whose page read its rows: the same rules, in Python."""
    open_ = case.status in OPEN_STATUSES
    requests = sorted(
        (
            r
            for r in read["clarification_requests"]
            if open_ and r.status == ClarificationRequest.RequestStatus.OPEN
        ),
        key=lambda r: (r.due_date, r.pk),
    )
    latest = latest_of_each_kind(read["documents"])
    documents = sorted(
        (
            d
            for d in read["documents"]
            if open_ and d.state == DocumentState.CHANGES_REQUESTED and latest[d.kind].pk == d.pk
        ),
        key=lambda d: d.uploaded_at,
    )
    findings = sorted(
        (f for f in read["findings"] if open_ and f.state == FindingState.SHARED),
        key=lambda f: (f.shared_at, f.pk),
    )
    reports = sorted(
        (
            r
            for r in read["monitoring_reports"]
            if case.status == Status.CLEARED
            and r.state in REPORTS_OWED
            and r.due_at <= timezone.now() + REPORTS_AHEAD
        ),
        key=lambda r: r.due_at,
    )
    return requests[:LIMIT], documents[:LIMIT], findings[:LIMIT], reports[:LIMIT]


def _read_with(case: Case | None) -> dict | None:
    """Return the rows of the case its page read with it (`core.folding`), or None."""
    if case is None:
        return None
    read = {name: prefetched(case, name) for name in READ_WITH_THE_CASE}
    if None in read.values():
        return None
    answers = [prefetched(f, "responses") for f in read["findings"]]
    if None in answers:
        return None
    read["responses"] = [r for rows in answers for r in rows]
    return read


def _pending_answers_on(case: Case, read: dict, statuses) -> list:
    if case.status not in statuses:
        return []
    pending = [r for r in read["responses"] if r.verdict == FindingResponse.Verdict.PENDING]
    return sorted(pending, key=lambda r: r.responded_at)[:LIMIT]


# --- CAISI -------------------------------------------------------------------------------


def _manager_tasks(user, case: Case | None, ready: frozenset[str] | None) -> list[Task]:
    cases = _cases(user, case)
    mine = cases.filter(case_manager=user)
    # Triage is any case manager's; verifying access is the assigned one's: one read for both.
    steps = {
        Status.TRIAGE: ("Triage the case and name its case manager", "assign_case_manager"),
        Status.ACCESS: ("Verify the model access", "verify_access"),
    }
    waiting = Q(status=Status.TRIAGE) | Q(status=Status.ACCESS, case_manager=user)
    if case is None:
        steps_due = cases.filter(waiting).order_by("status_changed_at", "pk")[:LIMIT]
    else:  # the page has the case already
        steps_due = [
            c
            for c in [case]
            if c.status == Status.TRIAGE
            or (c.status == Status.ACCESS and c.case_manager_id == user.pk)
        ]
    tasks = [
        Task(c, steps[c.status][0], _url("cases:action", c, action=steps[c.status][1]))
        for c in steps_due
    ]
    if case is not None and case.case_manager_id != user.pk:
        return tasks
    read = _read_with(case)
    if read is not None:
        open_ = case.status in OPEN_STATUSES
        documents = sorted(
            (d for d in read["documents"] if open_ and d.state == DocumentState.SUBMITTED),
            key=lambda d: d.pk,
        )[:LIMIT]
        answers = _pending_answers_on(case, read, OPEN_STATUSES)
    else:
        documents = (
            Document.objects.filter(case__in=mine, state=DocumentState.SUBMITTED)
            .select_related("case")
            .order_by("pk")[:LIMIT]
        )
        answers = (
            FindingResponse.objects.filter(
                finding__case__in=mine, verdict=FindingResponse.Verdict.PENDING
            )
            .select_related("finding__case")
            .order_by("responded_at")[:LIMIT]
        )
    tasks += [
        Task(
            d.case,
            f"Review the {d.get_kind_display().lower()} (version {d.version_number})",
            _url("submissions:document_review", d.case, pk=d.pk),
        )
        for d in documents
    ]
    tasks += [
        Task(
            r.finding.case,
            f"Review the company's answer to “{r.finding.title}”",
            _url("findings:finding", r.finding.case, pk=r.finding_id) + "#review",
        )
        for r in answers
    ]
    return tasks


def _no_run_on_version_under_test(cases):
    """Cases in testing whose version under test has no evaluation run recorded."""
    under_test = (
        ModelVersion.objects.filter(case=OuterRef(OuterRef("pk"))).submitted().values("pk")[:1]
    )
    return cases.filter(status=Status.TESTING).exclude(
        Exists(EvaluationRun.objects.filter(case=OuterRef("pk"), model_version=under_test))
    )


def _evaluator_tasks(user, case: Case | None, ready: frozenset[str] | None) -> list[Task]:
    if not _may(case, Status.TESTING):
        return []
    return [
        Task(
            c,
            "Record an evaluation run on the version under test",
            _url("findings:evaluation_import", c),
        )
        for c in _no_run_on_version_under_test(_cases(user, case)).order_by("status_changed_at")[
            :LIMIT
        ]
    ]


def _official_tasks(user, case: Case | None, ready: frozenset[str] | None) -> list[Task]:
    if not _may(case, Status.FINDINGS):
        return []
    cases = _cases(user, case).filter(status=Status.FINDINGS)
    if ready is not None:  # the case page judged the gate already
        tasks = [_ready_for_clearance(case)] if Action.ISSUE_CLEARANCE in ready else []
        read = _read_with(case)
        if read is not None:
            return tasks + [
                _awaiting_decision(r) for r in _pending_answers_on(case, read, {Status.FINDINGS})
            ]
        return tasks + _answers_awaiting_decision(cases)
    # The database rules out what the gate surely refuses; the gate itself decides the rest.
    candidates = cases.exclude(
        Exists(Finding.objects.filter(case=OuterRef("pk")).blocking())
    ).exclude(Exists(ClarificationRequest.objects.open().filter(case=OuterRef("pk"))))
    tasks = [
        _ready_for_clearance(c)
        for c in candidates.order_by("status_changed_at")[:READY_CHECKED]
        if not services.gate_blockers(c, Action.ISSUE_CLEARANCE)
    ]
    return tasks + _answers_awaiting_decision(cases)


def _ready_for_clearance(case: Case) -> Task:
    return Task(
        case,
        "Issue the clearance statement: the clearance gate is clear",
        _url("cases:action", case, action=Action.ISSUE_CLEARANCE),
    )


def _awaiting_decision(r: FindingResponse) -> Task:
    return Task(
        r.finding.case,
        f"The company's answer to “{r.finding.title}” awaits CAISI's decision",
        _url("findings:finding", r.finding.case, pk=r.finding_id),
    )


def _answers_awaiting_decision(cases) -> list[Task]:
    return [
        _awaiting_decision(r)
        for r in FindingResponse.objects.filter(
            finding__case__in=cases, verdict=FindingResponse.Verdict.PENDING
        )
        .select_related("finding__case")
        .order_by("responded_at")[:LIMIT]
    ]


BY_ROLE = {
    Role.LIAISON: _liaison_tasks,
    Role.CASE_MANAGER: _manager_tasks,
    Role.EVALUATOR: _evaluator_tasks,
    Role.CLEARANCE_OFFICIAL: _official_tasks,
}


def tasks_for(user, case: Case | None = None, *, ready: frozenset[str] | None = None) -> list[Task]:
    """Return what waits on this person (on one case, if named), the earliest due first.

    `ready` names the actions whose gate the caller found open on `case`, so a
    page that has judged the gates does not judge them twice.
    """
    if not user.is_authenticated or user.role not in BY_ROLE:
        return []
    tasks = BY_ROLE[user.role](user, case, ready)
    never = dt.date.max
    return sorted(tasks, key=lambda t: (t.due or never, t.case.number))


# Who moves each status on, in the words the case page names them.
ACTS_NEXT = {
    Status.INTAKE: "the company (it completes and submits the intake)",
    Status.TRIAGE: "a CAISI case manager (triage)",
    Status.ACCESS: "the case manager (verifying the model access)",
    Status.DOCUMENTATION: "the company and the case manager (the documentation package)",
    Status.TESTING: "CAISI's evaluators (testing)",
    Status.FINDINGS: "the company (answering the findings), then a clearance official",
}


def waiting_on(case: Case, *, has_tasks: bool) -> str:
    """Name who must act on the case next, when it is not this person."""
    if has_tasks:
        return ""
    who = ACTS_NEXT.get(case.status)
    return f"Nothing waits on you here now. Next to act: {who}." if who else ""


# What a company can still do once the review of its case has ended: the status's own
# words, then where to go. A case never reopens, so each begins from a new case.
AFTER_THE_END = {
    Status.WITHDRAWN: (
        Action.WITHDRAW,
        "You withdrew this case. Its record stays on file, and the review cannot resume.",
    ),
    Status.CLOSED: (
        Action.CLOSE_CASE,
        "CAISI closed this case. Its record stays on file, and the review cannot resume.",
    ),
    Status.REVOKED: (
        Action.REVOKE_CLEARANCE,
        "CAISI revoked this case's clearance statement: it no longer clears the model.",
    ),
}


@dataclass(frozen=True)
class NextSteps:
    """Where the company stands when nothing in the review is its to do, and where to go."""

    summary: str
    reason: str
    steps: list[tuple[str, str]]


def next_steps(user, case: Case) -> NextSteps | None:
    """Tell the company what it can do next on an ended case, or one whose access it revoked."""
    if not user.is_authenticated or user.role != Role.LIAISON:
        return None
    contact = settings.CAISI_CONTACT_EMAIL
    write = (f"Write to CAISI at {contact}", f"mailto:{contact}?subject={case.number}")
    ended = AFTER_THE_END.get(case.status)
    if ended is not None:
        action, summary = ended
        details = (
            case.events.filter(verb=action.value, internal=False)
            .order_by("-seq")
            .values_list("details", flat=True)
            .first()
        )
        new_case = (
            "Open a new case for a revised model"
            if case.status == Status.REVOKED
            else "Open a new case to have the model reviewed"
        )
        return NextSteps(
            summary, (details or {}).get("reason", ""), [(new_case, reverse("cases:new")), write]
        )
    if case.status not in OPEN_STATUSES or case.status in (Status.INTAKE, Status.TRIAGE):
        return None
    version = ModelVersion.objects.under_test(case)
    grants = [
        g for g in case.access_grants.all() if version is None or g.model_version_id == version.pk
    ]
    revoked = [g for g in grants if g.revoked_at is not None]
    if not revoked or any(g.is_live() for g in grants):
        return None
    last = max(revoked, key=lambda g: g.revoked_at)
    return NextSteps(
        "You revoked CAISI's access to the model, so the review cannot go on until CAISI "
        "can reach it again.",
        last.revoke_reason,
        [("Grant CAISI access again", _url("submissions:grant_new", case)), write],
    )
