"""Every write of steps 5 and 6: evaluations, clarification requests, findings, answers.

Each function locks the case (or the row whose order matters), checks who
acts through `findings.policy`, writes, and appends one timeline event in the
same transaction. Evaluations and drafts are CAISI's internal work, so their
events are internal; what the company takes part in is not.
"""

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from cases.access import can_view
from cases.models import Case
from cases.services import pause_clock, record_event, resume_clock
from core import outbox, sandbox
from core.errors import ActionRefused, BadInput, CaseNotFound, NotAllowed
from core.records import CONTENT_KEY
from core.uploads import human_size
from findings import inspectlog, policy
from findings.apps import (
    ANSWER_CONTENT,
    CLARIFICATION_ANSWER_CONTENT,
    DECISION_CONTENT,
    FINDING_CONTENT,
    INSPECT_IMPORT,
    QUESTION_CONTENT,
)
from findings.models import (
    Category,
    ClarificationRequest,
    EvaluationRun,
    EvaluationSample,
    Finding,
    FindingResponse,
    FindingState,
    InspectImport,
    Resolution,
    Severity,
)
from submissions.models import ModelVersion

INSPECT_LOG_SUFFIXES = (".eval", ".json")


def _lock(case: Case, actor) -> Case:
    try:
        locked = Case.objects.select_for_update().get(pk=case.pk)
    except Case.DoesNotExist:
        raise CaseNotFound(case.pk) from None
    if not can_view(actor, locked):
        raise CaseNotFound(locked.number)
    return locked


def _version_under_test(case: Case, version: ModelVersion | None) -> ModelVersion:
    if version is not None:
        if version.case_id != case.pk:
            raise ActionRefused("That model version belongs to another case.")
        if version.submitted_at is None:
            raise ActionRefused(f"Version {version.label} has not been submitted for review yet.")
        return version
    latest = ModelVersion.objects.under_test(case)
    if latest is None:
        raise ActionRefused("The case has no submitted model version to evaluate.")
    return latest


# --- evaluations (step 5) ----------------------------------------------------------

_UNFINISHED = (EvaluationRun.RunStatus.RUNNING, EvaluationRun.RunStatus.INCOMPLETE)


@transaction.atomic
def record_evaluation_run(
    *,
    case: Case,
    actor,
    category: str,
    title: str,
    summary: str = "",
    metrics: dict[str, Any] | None = None,
    status: str = EvaluationRun.RunStatus.COMPLETED,
    model_version: ModelVersion | None = None,
    started_at: dt.datetime | None = None,
    completed_at: dt.datetime | None = None,
) -> EvaluationRun:
    """Record an evaluation CAISI ran against a submitted version of the model."""
    locked = _lock(case, actor)
    if not policy.can_record_evaluation(actor, locked):
        raise ActionRefused("Evaluations are recorded by the case's evaluators during testing.")
    if category not in Category.values:
        raise ActionRefused(f"“{category}” is not an evaluation category.")
    if status not in EvaluationRun.RunStatus.values:
        raise ActionRefused(f"“{status}” is not a run status.")
    version = _version_under_test(locked, model_version)
    now = timezone.now()
    run = EvaluationRun.objects.create(
        case=locked,
        model_version=version,
        category=category,
        title=title,
        summary=summary,
        metrics=metrics or {},
        status=status,
        started_at=started_at or now,
        completed_at=None if status in _UNFINISHED else (completed_at or now),
        created_by=actor,
    )
    record_event(
        case=locked,
        actor=actor,
        verb="evaluation_recorded",
        details={"evaluation": run.pk, "title": title, "version": version.label},
        internal=True,
    )
    return run


@transaction.atomic
def finish_evaluation_run(
    *, run: EvaluationRun, actor, status: str, metrics: dict[str, Any] | None = None
) -> EvaluationRun:
    """Mark a running evaluation completed or failed, with its final metrics."""
    locked = _lock(run.case, actor)
    if not policy.can_record_evaluation(actor, locked):
        raise ActionRefused("Evaluations are recorded by the case's evaluators during testing.")
    run = EvaluationRun.objects.select_for_update().get(pk=run.pk)
    if run.status != EvaluationRun.RunStatus.RUNNING:
        raise ActionRefused(f"“{run.title}” is already {run.get_status_display().lower()}.")
    if status not in (EvaluationRun.RunStatus.COMPLETED, EvaluationRun.RunStatus.FAILED):
        raise ActionRefused("A run finishes as completed or failed.")
    run.status = status
    run.completed_at = timezone.now()
    fields = ["status", "completed_at"]
    if metrics is not None:
        run.metrics = metrics
        fields.append("metrics")
    run.save(update_fields=fields)
    record_event(
        case=locked,
        actor=actor,
        verb="evaluation_finished",
        details={"evaluation": run.pk, "status": status},
        internal=True,
    )
    return run


