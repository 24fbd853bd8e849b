"""Pages of steps 5 and 6: thin views over `findings.services` and the case thread."""

import csv
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cases import services as case_services
from cases.access import can_post_internal, can_post_message, can_see_internal
from cases.models import Message
from cases.selectors import get_visible_case
from core.errors import ActionRefused, CaseNotFound
from core.uploads import accepts_uploads
from core.web import kept_form, run_form, submitted
from findings import inspect_viewer, policy, services
from findings.forms import (
    ClarificationAnswerForm,
    ClarificationRequestForm,
    CloseClarificationForm,
    EvaluationRunForm,
    FindingForm,
    FindingResponseForm,
    InspectImportForm,
    MessageForm,
    ResponseReviewForm,
)
from findings.models import (
    ClarificationRequest,
    EvaluationRun,
    EvaluationSample,
    Finding,
    InspectImport,
)


def _visible_finding(user, case, pk) -> Finding:
    return get_object_or_404(
        Finding.objects.visible_to(user).select_related("evaluation", "model_version", "case"),
        case=case,
        pk=pk,
    )


def _visible_run(user, case, pk) -> EvaluationRun:
    """Return the case's evaluation run, for CAISI staff only."""
    # Evaluation runs are CAISI's working material; to a company they do not exist.
    if not can_see_internal(user):
        raise Http404("No such evaluation.")
    return get_object_or_404(
        EvaluationRun.objects.select_related("model_version", "created_by"), case=case, pk=pk
    )


# --- the message thread ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_messages(request, number):
    case = get_visible_case(request.user, number)
    allow_internal = can_post_internal(request.user)
    form = MessageForm(submitted(request), allow_internal=allow_internal)
    if request.method == "POST" and not can_post_message(request.user, case):
        raise PermissionDenied("You cannot write in this case's thread.")
    status = run_form(
        request,
        form,
        lambda data: case_services.post_message(
            case=case,
            actor=request.user,
            body=data["body"],
            internal=data.get("internal", False),
        ),
        success="Message posted.",
        then=reverse("findings:messages", kwargs={"number": case.number}),
    )
    if isinstance(status, HttpResponse):
        return status
    thread = Message.objects.visible_to(request.user).filter(case=case).select_related("author")
    return render(
        request,
        "findings/messages.html",
        {
            "case": case,
            "thread": thread,
            "form": form,
            "can_post": can_post_message(request.user, case),
        },
        status=status,
    )


# --- clarification requests ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def clarification_new(request, number):
    case = get_visible_case(request.user, number)
    if not policy.can_ask_clarification(request.user, case):
        raise PermissionDenied("Clarification requests are asked by CAISI staff on an open case.")
    form = ClarificationRequestForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.ask_clarification(case=case, actor=request.user, **data),
        success="Clarification requested; the clock is paused.",
        then=case,
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Ask the company for a clarification",
            "submit": "Send the request",
            "intro": "While the request waits on the company, the service-level clock is paused.",
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def clarification_answer(request, number, pk):
    case = get_visible_case(request.user, number)
    clarification = get_object_or_404(ClarificationRequest, case=case, pk=pk)
    if not policy.can_answer_clarification(request.user, case):
        raise PermissionDenied("Only the company's liaison answers clarification requests.")
    form = ClarificationAnswerForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.answer_clarification(
            request=clarification, actor=request.user, **data
        ),
        success="Answer sent to CAISI.",
        then=case,
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Answer the clarification request",
            "quote": clarification.question,
            "quote_meta": f"Due {clarification.due_date:%Y-%m-%d}",
            "submit": "Send the answer",
        },
        status=status,
    )


@login_required
@require_POST
def clarification_close(request, number, pk):
    case = get_visible_case(request.user, number)
    clarification = get_object_or_404(ClarificationRequest, case=case, pk=pk)
    form = CloseClarificationForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.close_clarification(request=clarification, actor=request.user, note=note)
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
        return redirect(case)
    messages.success(request, "Clarification request closed.")
    return redirect(case)


