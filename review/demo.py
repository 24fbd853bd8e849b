"""Demo and test data: brings a case up to each gate through the services.

`seed_demo` and the test suite share these steps, so the demo shows exactly
what the tests exercise.
"""

import contextlib
import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator, Sequence

import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from cases import services
from cases.models import Case, ReleaseType
from findings import services as findings_services
from findings.models import Category, Finding, FindingResponse, FindingState, Severity
from incidents import services as incident_services
from review.services import (
    accept_documentation,
    assign_case_manager,
    assign_evaluator,
    issue_clearance,
    report_release,
    retire_deployment,
    share_findings,
    submit_intake,
    suspend_clearance,
    verify_access,
)
from submissions import services as submissions_services
from submissions.checklist import PRACTICES
from submissions.models import (
    REQUIRED_DOCUMENT_KINDS,
    AccessGrant,
    AccessMethod,
    Document,
    DocumentKind,
    ModelVersion,
    Packaging,
    PracticeStatus,
    SafetyReportType,
)


@contextlib.contextmanager
def days_ago(days: float | None) -> Iterator[None]:
    """Run what follows as if that many days ago (at ten in the morning); None: now.

    The demo's history is written by the same services as any other, on the
    day it is said to have happened, so every date on a case agrees with its
    timeline: the events, the deadlines they set and the clock of its step.
    """
    if days is None:
        yield
        return
    now = timezone.now()
    morning = timezone.localtime(now).replace(hour=10, minute=0, second=0, microsecond=0)
    moment = min(morning - dt.timedelta(days=days), now - dt.timedelta(minutes=5))
    with time_machine.travel(moment, tick=True):
        yield


def fill_intake(
    case: Case,
    liaison,
    *,
    days_to_release: int = 180,
    planned_release_date: dt.date | None = None,
) -> Case:
    """Complete every intake field and record a first model version."""
    case = services.update_intake(
        case=case,
        actor=liaison,
        data={
            "description": f"{case.model_name}: a general-purpose language model.",
            "architecture": "Decoder-only transformer, mixture of experts",
            "parameter_count": 70_000_000_000,
            "training_compute": "3.1e24 FLOP",
            "training_data_description": "Licensed and public web text up to 2026-03.",
            "intended_uses": "Assistant for drafting, coding and analysis.",
            "modality": "text",
            "release_type": ReleaseType.RESTRICTED_API,
            "planned_release_date": planned_release_date
            or timezone.localdate() + dt.timedelta(days=days_to_release),
        },
    )
    add_version(case, liaison, label="v1.0-rc1")
    return case


def add_version(case: Case, liaison, *, label: str) -> ModelVersion:
    digest = hashlib.sha256(f"{case.number}:{label}".encode()).hexdigest()
    return submissions_services.add_version(
        case=case,
        actor=liaison,
        label=label,
        vcs_reference=f"git:{digest[:12]}",
        artifact_sha256=digest,
        packaging=Packaging.CONTAINER_IMAGE,
        changelog=f"{label}: the build shared for review.",
    )


def grant_access(
    case: Case, liaison, *, version: ModelVersion | None = None, valid_days: int = 90
) -> AccessGrant:
    now = timezone.now()
    return submissions_services.grant_access(
        case=case,
        actor=liaison,
        model_version=version,
        method=AccessMethod.API_ENDPOINT,
        endpoint_url="https://models.example/v1/eval",
        instructions="Use the evaluation tenant; rate limit 50 requests/s.",
        credentials="eval-tenant-key-7f3a9c",
        nda_reference="NDA-2026-117",
        nda_signed_on=timezone.localdate(),
        valid_from=now,
        valid_until=now + dt.timedelta(days=valid_days),
    )


DEMO_MODEL_CARD = """---
license: other
---
# {model} model card

## Model details and technical specifications
Decoder-only transformer, mixture of experts.

## Uses
### Intended uses
Drafting, coding and analysis through the restricted API.

### Out-of-scope uses
Autonomous decisions about people; weapons uplift.

## Bias, risks and limitations
Hallucinates citations; weaker in low-resource languages.

## Training data
Licensed and public web text up to 2026-03.

## Evaluation
Internal red-teaming, bias audit and stress tests; see the safety report.

## Environmental impact
3.1e24 FLOP on 8,192 accelerators for 41 days.
"""