class InspectLogRejected(BadInput):
    """The uploaded file is not an Inspect log this portal can read."""


def take_inspect_log(*, run: EvaluationRun, actor):
    """Return the run's Inspect log to download, with the download on the case's timeline.

    The log is CAISI's own working material, as the run is: the download is
    internal, so the company cannot time CAISI's evaluations by it.
    """
    case = run.case
    if not can_view(actor, case) or not run.inspect_log:
        raise CaseNotFound(case.number)
    record_event(
        case=case,
        actor=actor,
        verb="inspect_log_downloaded",
        details={"evaluation": run.pk, "role": actor.role_label()},
        internal=True,
    )
    return run.inspect_log


def _parse_time(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


_RUN_STATUS_OF_LOG = {
    "success": EvaluationRun.RunStatus.COMPLETED,
    "error": EvaluationRun.RunStatus.FAILED,
    "cancelled": EvaluationRun.RunStatus.CANCELLED,
    # A log still "started" is a run that was killed: it never finished.
    "started": EvaluationRun.RunStatus.INCOMPLETE,
}


def import_inspect_log(
    *,
    case: Case,
    actor,
    upload: UploadedFile,
    category: str,
    title: str = "",
    summary: str = "",
    model_version: ModelVersion | None = None,
    stored_name: str = "",
) -> EvaluationRun:
    """Record an evaluation run from an uploaded Inspect AI log (`.eval` or `.json`).

    `stored_name` names the log where it is already kept in storage (a queued
    import): the run takes that file rather than storing the upload again.
    """
    name, suffix = _check_import(case=case, actor=actor, upload=upload)
    with _log_on_disk(upload, suffix) as (path, digest):
        index_path = os.path.join(os.path.dirname(path), "samples.jsonl")
        try:
            log = inspectlog.read_log(path, size=upload.size, index_path=index_path)
        except sandbox.Refused as refusal:
            raise InspectLogRejected(str(refusal)) from None
        except sandbox.LimitExceeded as limit:
            raise InspectLogRejected(f"The log was not read: {limit}.") from None
        started_at = _parse_time(log.pop("started_at"))
        completed_at = _parse_time(log.pop("completed_at"))
        metrics = log.pop("metrics")
        status = _RUN_STATUS_OF_LOG.get(log["inspect_status"], EvaluationRun.RunStatus.FAILED)
        try:
            with transaction.atomic():
                run = record_evaluation_run(
                    case=case,
                    actor=actor,
                    category=category,
                    title=title or f"Inspect: {log['inspect_task']}",
                    summary=summary,
                    metrics=metrics,
                    status=status,
                    model_version=model_version,
                    started_at=started_at,
                    completed_at=completed_at,
                )
                # record_evaluation_run locked the case: the check and the insert are one step.
                if (
                    EvaluationRun.objects.filter(case=case, inspect_eval_id=log["inspect_eval_id"])
                    .exclude(pk=run.pk)
                    .exists()
                ):
                    raise _already_imported(log["inspect_eval_id"])
                for field, value in log.items():
                    setattr(run, field, value)
                run.inspect_log_sha256 = digest
                if stored_name:
                    run.inspect_log.name = stored_name
                else:
                    upload.seek(0)
                    run.inspect_log.save(name, upload, save=False)
                run.save(update_fields=[*log, "inspect_log_sha256", "inspect_log"])
                for batch in _batches(_sample_rows(run, inspectlog.index_rows(index_path))):
                    EvaluationSample.objects.bulk_create(batch)
        except IntegrityError:
            # Only a run with this eval id on this case makes the log "already imported".
            if EvaluationRun.objects.filter(
                case=case, inspect_eval_id=log["inspect_eval_id"]
            ).exists():
                raise _already_imported(log["inspect_eval_id"]) from None
            raise
    return run


def _check_import(*, case: Case, actor, upload: UploadedFile) -> tuple[str, str]:
    """Refuse an import this person may not make, or a file that is no Inspect log by its name
    or too large; return the file's name and suffix."""
    if not can_view(actor, case):
        raise CaseNotFound(case.number)
    if not policy.can_record_evaluation(actor, case):
        raise ActionRefused("Evaluations are recorded by the case's evaluators during testing.")
    name = os.path.basename(upload.name or "")
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in INSPECT_LOG_SUFFIXES:
        raise InspectLogRejected(
            f"“{name}” is not an Inspect log: upload the .eval or .json file Inspect wrote."
        )
    limit = settings.INSPECT_LOG_MAX_BYTES
    if upload.size > limit:
        raise InspectLogRejected(f"The log is larger than the limit of {human_size(limit)}.")
    return name, suffix


def import_or_queue_inspect_log(
    *, case: Case, actor, upload: UploadedFile, **fields
) -> EvaluationRun | InspectImport:
    """Import a log now, or, past INSPECT_LOG_INLINE_BYTES, keep it for a worker to read.

    A queued log is checked as far as it can be at once (who may import, its
    name, its size) and kept with its SHA-256; its InspectImport says how the
    reading went.
    """
    if upload.size <= settings.INSPECT_LOG_INLINE_BYTES:
        return import_inspect_log(case=case, actor=actor, upload=upload, **fields)
    name, _suffix = _check_import(case=case, actor=actor, upload=upload)
    digest = getattr(upload, "sha256", None)
    if not digest:
        hasher = hashlib.sha256()
        for chunk in upload.chunks():
            hasher.update(chunk)
        digest = hasher.hexdigest()
        upload.seek(0)
    with transaction.atomic():
        queued = InspectImport(
            case=case,
            requested_by=actor,
            name=name,
            size=upload.size,
            sha256=digest,
            category=fields.get("category", ""),
            title=fields.get("title", ""),
            summary=fields.get("summary", ""),
            model_version=fields.get("model_version"),
        )
        queued.log.save(name, upload, save=False)
        queued.save()
        outbox.enqueue(outbox.task(INSPECT_IMPORT.task, queued.pk))
    return queued


class _StoredLog:
    """A queued log as import_inspect_log reads an upload: its name, size, hash and path."""

    def __init__(self, queued: InspectImport, path: str):
        self.name, self.size, self.sha256 = queued.name, queued.size, queued.sha256
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def read_queued_import(import_id: int) -> InspectImport | None:
    """Read a queued log and record its run, or the reason it was refused (done once)."""
    with transaction.atomic():
        queued = (
            InspectImport.objects.select_for_update(skip_locked=True)
            .filter(pk=import_id, state=InspectImport.State.QUEUED)
            .first()
        )
        if queued is None:  # done already, or being read by another worker now
            return None
        try:
            with _stored_path(queued.log) as path:
                run = import_inspect_log(
                    case=queued.case,
                    actor=queued.requested_by,
                    upload=_StoredLog(queued, path),
                    category=queued.category,
                    title=queued.title,
                    summary=queued.summary,
                    model_version=queued.model_version,
                    stored_name=queued.log.name,
                )
        except (BadInput, ActionRefused, NotAllowed, CaseNotFound) as refusal:
            queued.state, queued.refusal = InspectImport.State.REFUSED, str(refusal)
        else:
            queued.state, queued.run = InspectImport.State.IMPORTED, run
        queued.finished_at = timezone.now()
        queued.save(update_fields=["state", "refusal", "run", "finished_at"])
    if queued.state == InspectImport.State.REFUSED:
        queued.log.delete(save=False)  # nothing of a refused log is kept
    return queued


@contextmanager
def _stored_path(field):
    """Yield a local path to a stored file: its own on disk, else a copy fetched to a temp file."""
    try:
        path = field.path
    except NotImplementedError:  # remote storage (S3): fetch it once
        path = None
    if path:
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(field.name)[1]) as copy:
        with field.open("rb") as source:
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copy.write(chunk)
        copy.flush()
        yield copy.name