# --- evaluations --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_new(request, number):
    case = get_visible_case(request.user, number)
    if not policy.can_record_evaluation(request.user, case):
        raise PermissionDenied("Evaluations are recorded by the case's evaluators during testing.")
    form = EvaluationRunForm(submitted(request), case=case)
    status = run_form(
        request,
        form,
        lambda data: services.record_evaluation_run(case=case, actor=request.user, **data),
        success=lambda run: f"Evaluation “{run.title}” recorded.",
        then=lambda run: reverse(
            "findings:evaluation", kwargs={"number": case.number, "pk": run.pk}
        ),
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {"case": case, "form": form, "heading": "Record an evaluation run", "submit": "Record"},
        status=status,
    )


def _import_said(done: EvaluationRun | InspectImport) -> str:
    if isinstance(done, InspectImport):
        return f"“{done.name}” was received whole; the portal is reading it now."
    return f"Inspect log imported as “{done.title}”."


def _import_page(case, done: EvaluationRun | InspectImport) -> str:
    if isinstance(done, InspectImport):
        return reverse("findings:inspect_import", kwargs={"number": case.number, "pk": done.pk})
    return reverse("findings:evaluation", kwargs={"number": case.number, "pk": done.pk})


@login_required
def inspect_import(request, number, pk):
    """How the reading of a large Inspect log goes; the run's page once it is recorded."""
    case = get_visible_case(request.user, number)
    if not can_see_internal(request.user):
        raise Http404
    queued = get_object_or_404(InspectImport, case=case, pk=pk)
    if queued.state == InspectImport.State.IMPORTED:
        return redirect(_import_page(case, queued.run))
    return render(request, "findings/inspect_import.html", {"case": case, "queued": queued})


@accepts_uploads("INSPECT_LOG_MAX_BYTES")
@login_required
@require_http_methods(["GET", "POST"])
def evaluation_import(request, number):
    case = get_visible_case(request.user, number)
    if not policy.can_record_evaluation(request.user, case):
        raise PermissionDenied("Evaluations are recorded by the case's evaluators during testing.")
    posted = request.method == "POST"
    form = InspectImportForm(submitted(request), request.FILES if posted else None, case=case)
    for problem in request.upload_problems:  # a log over the limit was dropped as it arrived
        form.add_error("log", problem)

    def import_log(data):
        data = dict(data)
        return services.import_or_queue_inspect_log(
            case=case, actor=request.user, upload=data.pop("log"), **data
        )

    status = run_form(
        request,
        form,
        import_log,
        success=_import_said,
        then=lambda done: _import_page(case, done),
        error_field="log",
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Import an Inspect AI log",
            "intro": "The portal reads the whole log before it keeps it: its status, task, "
            "model, dataset, every scorer's metrics with their reducers, and every sample. "
            "A log cut off or damaged anywhere is refused.",
            "submit": "Import",
            "multipart": True,
        },
        status=status,
    )


@login_required
def evaluation_detail(request, number, pk):
    case = get_visible_case(request.user, number)
    run = _visible_run(request.user, case, pk)
    return render(
        request,
        "findings/evaluation.html",
        {
            "case": case,
            "run": run,
            "findings": run.findings.select_related("case"),
            "can_draft": policy.can_draft_finding(request.user, case),
            "can_finish": run.status == EvaluationRun.RunStatus.RUNNING
            and policy.can_record_evaluation(request.user, case),
        },
    )


@login_required
@require_POST
def evaluation_finish(request, number, pk):
    case = get_visible_case(request.user, number)
    run = _visible_run(request.user, case, pk)
    status = request.POST.get("status", "")
    try:
        services.finish_evaluation_run(run=run, actor=request.user, status=status)
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
    else:
        messages.success(request, f"“{run.title}” marked {status}.")
    return redirect("findings:evaluation", number=case.number, pk=run.pk)


@login_required
def evaluation_log(request, number, pk):
    case = get_visible_case(request.user, number)
    run = _visible_run(request.user, case, pk)
    run.case = case
    try:
        log = services.take_inspect_log(run=run, actor=request.user)
    except CaseNotFound:
        raise Http404("This run has no Inspect log.") from None
    return FileResponse(log.open("rb"), as_attachment=True, filename=log.name.rsplit("/", 1)[-1])