def upload_document(case: Case, liaison, kind: str) -> Document:
    """Upload one document of the package as a small Markdown file."""
    label = DocumentKind(kind).label
    if kind == DocumentKind.MODEL_CARD:
        text = DEMO_MODEL_CARD.format(model=case.model_name)
    else:
        text = f"# {label} for {case.model_name}\n\nSummary prepared for the review.\n"
    return submissions_services.upload_document(
        case=case,
        actor=liaison,
        kind=kind,
        file=ContentFile(text.encode()),
        original_name=f"{kind.replace('_', '-')}.md",
        title=label,
        report_type=SafetyReportType.RED_TEAMING if kind == DocumentKind.SAFETY_REPORT else "",
    )


def provide_documents(case: Case, liaison, manager) -> list[Document]:
    """Upload the four required documents as small Markdown files, accept them, and answer
    the deployment checklist: the documentation package the gate asks for."""
    documents = [
        submissions_services.review_document(
            document=upload_document(case, liaison, kind), actor=manager, accept=True
        )
        for kind in REQUIRED_DOCUMENT_KINDS
    ]
    answer_checklist(case, liaison)
    return documents


def answer_checklist(case: Case, liaison) -> None:
    """Answer the practices of the deployment checklist not answered yet, as the gate asks."""
    answered = set(case.checklist_entries.values_list("practice", flat=True))
    answer = {"status": PracticeStatus.IMPLEMENTED, "note": "Described in the safety report."}
    if answered.issuperset(PRACTICES):
        return  # a revised version's package: the answers on file stand
    submissions_services.record_checklist(
        case=case,
        actor=liaison,
        answers={key: answer for key in PRACTICES if key not in answered},
    )


def record_evaluation(case: Case, evaluator, *, severity: str = Severity.HIGH) -> Finding:
    """Record a completed jailbreak run and draft one finding from it."""

    run = findings_services.record_evaluation_run(
        case=case,
        actor=evaluator,
        category=Category.ADVERSARIAL_ROBUSTNESS,
        title="Jailbreak robustness suite",
        summary="Multi-turn jailbreak attempts across 400 prompts.",
        metrics={"attack_success_rate": 0.042},
    )
    return findings_services.draft_finding(
        case=case,
        actor=evaluator,
        evaluation=run,
        severity=severity,
        category=Category.ADVERSARIAL_ROBUSTNESS,
        title="Role-play prompts bypass the refusal policy",
        description="Two multi-turn role-play prompts (jb-017, jb-233) elicited disallowed "
        "instructions.",
    )


def resolve_findings(case: Case, manager) -> None:
    """Have the company answer each open finding with a mitigation, and CAISI accept it."""

    liaison = case.created_by
    for finding in case.findings.exclude(state=FindingState.RESOLVED):
        if finding.state == FindingState.SHARED:
            findings_services.respond_to_finding(
                finding=finding,
                actor=liaison,
                kind=FindingResponse.Kind.MITIGATED,
                mitigation="An output classifier now blocks the role-play pattern.",
            )
            finding.refresh_from_db()
        if finding.state == FindingState.ANSWERED:
            findings_services.review_finding_response(
                finding=finding,
                actor=manager,
                verdict=FindingResponse.Verdict.ACCEPTED,
                note="Mitigation confirmed on the evaluation tenant.",
            )


def revise(case: Case, liaison, *, label: str) -> ModelVersion:
    """Prepare a revised version for resubmission: its own access, the documentation kept."""
    version = add_version(case, liaison, label=label)
    grant_access(case, liaison, version=version)
    return submissions_services.carry_documentation_forward(version=version, actor=liaison)


def clear(case: Case, official, **kwargs) -> Case:
    """Issue the clearance for the version under test, named as the official names it."""
    return issue_clearance(
        case=case,
        actor=official,
        version=ModelVersion.objects.under_test(case),
        scope=kwargs.pop("scope", f"{case.model_name} as deployed behind the restricted API."),
        **kwargs,
    )