def _already_imported(eval_id: str) -> InspectLogRejected:
    return InspectLogRejected(f"The Inspect log {eval_id} is already imported on this case.")


@contextmanager
def _log_on_disk(upload: UploadedFile, suffix: str):
    """Yield a path to the upload with its suffix (Inspect reads by suffix) and its SHA-256.

    An upload spooled to disk was hashed as it arrived (core.uploads) and is
    linked, not copied; one held in memory is written out once.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"log{suffix}")
        digest = getattr(upload, "sha256", None)
        source = getattr(upload, "temporary_file_path", None)
        if digest and source:
            os.symlink(source(), path)
        else:
            hasher = hashlib.sha256()
            with open(path, "wb") as copy:
                for chunk in upload.chunks():
                    hasher.update(chunk)
                    copy.write(chunk)
            digest = hasher.hexdigest()
        yield path, digest


def _batches(rows, size: int = 1000):
    """Yield lists of up to `size` rows (bulk_create would take a generator whole)."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _sample_rows(run: EvaluationRun, samples):
    seen = set()
    for sample in samples:
        key = (sample["sample_id"][:200], sample["epoch"])
        if key in seen:
            continue
        seen.add(key)
        yield EvaluationSample(
            run=run,
            sample_id=key[0],
            epoch=key[1],
            scores=sample["scores"],
            error=sample["error"],
            input=sample["input"],
            target=sample["target"],
            output=sample["output"],
            messages=sample["messages"],
        )


