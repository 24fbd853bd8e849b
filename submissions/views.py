"""The company's submission pages and CAISI's review of them: thin views over services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.encoding import escape_uri_path
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from cases import access
from cases.selectors import get_visible_case
from core.errors import ActionRefused, CaseNotFound
from core.uploads import accepts_uploads
from core.web import run_form, submitted
from submissions import policy, services
from submissions.checklist import GROUPS
from submissions.forms import (
    AccessGrantForm,
    ArtifactUploadForm,
    ChecklistForm,
    DocumentReviewForm,
    DocumentUploadForm,
    GrantRevokeForm,
    ModelVersionForm,
)
from submissions.models import (
    AccessGrant,
    AccessMethod,
    ChecklistEntry,
    Document,
    ModelVersion,
    as_digest,
)
from submissions.selectors import checklist_summary, documentation_completeness
from submissions.uploads import ascii_fallback


def _require_contributor(user, case) -> None:
    if not access.can_contribute(user, case):
        raise PermissionDenied(
            "Only the company's liaison can add material, and only while the case is open."
        )


def _wants_json(request) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


# --- versions ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def version_new(request, number):
    case = get_visible_case(request.user, number)
    if not policy.can_add_version(request.user, case):
        raise PermissionDenied(
            "Only the company's liaison records versions, while the case is open."
        )
    form = ModelVersionForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.add_version(case=case, actor=request.user, **data),
        success=lambda version: f"Version {version.label} recorded.",
        then=case,
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "submissions/version_form.html",
        {"case": case, "form": form, "title": "Add a model version"},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request, number, pk):
    case = get_visible_case(request.user, number)
    version = get_object_or_404(ModelVersion, case=case, pk=pk)
    if not policy.can_add_version(request.user, case):
        raise PermissionDenied("Only the company's liaison edits versions, while the case is open.")
    if version.is_frozen:
        raise PermissionDenied("A submitted version is frozen; add a new version instead.")
    form = ModelVersionForm(submitted(request), instance=version)
    status = run_form(
        request,
        form,
        lambda data: services.update_version(version=version, actor=request.user, data=data),
        success="Version saved.",
        then=case,
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "submissions/version_form.html",
        {"case": case, "form": form, "title": f"Edit version {version.label}"},
        status=status,
    )


@login_required
@require_POST
def version_carry_documentation(request, number, pk):
    """Confirm that the documentation on file still holds for a revised version."""
    case = get_visible_case(request.user, number)
    version = get_object_or_404(ModelVersion, case=case, pk=pk)
    try:
        services.carry_documentation_forward(version=version, actor=request.user)
    except services.NotAllowed as refusal:
        raise PermissionDenied(refusal.blockers[0]) from None
    except ActionRefused as refusal:
        for text in refusal.blockers:
            messages.error(request, text)
        return redirect(case)
    messages.success(request, f"The documentation on file now covers version {version.label}.")
    return redirect(case)


COMPARED_FIELDS = (
    ("label", "Label"),
    ("vcs_reference", "VCS reference"),
    ("digest", "Digest"),
    ("artifact_sha256", "Artifact SHA-256"),
    ("container_image", "Container image"),
    ("get_packaging_display", "Packaging"),
    ("changelog", "Changelog"),
    ("submitted_at", "Submitted"),
    ("created_at", "Recorded"),
)


@login_required
def version_compare(request, number):
    case = get_visible_case(request.user, number)
    versions = list(case.versions.prefetch_related("documents"))
    by_pk = {str(v.pk): v for v in versions}
    default_a = versions[-2] if len(versions) > 1 else (versions[0] if versions else None)
    a = by_pk.get(request.GET.get("a", ""), default_a)
    b = by_pk.get(request.GET.get("b", ""), versions[-1] if versions else None)
    rows, document_rows = [], []
    if a and b:
        for attr, label in COMPARED_FIELDS:
            left, right = (getattr(v, attr) for v in (a, b))
            left, right = (x() if callable(x) else x for x in (left, right))
            rows.append({"label": label, "a": left, "b": right, "same": left == right})
        docs_a = {d.kind: d for d in sorted(a.documents.all(), key=lambda d: d.version_number)}
        docs_b = {d.kind: d for d in sorted(b.documents.all(), key=lambda d: d.version_number)}
        for kind in sorted(set(docs_a) | set(docs_b)):
            da, db = docs_a.get(kind), docs_b.get(kind)
            document_rows.append(
                {
                    "kind": (da or db).get_kind_display(),
                    "a": da,
                    "b": db,
                    "same": bool(da and db and da.sha256 == db.sha256),
                }
            )
    return render(
        request,
        "submissions/version_compare.html",
        {
            "case": case,
            "versions": versions,
            "a": a,
            "b": b,
            "rows": rows,
            "document_rows": document_rows,
        },
    )


# --- access grants ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def grant_new(request, number):
    case = get_visible_case(request.user, number)
    _require_contributor(request.user, case)
    form = AccessGrantForm(submitted(request), case=case)
    status = run_form(
        request,
        form,
        lambda data: services.grant_access(case=case, actor=request.user, **data),
        success="Access recorded. The credentials are stored encrypted.",
        # Uploaded weights come next for an upload grant.
        then=lambda grant: (
            reverse("submissions:artifact_upload", kwargs={"number": case.number, "pk": grant.pk})
            if grant.method == AccessMethod.WEIGHTS_UPLOAD
            else case
        ),
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request, "submissions/grant_form.html", {"case": case, "form": form}, status=status
    )


def _visible_grant(request, number, pk) -> AccessGrant:
    case = get_visible_case(request.user, number)
    grant = get_object_or_404(AccessGrant, case=case, pk=pk)
    grant.case = case  # the visible, already loaded case
    return grant


@login_required
@require_POST
def grant_reveal(request, number, pk):
    grant = _visible_grant(request, number, pk)
    try:
        credentials = services.reveal_credentials(grant=grant, actor=request.user)
    except services.NotAllowed as refusal:
        raise PermissionDenied(refusal.blockers[0]) from None
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
        return redirect(grant.case)
    response = render(
        request,
        "submissions/grant_reveal.html",
        {"case": grant.case, "grant": grant, "credentials": credentials},
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def grant_revoke(request, number, pk):
    """Revoke CAISI's access, with the liaison's reason and confirmation."""
    grant = _visible_grant(request, number, pk)
    form = GrantRevokeForm(request.POST)
    status = run_form(
        request,
        form,
        lambda data: services.revoke_access(
            grant=grant, actor=request.user, reason=data["reason"], confirmed=data["confirm"]
        ),
        success="Access revoked: CAISI has been told, with your reason.",
        then=grant.case,
    )
    if isinstance(status, HttpResponse):
        return status
    if status == 403:
        raise PermissionDenied("Only the company's liaison can revoke its access grant.")
    # Asked again with what was typed kept: nothing is revoked without both.
    return render(
        request,
        "submissions/grant_revoke.html",
        {"case": grant.case, "grant": grant, "form": form},
        status=status,
    )


# --- uploads -----------------------------------------------------------------------------


def _upload_response(request, *, template, context, form, refusal_messages, status):
    """Answer a failed upload: JSON for the progress-bar script, the page otherwise."""
    for text in refusal_messages:
        form.add_error(None, text)
    if _wants_json(request):
        errors = [str(e) for e in form.non_field_errors()] + [
            f"{form.fields[name].label or name}: {' '.join(errs)}"
            for name, errs in form.errors.items()
            if name != "__all__"
        ]
        return JsonResponse({"ok": False, "errors": errors}, status=status)
    return render(request, template, {**context, "form": form}, status=status)


def _upload_success(request, url: str, message: str):
    messages.success(request, message)
    if _wants_json(request):
        return JsonResponse({"ok": True, "redirect": url})
    return redirect(url)


def _run_upload(request, form, store, *, template, context, then):
    """Check the streamed file and its form, store it, and answer the page or the script.

    `store(cleaned_data, upload)` calls the service; `then(result)` gives the
    (url, message) to go on with.
    """
    problems = list(request.upload_problems)
    if problems or not form.is_valid():
        return _upload_response(
            request,
            template=template,
            context=context,
            form=form,
            refusal_messages=problems,
            status=400,
        )
    try:
        result = store(form.cleaned_data, form.cleaned_data["file"])
    except ActionRefused as refusal:
        return _upload_response(
            request,
            template=template,
            context=context,
            form=form,
            refusal_messages=refusal.blockers,
            status=refusal.http_status,
        )
    url, message = then(result)
    return _upload_success(request, url, message)


@accepts_uploads("SUBMISSION_ARTIFACT_MAX_BYTES")
@csrf_exempt
@login_required
def artifact_upload(request, number, pk):
    # The CSRF check reads the body; it runs inside, so that an outsider gets
    # a 404 before any byte is read (the upload pipeline caps it either way).
    _visible_grant(request, number, pk)
    return _artifact_upload(request, number, pk)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _artifact_upload(request, number, pk):
    grant = _visible_grant(request, number, pk)
    case = grant.case
    _require_contributor(request.user, case)
    if grant.method != AccessMethod.WEIGHTS_UPLOAD:
        raise Http404("Weights are uploaded only to a secure-upload grant.")
    context = {"case": case, "grant": grant}
    template = "submissions/artifact_upload.html"
    if request.method != "POST":
        # The version already declares the digest; the company confirms it, not retypes it.
        declared = as_digest(grant.model_version.artifact_sha256) if grant.model_version_id else ""
        form = ArtifactUploadForm(initial={"expected_sha256": declared})
        return render(request, template, {**context, "form": form})
    return _run_upload(
        request,
        ArtifactUploadForm(request.POST, request.FILES),
        lambda data, upload: services.upload_artifact(
            grant=grant,
            actor=request.user,
            file=upload,
            original_name=upload.name,
            expected_sha256=data["expected_sha256"],
        ),
        template=template,
        context=context,
        then=lambda _: (case.get_absolute_url(), "Weights received; the checksum matches."),
    )


@accepts_uploads("SUBMISSION_DOCUMENT_MAX_BYTES")
@csrf_exempt
@login_required
def document_upload(request, number):
    get_visible_case(request.user, number)  # an outsider gets a 404 before any byte is read
    return _document_upload(request, number)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _document_upload(request, number):
    case = get_visible_case(request.user, number)
    _require_contributor(request.user, case)
    template = "submissions/document_upload.html"
    context = {"case": case}
    if request.method != "POST":
        initial = {"kind": request.GET.get("kind", "")}
        return render(
            request, template, {**context, "form": DocumentUploadForm(case=case, initial=initial)}
        )
    return _run_upload(
        request,
        DocumentUploadForm(request.POST, request.FILES, case=case),
        lambda data, upload: services.upload_document(
            case=case,
            actor=request.user,
            kind=data["kind"],
            file=upload,
            original_name=upload.name,
            title=data["title"],
            report_type=data["report_type"],
            model_version=data["model_version"],
        ),
        template=template,
        context=context,
        then=lambda document: (
            reverse("submissions:documents", kwargs={"number": case.number}),
            f"{document.get_kind_display()} version {document.version_number} received.",
        ),
    )


# --- documents ---------------------------------------------------------------------------


@login_required
def document_list(request, number):
    case = get_visible_case(request.user, number)
    documents = list(
        Document.objects.filter(case=case)
        .select_related("uploaded_by", "reviewed_by", "model_version")
        .order_by("kind", "-version_number")
    )
    return render(
        request,
        "submissions/document_list.html",
        {
            "case": case,
            "documents": documents,
            "completeness": documentation_completeness(documents),
            "can_contribute": access.can_contribute(request.user, case),
            "can_review": request.user.role == "case_manager" and case.is_open,
            "review_form": DocumentReviewForm(),
        },
    )


@login_required
@require_POST
def document_review(request, number, pk):
    case = get_visible_case(request.user, number)
    document = get_object_or_404(Document, case=case, pk=pk)
    document.case = case
    form = DocumentReviewForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Not saved: " + " ".join(e for errs in form.errors.values() for e in errs)
        )
        return redirect("submissions:documents", number=case.number)
    try:
        services.review_document(
            document=document,
            actor=request.user,
            accept=form.cleaned_data["decision"] == "accept",
            comment=form.cleaned_data["comment"],
        )
    except services.NotAllowed as refusal:
        raise PermissionDenied(refusal.blockers[0]) from None
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
    else:
        messages.success(request, f"{document} reviewed.")
    return redirect("submissions:documents", number=case.number)


def _attachment(file_field, name: str, content_type: str):
    try:
        handle = default_storage.open(file_field.name, "rb")
    except FileNotFoundError:
        raise Http404("The file is no longer in storage.") from None
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{escape_uri_path(name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    add_never_cache_headers(response)
    return response


@login_required
def document_download(request, number, pk):
    case = get_visible_case(request.user, number)
    document = get_object_or_404(Document, case=case, pk=pk)
    document.case = case
    try:
        file = services.take_document(document=document, actor=request.user)
    except CaseNotFound:
        raise Http404("This document has no file.") from None
    return _attachment(file, document.original_name, document.content_type)


@login_required
def artifact_download(request, number, pk):
    grant = _visible_grant(request, number, pk)
    try:
        file = services.take_weights(grant=grant, actor=request.user)
    except CaseNotFound:
        raise Http404("No weights were uploaded to this grant.") from None
    except services.NotAllowed as refusal:
        raise PermissionDenied(refusal.blockers[0]) from None
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
        return redirect(grant.case)
    return _attachment(file, grant.artifact_original_name, "application/octet-stream")


# --- the deployment checklist --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def checklist(request, number):
    """Answer the checklist one section at a time; CAISI reads the answers and the gaps."""
    case = get_visible_case(request.user, number)
    can_edit = access.can_contribute(request.user, case)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only the company's liaison answers the checklist while open.")
    section = request.POST.get("section") or None
    if section is not None and section not in {g.key for g in GROUPS}:
        return HttpResponseBadRequest("There is no such section of the checklist.")
    form = ChecklistForm(
        submitted(request), case=case, entries=_checklist_entries(case), section=section
    )
    url = reverse("submissions:checklist", kwargs={"number": case.number})
    status = run_form(
        request,
        form,
        lambda data: services.record_checklist(
            case=case, actor=request.user, answers=form.answers()
        ),
        success=lambda changed: f"Checklist saved ({changed} practice(s) changed).",
        then=lambda changed: _after_checklist_save(request, case, form, url),
    )
    if isinstance(status, HttpResponse):
        return status
    return _checklist_page(request, case, form, can_edit=can_edit, status=status)


def _checklist_entries(case) -> dict:
    return {e.practice: e for e in ChecklistEntry.objects.filter(case=case)}


def _after_checklist_save(request, case, form, url: str):
    """Go back to the saved section, or keep what was typed in sections not saved yet."""
    unsaved = form.unsaved_sections()
    if not unsaved:
        return redirect(f"{url}#section-{form.section}" if form.section else url)
    names = ", ".join(f"“{group.title}”" for group in unsaved)
    messages.warning(
        request,
        f"Not saved yet: your changes in {names}. They are still on this page; "
        "save each section to keep them.",
    )
    # A fresh form over the saved record, holding what was typed everywhere else.
    fresh = ChecklistForm(
        request.POST, case=case, entries=_checklist_entries(case), section=form.section
    )
    return _checklist_page(request, case, fresh, can_edit=True, status=200, unsaved=unsaved)


def _checklist_page(request, case, form, *, can_edit: bool, status: int, unsaved=()):
    entries = _checklist_entries(case)
    return render(
        request,
        "submissions/checklist.html",
        {
            "case": case,
            "form": form,
            "can_edit": can_edit,
            "entries": entries,
            "summary": checklist_summary(list(entries.values())),
            "unsaved": [group.key for group in unsaved],
        },
        status=status,
    )