# --- findings ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def finding_new(request, number):
    case = get_visible_case(request.user, number)
    if not policy.can_draft_finding(request.user, case):
        raise PermissionDenied("Findings are drafted by the case's evaluators during testing.")
    initial = {}
    if request.GET.get("evaluation", "").isdigit():
        initial["evaluation"] = int(request.GET["evaluation"])
    form = FindingForm(submitted(request), case=case, initial=initial)
    status = run_form(
        request,
        form,
        lambda data: services.draft_finding(case=case, actor=request.user, **data),
        success="Finding drafted; it stays internal until shared.",
        then=lambda finding: finding,
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Draft a finding",
            "intro": "Drafts are internal. The case manager shares all drafts at once.",
            "submit": "Save the draft",
        },
        status=status,
    )


def _visible_draft(request, number, pk) -> tuple:
    case = get_visible_case(request.user, number)
    finding = _visible_finding(request.user, case, pk)
    if not policy.can_draft_finding(request.user, case):
        raise PermissionDenied("Draft findings are changed by the case's evaluators in testing.")
    return case, finding


@login_required
@require_http_methods(["GET", "POST"])
def finding_edit(request, number, pk):
    case, finding = _visible_draft(request, number, pk)
    form = FindingForm(submitted(request), case=case, initial=FindingForm.initial_for(finding))
    status = run_form(
        request,
        form,
        lambda data: services.edit_draft_finding(finding=finding, actor=request.user, data=data),
        success="Draft saved; it stays internal until shared.",
        then=lambda saved: saved,
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": f"Edit the draft finding “{finding.title}”",
            "intro": "A draft can be changed until the findings are shared; the timeline keeps "
            "what it said before.",
            "submit": "Save the draft",
        },
        status=status,
    )


@login_required
@require_POST
def finding_delete(request, number, pk):
    case, finding = _visible_draft(request, number, pk)
    try:
        services.delete_draft_finding(finding=finding, actor=request.user)
    except services.ActionRefused as refusal:
        for text in refusal.blockers:
            messages.error(request, text)
        return redirect(finding)
    messages.success(request, f"Draft finding “{finding.title}” deleted; the timeline keeps it.")
    return redirect(case)


def _finding_page(request, case, finding, *, respond_form=None, review_form=None, status=200):
    user = request.user
    can_respond = policy.can_respond_to_finding(user, case) and finding.awaits_company
    can_review = policy.can_review_response(user, case) and finding.state == "answered"
    if respond_form is None and can_respond:
        # An answer held for the identity step-up comes back filled in, ready to send.
        respond_form = FindingResponseForm(kept_form(request), case=case)
    if review_form is None and can_review:
        review_form = ResponseReviewForm()
    return render(
        request,
        "findings/finding.html",
        {
            "case": case,
            "finding": finding,
            "responses": finding.responses.select_related(
                "fixed_in_version", "responded_by", "reviewed_by"
            ),
            "can_see_internal": can_see_internal(user),
            "cited_samples": EvaluationSample.objects.filter(
                run_id=finding.evaluation_id, sample_id__in=finding.sample_ids
            ),
            "respond_form": respond_form,
            "review_form": review_form,
            "can_change_draft": finding.state == "draft" and policy.can_draft_finding(user, case),
        },
        status=status,
    )


@login_required
def finding_detail(request, number, pk):
    case = get_visible_case(request.user, number)
    return _finding_page(request, case, _visible_finding(request.user, case, pk))


@login_required
@require_POST
def finding_respond(request, number, pk):
    case = get_visible_case(request.user, number)
    finding = _visible_finding(request.user, case, pk)
    form = FindingResponseForm(request.POST, case=case)
    try:
        status = run_form(
            request,
            form,
            lambda data: services.respond_to_finding(finding=finding, actor=request.user, **data),
            success="Answer sent to CAISI.",
            then=finding,
        )
    except CaseNotFound:
        raise Http404("No such finding.") from None
    if isinstance(status, HttpResponse):
        return status
    return _finding_page(request, case, finding, respond_form=form, status=status)