def unknown_sample_ids(evaluation: EvaluationRun, sample_ids: list[str]) -> list[str]:
    """Return the ids, of those given, that are not samples of the run's log."""
    known = set(
        evaluation.samples.filter(sample_id__in=sample_ids).values_list("sample_id", flat=True)
    )
    return [sample_id for sample_id in sample_ids if sample_id not in known]


def _check_sample_ids(evaluation: EvaluationRun | None, sample_ids: list[str]) -> None:
    if not sample_ids:
        return
    if evaluation is None:
        raise BadInput("Sample ids cite a log: name the evaluation run they come from.")
    if not evaluation.from_inspect:
        raise BadInput(
            f"“{evaluation.title}” was recorded without an Inspect log; it has no samples to cite."
        )
    unknown = unknown_sample_ids(evaluation, sample_ids)
    if unknown:
        raise BadInput(f"The log of “{evaluation.title}” has no sample {', '.join(unknown)}.")


# --- findings (step 6) ------------------------------------------------------------


def _clean_sample_ids(sample_ids: Iterable[str] | str) -> list[str]:
    if isinstance(sample_ids, str):
        sample_ids = sample_ids.replace("\n", ",").split(",")
    return [s.strip() for s in sample_ids if s and s.strip()]


@transaction.atomic
def draft_finding(
    *,
    case: Case,
    actor,
    severity: str,
    title: str,
    description: str,
    category: str = "",
    evaluation: EvaluationRun | None = None,
    sample_ids: Iterable[str] | str = (),
    model_version: ModelVersion | None = None,
) -> Finding:
    """Draft a finding; it stays internal until the case manager shares the findings.

    The severity is always chosen; the category, left empty, is the cited evaluation's.
    """
    locked = _lock(case, actor)
    if not policy.can_draft_finding(actor, locked):
        raise ActionRefused("Findings are drafted by the case's evaluators during testing.")
    if not severity:
        raise BadInput("Choose the finding's severity.")
    if severity not in Severity.values:
        raise ActionRefused(f"“{severity}” is not a severity.")
    if not category and evaluation is not None:
        category = evaluation.category
    if not category:
        raise BadInput("Choose the finding's category, or cite the evaluation it came from.")
    if category not in Category.values:
        raise ActionRefused(f"“{category}” is not a finding category.")
    if evaluation is not None and evaluation.case_id != locked.pk:
        raise ActionRefused("The evidence must be an evaluation run of this case.")
    version = (
        evaluation.model_version
        if evaluation is not None and model_version is None
        else _version_under_test(locked, model_version)
    )
    cited = _clean_sample_ids(sample_ids)
    _check_sample_ids(evaluation, cited)
    finding = Finding.objects.create(
        case=locked,
        model_version=version,
        evaluation=evaluation,
        sample_ids=cited,
        severity=severity,
        category=category,
        title=title,
        description=description,
        created_by=actor,
    )
    record_event(
        case=locked,
        actor=actor,
        verb="finding_drafted",
        details={
            "finding": finding.pk,
            "title": title,
            "severity": severity,
            CONTENT_KEY: FINDING_CONTENT.sha256(finding),
        },
        internal=True,
    )
    return finding