def advance(
    case: Case,
    target: str,
    cast: dict,
    *,
    dated: Sequence[float] = (),
    since: float | None = None,
    clearance: dict | None = None,
) -> Case:
    """Walk the case forward through the services until it reaches `target`.

    `dated` says how many days ago each step taken was taken, oldest first
    (steps beyond it are taken now); `since`, how many days ago the case was
    opened. The work a step needs (the intake filled, access shared, documents
    uploaded, the evaluation run, the findings answered) is done between the
    previous step and its own. `clearance` names the statement's scope and
    conditions.
    """
    liaison, manager, evaluator = cast["liaison"], cast["manager"], cast.get("evaluator")
    clearance = clearance or {"conditions": "Re-review before enabling fine-tuning access."}

    def evaluate(c: Case) -> None:
        assign_evaluator(case=c, actor=manager, evaluator=evaluator)
        record_evaluation(c, evaluator)

    # (status reached, the work it needs first, the step itself)
    steps = [
        (
            "triage",
            lambda c: fill_intake(c, liaison),
            lambda c: submit_intake(case=c, actor=liaison),
        ),
        ("access", None, lambda c: assign_case_manager(case=c, actor=manager, manager=manager)),
        (
            "documentation",
            # A review dated months back kept its access the whole way through.
            lambda c: grant_access(c, liaison, valid_days=365 if dated else 90),
            lambda c: verify_access(case=c, actor=manager),
        ),
        (
            "testing",
            lambda c: provide_documents(c, liaison, manager),
            lambda c: accept_documentation(case=c, actor=manager),
        ),
        ("findings", evaluate, lambda c: share_findings(case=c, actor=manager)),
        (
            "cleared",
            lambda c: resolve_findings(c, manager),
            lambda c: clear(c, cast["official"], **clearance),
        ),
    ]
    moments = [since, *dated]
    if any(a is not None and b is not None and b >= a for a, b in itertools.pairwise(moments)):
        raise ValueError(f"The steps of {case.number} must be dated oldest first: {moments}.")
    dates = list(dated)
    order = ["intake"] + [status for status, _, _ in steps]
    for status, work, step in steps:
        if case.status == target:
            break
        if order.index(status) <= order.index(case.status):
            continue
        when = dates.pop(0) if dates else None
        if work is not None:
            with days_ago(_between(since, when)):
                work(case)
            case.refresh_from_db()
        with days_ago(when):
            case = step(case)
        case.refresh_from_db()
        since = when
    if case.status != target:
        raise ValueError(f"Cannot advance {case.number} to {target}.")
    return case


def _between(since: float | None, when: float | None) -> float | None:
    """The day halfway from one dated step to the next (two hours before it, undated before)."""
    if when is None:
        return None
    if since is None:
        return when + 1 / 12
    return (since + when) / 2


# --- after clearance ---------------------------------------------------------------------

# The stages a demo case is brought to after clearance, beyond `advance`.
AFTER_CLEARANCE = ("released", "clearance_suspended", "retired")


def release(case: Case, liaison) -> Case:
    """Report the model released today (the demo's today, where `days_ago` moved it)."""
    return report_release(
        case=case,
        actor=liaison,
        release_date=timezone.localdate(),
        channel="Public API and the hosted assistant",
        notes="General availability in the US and the EU.",
    )


def report_incident(case: Case, liaison, *, severity: str = "high"):
    return incident_services.report_incident(
        case=case,
        actor=liaison,
        summary="A multi-turn role-play prompt circulating on a forum elicits malware snippets.",
        detected_at=timezone.now() - dt.timedelta(days=1),
        severity=severity,
        affected_versions="v1.0-rc1 as released",
        affected_uses="Coding assistance through the public API",
        users_affected="About 40 accounts tried the prompt",
        mitigations="The prompt pattern is blocked by the output classifier since this morning.",
    )


def after_clearance(
    case: Case, stage: str, cast: dict, *, dated: Sequence[float] = (), since: float | None = None
) -> Case:
    """Bring a case past clearance: released with an incident open and a monitoring report
    due, its clearance suspended after an incident, or its model retired.

    `dated` dates the six steps to clearance, as `advance` does, then the release,
    then (suspended) the incident and the suspension or (retired) the retirement;
    the released model's incident is today's.
    """
    liaison, official = cast["liaison"], cast["official"]
    if stage not in AFTER_CLEARANCE:
        raise ValueError(f"No demo stage {stage!r} after clearance.")
    to_clearance, after = list(dated[:6]), list(dated[6:]) + [None] * 3
    if stage == "released":
        clearance = {
            "scope": f"{case.model_name} as deployed behind the public API.",
            "conditions": "A post-deployment monitoring report every 30 days for the first year.",
            "monitoring_every_days": 30,
        }
    else:
        clearance = None
    case = advance(case, "cleared", cast, dated=to_clearance, since=since, clearance=clearance)
    with days_ago(after[0]):
        case = release(case, liaison)
    if stage == "released":
        report_incident(case, liaison)
        return case
    if stage == "clearance_suspended":
        with days_ago(after[1]):
            report_incident(case, liaison, severity="critical")
        with days_ago(after[2]):
            return suspend_clearance(
                case=case,
                actor=official,
                reason="A critical incident is under review; the clearance is suspended meanwhile.",
                incident=1,
            )
    with days_ago(after[1]):
        return retire_deployment(
            case=case, actor=liaison, reason="Replaced by its successor; weights archived."
        )