@login_required
@require_POST
def finding_review(request, number, pk):
    case = get_visible_case(request.user, number)
    finding = _visible_finding(request.user, case, pk)
    form = ResponseReviewForm(request.POST)
    status = run_form(
        request,
        form,
        lambda data: services.review_finding_response(finding=finding, actor=request.user, **data),
        success="Review recorded.",
        then=finding,
    )
    if isinstance(status, HttpResponse):
        return status
    return _finding_page(request, case, finding, review_form=form, status=status)


def _cell(value) -> str:
    """Keep a spreadsheet from reading a cell as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def findings_export(request, number):
    """Download the findings this user may see as CSV (drafts only for CAISI)."""
    case = get_visible_case(request.user, number)
    findings = (
        Finding.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("model_version", "evaluation")
        .order_by("created_at")
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{case.number}-findings.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["id", "severity", "category", "title", "state", "resolution", "version", "samples"]
    )
    for f in findings:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    f.pk,
                    f.severity,
                    f.category,
                    f.title,
                    f.state,
                    f.resolution,
                    f.model_version.label,
                    " ".join(f.sample_ids),
                )
            ]
        )
    return response


# --- the log's bytes, Inspect's own viewer, and one sample ------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@login_required
@require_http_methods(["GET", "HEAD"])
def evaluation_log_bytes(request, number, pk, name):
    """Serve the stored log to CAISI staff, whole or one byte range (the viewer reads ranges)."""
    case = get_visible_case(request.user, number)
    run = _visible_run(request.user, case, pk)
    if not run.inspect_log or name != run.viewer_log_name:
        raise Http404("This run has no such log.")
    size = run.inspect_log.size
    header = request.headers.get("Range", "")
    if not header:
        response = FileResponse(run.inspect_log.open("rb"), content_type="application/octet-stream")
        response["Accept-Ranges"] = "bytes"
        return response
    match = _RANGE.match(header.strip())
    start, end = _byte_range(match, size) if match else (None, None)
    if start is None:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    log = run.inspect_log.open("rb")
    log.seek(start)
    response = StreamingHttpResponse(
        _read_span(log, end - start + 1), status=206, content_type="application/octet-stream"
    )
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _byte_range(match, size: int) -> tuple[int | None, int | None]:
    """Return the first and last byte of a single range, or (None, None) if unsatisfiable."""
    first, last = match.groups()
    if first == "" and last == "":
        return None, None
    if first == "":  # the last N bytes
        length = int(last)
        return (max(0, size - length), size - 1) if length and size else (None, None)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return None, None
    return start, end


def _read_span(log, length: int, chunk: int = 1024 * 1024):
    try:
        while length > 0:
            data = log.read(min(chunk, length))
            if not data:
                return
            length -= len(data)
            yield data
    finally:
        log.close()


@login_required
@require_http_methods(["GET", "HEAD"])
def evaluation_viewer(request, number, pk, path=""):
    """Serve Inspect's own log viewer, from the files inside the inspect_ai package, for one log."""
    case = get_visible_case(request.user, number)
    run = _visible_run(request.user, case, pk)
    if not run.inspect_log:
        raise Http404("This run has no Inspect log.")
    if path:
        return inspect_viewer.asset(path)
    log_url = reverse(
        "findings:evaluation_log_bytes",
        kwargs={"number": case.number, "pk": run.pk, "name": run.viewer_log_name},
    )
    # One log per page: whatever else a link names, the viewer opens this run's log.
    if request.GET.get("log_file") != log_url or len(request.GET) != 1:
        return redirect(f"{request.path}?{urlencode({'log_file': log_url})}")
    return inspect_viewer.index()


@login_required
def finding_sample(request, number, pk, sample):
    """Show one sample a finding cites: its input, output, transcript and scores."""
    case = get_visible_case(request.user, number)
    # A company sees a finding once shared, and only the samples it cites.
    finding = _visible_finding(request.user, case, pk)
    if finding.evaluation_id is None:
        raise Http404("This finding cites no log.")
    row = get_object_or_404(
        EvaluationSample, run_id=finding.evaluation_id, pk=sample, sample_id__in=finding.sample_ids
    )
    return render(
        request,
        "findings/sample.html",
        {
            "case": case,
            "finding": finding,
            "sample": row,
            "can_see_internal": can_see_internal(request.user),
        },
    )