# What a draft's author may still change; everything else is fixed when it is drafted.
DRAFT_EDITABLE = ("severity", "category", "title", "description", "evaluation", "sample_ids")


def _lock_draft(finding: Finding, actor) -> tuple[Case, Finding]:
    """Lock a finding that CAISI may still change: a draft, on a case in testing."""
    locked_case = _lock(finding.case, actor)
    if not actor.is_caisi_staff:
        raise CaseNotFound(locked_case.number)
    if actor.role not in (Role.EVALUATOR, Role.CASE_MANAGER):
        raise NotAllowed("Draft findings are changed by the case's evaluators and case manager.")
    locked = Finding.objects.select_for_update().get(pk=finding.pk)
    if locked.state != FindingState.DRAFT:
        raise ActionRefused(
            f"Finding “{locked.title}” was shared with the company and can no longer be "
            "changed or deleted; record a new finding instead."
        )
    if not policy.can_draft_finding(actor, locked_case):
        raise ActionRefused("Draft findings can be changed only while the case is in testing.")
    return locked_case, locked


@transaction.atomic
def edit_draft_finding(*, finding: Finding, actor, data: dict[str, Any]) -> Finding:
    """Change a draft finding before it is shared; the timeline keeps what it said before."""
    locked_case, locked = _lock_draft(finding, actor)
    new = {f: data[f] for f in DRAFT_EDITABLE if f in data}
    if "sample_ids" in new:
        new["sample_ids"] = _clean_sample_ids(new["sample_ids"])
    problems = []
    if "severity" in new and new["severity"] not in Severity.values:
        problems.append("Choose the finding's severity.")
    evaluation = new.get("evaluation", locked.evaluation)
    if "category" in new and not new["category"]:
        if evaluation is None:
            problems.append("Choose the finding's category, or cite the evaluation it came from.")
        else:
            new["category"] = evaluation.category
    if new.get("category") and new["category"] not in Category.values:
        problems.append(f"“{new['category']}” is not a finding category.")
    for field in ("title", "description"):
        if field in new and not (new[field] or "").strip():
            problems.append(f"The {field} cannot be empty.")
    if evaluation is not None and evaluation.case_id != locked_case.pk:
        problems.append("The evidence must be an evaluation run of this case.")
    if problems:
        raise BadInput(problems)
    changed = [f for f, value in new.items() if getattr(locked, f) != value]
    if not changed:
        return locked
    before = {f: _recorded(getattr(locked, f)) for f in changed}
    for f in changed:
        setattr(locked, f, new[f])
    if "evaluation" in changed and locked.evaluation is not None:
        locked.model_version = locked.evaluation.model_version
        changed.append("model_version")
    locked.save(update_fields=changed)
    record_event(
        case=locked_case,
        actor=actor,
        verb="finding_edited",
        details={
            "finding": locked.pk,
            "title": locked.title,
            "before": before,
            "after": {f: _recorded(getattr(locked, f)) for f in before},
        },
        internal=True,
    )
    return locked


@transaction.atomic
def delete_draft_finding(*, finding: Finding, actor) -> None:
    """Delete a draft finding before it is shared; the timeline keeps what it said."""
    locked_case, locked = _lock_draft(finding, actor)
    details = {
        "finding": locked.pk,
        **{f: _recorded(getattr(locked, f)) for f in DRAFT_EDITABLE},
        "model_version": locked.model_version.label,
    }
    locked.delete()
    record_event(
        case=locked_case, actor=actor, verb="finding_deleted", details=details, internal=True
    )


def _recorded(value):
    """Return a field's value as the timeline stores it (a run by its id)."""
    if isinstance(value, EvaluationRun):
        return value.pk
    return value


def _lock_finding(finding: Finding, actor) -> tuple[Case, Finding]:
    locked_case = _lock(finding.case, actor)
    locked = Finding.objects.select_for_update().get(pk=finding.pk)
    # A draft is invisible to the company; to them it does not exist.
    if locked.state == FindingState.DRAFT and not actor.is_caisi_staff:
        raise CaseNotFound(locked_case.number)
    return locked_case, locked


@transaction.atomic
def respond_to_finding(
    *,
    finding: Finding,
    actor,
    kind: str,
    fixed_in_version: ModelVersion | None = None,
    mitigation: str = "",
    rationale: str = "",
) -> FindingResponse:
    """Record the company's answer to a shared finding for this round."""
    case, locked = _lock_finding(finding, actor)
    if not policy.can_respond_to_finding(actor, case):
        raise ActionRefused("Only the company's liaison answers findings, while the case is open.")
    if locked.state != FindingState.SHARED:
        raise ActionRefused(
            f"“{locked.title}” is {locked.get_state_display().lower()}; it takes no answer now."
        )
    mitigation, rationale = mitigation.strip(), rationale.strip()
    Kind = FindingResponse.Kind
    if kind == Kind.FIXED:
        if fixed_in_version is None:
            raise ActionRefused("Name the revised model version that fixes the finding.")
        if fixed_in_version.case_id != case.pk:
            raise ActionRefused("The revised version must belong to this case.")
        if fixed_in_version.pk == locked.model_version_id:
            raise ActionRefused("The fix must be in a revised version, not the one tested.")
    elif kind == Kind.MITIGATED:
        if not mitigation:
            raise ActionRefused("Describe the mitigation that is in place.")
    elif kind == Kind.DISPUTED:
        if not rationale:
            raise ActionRefused("Give the rationale for disputing the finding.")
        if not mitigation:
            raise ActionRefused("Propose a mitigation alongside the rationale.")
    else:
        raise ActionRefused(f"“{kind}” is not a kind of answer.")
    last = locked.responses.order_by("-round").first()
    response = FindingResponse.objects.create(
        finding=locked,
        round=(last.round + 1) if last else 1,
        kind=kind,
        fixed_in_version=fixed_in_version if kind == Kind.FIXED else None,
        mitigation=mitigation,
        rationale=rationale if kind == Kind.DISPUTED else "",
        responded_by=actor,
    )
    locked.state = FindingState.ANSWERED
    locked.save(update_fields=["state"])
    details = {
        "finding": locked.pk,
        "response": response.pk,
        "title": locked.title,
        "kind": kind,
        "round": response.round,
        CONTENT_KEY: ANSWER_CONTENT.sha256(response),
    }
    if response.fixed_in_version:
        details["fixed_in_version"] = response.fixed_in_version.label
    record_event(case=case, actor=actor, verb="finding_answered", details=details)
    return response


RESOLUTION_OF = {
    FindingResponse.Kind.FIXED: Resolution.VERIFIED_FIXED,
    FindingResponse.Kind.MITIGATED: Resolution.MITIGATION_ACCEPTED,
    FindingResponse.Kind.DISPUTED: Resolution.RATIONALE_ACCEPTED,
}


@transaction.atomic
def review_finding_response(*, finding: Finding, actor, verdict: str, note: str = "") -> Finding:
    """Verify a fix, or accept or reject a mitigation or rationale; a rejection reopens it."""
    case, locked = _lock_finding(finding, actor)
    if not policy.can_review_response(actor, case):
        raise ActionRefused("Only a case manager reviews the company's answers.")
    if locked.state != FindingState.ANSWERED:
        raise ActionRefused(f"“{locked.title}” has no answer waiting for review.")
    response = locked.responses.select_for_update().order_by("-round").first()
    Verdict, Kind = FindingResponse.Verdict, FindingResponse.Kind
    allowed = (
        (Verdict.VERIFIED, Verdict.REJECTED)
        if response.kind == Kind.FIXED
        else (Verdict.ACCEPTED, Verdict.REJECTED)
    )
    if verdict not in allowed:
        choices = " or ".join(Verdict(v).label.lower() for v in allowed)
        raise ActionRefused(f"An answer “{response.get_kind_display()}” is {choices}.")
    note = note.strip()
    if verdict == Verdict.REJECTED and not note:
        raise ActionRefused("Say why the answer is rejected, so the company can answer again.")
    if verdict == Verdict.VERIFIED and response.fixed_in_version.submitted_at is None:
        raise ActionRefused(
            f"Version {response.fixed_in_version.label} has not been resubmitted yet; "
            "CAISI verifies a fix on the submitted version."
        )
    now = timezone.now()
    response.verdict = verdict
    response.review_note = note
    response.reviewed_by = actor
    response.reviewed_at = now
    response.save(update_fields=["verdict", "review_note", "reviewed_by", "reviewed_at"])
    if verdict == Verdict.REJECTED:
        locked.state = FindingState.SHARED
        locked.save(update_fields=["state"])
    else:
        locked.state = FindingState.RESOLVED
        locked.resolution = RESOLUTION_OF[response.kind]
        locked.resolved_at = now
        locked.save(update_fields=["state", "resolution", "resolved_at"])
    record_event(
        case=case,
        actor=actor,
        verb="finding_answer_reviewed",
        details={
            "finding": locked.pk,
            "response": response.pk,
            "title": locked.title,
            "verdict": verdict,
            "round": response.round,
            CONTENT_KEY: DECISION_CONTENT.sha256(response),
        },
    )
    return locked


# --- clarification requests ---------------------------------------------------------


@transaction.atomic
def ask_clarification(
    *, case: Case, actor, question: str, due_date: dt.date
) -> ClarificationRequest:
    """Ask the company a question; the service-level clock pauses until it is answered."""
    locked = _lock(case, actor)
    if not policy.can_ask_clarification(actor, locked):
        raise ActionRefused("Clarification requests are asked by CAISI staff on an open case.")
    question = question.strip()
    if not question:
        raise ActionRefused("Write the question.")
    if due_date < timezone.localdate():
        raise ActionRefused("The due date cannot be in the past.")
    request = ClarificationRequest.objects.create(
        case=locked, question=question, due_date=due_date, asked_by=actor
    )
    pause_clock(case=locked, reason="Waiting on the company's clarification.")
    record_event(
        case=locked,
        actor=actor,
        verb="clarification_requested",
        details={
            "request": request.pk,
            "due_date": due_date,
            CONTENT_KEY: QUESTION_CONTENT.sha256(request),
        },
    )
    return request


def _lock_request(request: ClarificationRequest, actor) -> tuple[Case, ClarificationRequest]:
    case = _lock(request.case, actor)
    return case, ClarificationRequest.objects.select_for_update().get(pk=request.pk)


def _resume_if_nothing_open(case: Case) -> None:
    if not case.clarification_requests.open().exists():
        resume_clock(case=case)


@transaction.atomic
def answer_clarification(
    *, request: ClarificationRequest, actor, answer: str
) -> ClarificationRequest:
    """Record the company's answer; the clock runs again once nothing waits on the company."""
    case, locked = _lock_request(request, actor)
    if not policy.can_answer_clarification(actor, case):
        raise ActionRefused("Only the company's liaison answers clarification requests.")
    if not locked.is_open:
        raise ActionRefused(f"This request is {locked.get_status_display().lower()} already.")
    answer = answer.strip()
    if not answer:
        raise ActionRefused("Write the answer.")
    locked.status = ClarificationRequest.RequestStatus.ANSWERED
    locked.answer = answer
    locked.answered_by = actor
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    _resume_if_nothing_open(case)
    record_event(
        case=case,
        actor=actor,
        verb="clarification_answered",
        details={"request": locked.pk, CONTENT_KEY: CLARIFICATION_ANSWER_CONTENT.sha256(locked)},
    )
    return locked


@transaction.atomic
def close_clarification(
    *, request: ClarificationRequest, actor, note: str = ""
) -> ClarificationRequest:
    """Close a request (answered, or no longer needed); an open one stops pausing the clock."""
    case, locked = _lock_request(request, actor)
    if not policy.can_close_clarification(actor, case):
        raise NotAllowed("Only a case manager closes clarification requests.")
    if locked.status == ClarificationRequest.RequestStatus.CLOSED:
        raise ActionRefused("This request is closed already.")
    was_open = locked.is_open
    locked.status = ClarificationRequest.RequestStatus.CLOSED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    if was_open:
        _resume_if_nothing_open(case)
    record_event(
        case=case,
        actor=actor,
        verb="clarification_closed",
        details={"request": locked.pk, "note": note.strip(), "unanswered": was_open},
    )
    return locked
