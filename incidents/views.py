"""The pages after release: report an incident, follow it, file and review monitoring reports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from cases import access
from cases.selectors import get_visible_case
from core.errors import ActionRefused
from core.uploads import accepts_uploads
from core.web import run_form, submitted
from incidents import services
from incidents.forms import (
    IncidentNoteForm,
    IncidentReportForm,
    IncidentTriageForm,
    IncidentUpdateForm,
    MonitoringReportReviewForm,
    MonitoringReportUploadForm,
)
from incidents.models import Incident, IncidentNote, MonitoringReport


def _incident_page(request, case, incident, *, status=200, **forms):
    staff = access.can_see_internal(request.user)
    context = {
        "case": case,
        "incident": incident,
        "notes": IncidentNote.objects.visible_to(request.user)
        .filter(incident=incident)
        .select_related("author"),
        "staff": staff,
        "can_update": request.user.role == Role.LIAISON and incident.is_open,
        "can_triage": request.user.role in services.TRIAGERS and incident.is_open,
        "can_note": request.user.role in access.WRITES_MESSAGES,
        "update_form": forms.get("update_form") or IncidentUpdateForm(),
        "triage_form": forms.get("triage_form") or IncidentTriageForm(),
        "note_form": forms.get("note_form") or IncidentNoteForm(staff=staff),
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


def _visible_incident(request, number, incident) -> tuple:
    case = get_visible_case(request.user, number)
    return case, get_object_or_404(Incident, case=case, number=incident)


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request, number):
    case = get_visible_case(request.user, number)
    if not services.can_report_incident(request.user, case):
        raise PermissionDenied("Incidents are reported on a cleared model once it is released.")
    form = IncidentReportForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.report_incident(case=case, actor=request.user, **data),
        success=lambda incident: f"Incident {incident.number} reported to CAISI.",
        then=lambda incident: redirect(
            "incidents:detail", number=case.number, incident=incident.number
        ),
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "heading": "Report an incident",
            "intro": "Report what happened after release. The initial report is due within "
            "2, 5, 10 or 15 days of becoming aware of it, by severity; then an update at least "
            "every 4 weeks while it is open, and a final report within 60 days of resolution.",
            "submit": "Report the incident",
        },
        status=status,
    )


@login_required
def incident_detail(request, number, incident):
    case, found = _visible_incident(request, number, incident)
    return _incident_page(request, case, found)


def _post_on_incident(request, number, incident, form_name, form, perform, success):
    case, found = _visible_incident(request, number, incident)
    status = run_form(
        request,
        form,
        lambda data: perform(found, data),
        success=success,
        then=redirect("incidents:detail", number=case.number, incident=found.number),
    )
    if isinstance(status, HttpResponse):
        return status
    return _incident_page(request, case, found, status=status, **{form_name: form})


@login_required
@require_POST
def incident_update(request, number, incident):
    return _post_on_incident(
        request,
        number,
        incident,
        "update_form",
        IncidentUpdateForm(request.POST),
        lambda found, data: services.update_incident(incident=found, actor=request.user, **data),
        "Your report is on record.",
    )


@login_required
@require_POST
def incident_triage(request, number, incident):
    return _post_on_incident(
        request,
        number,
        incident,
        "triage_form",
        IncidentTriageForm(request.POST),
        lambda found, data: services.triage_incident(incident=found, actor=request.user, **data),
        "Triage recorded.",
    )


@login_required
@require_POST
def incident_note(request, number, incident):
    staff = access.can_see_internal(request.user)
    return _post_on_incident(
        request,
        number,
        incident,
        "note_form",
        IncidentNoteForm(request.POST, staff=staff),
        lambda found, data: services.add_incident_note(incident=found, actor=request.user, **data),
        "Note added.",
    )


# --- monitoring reports ---------------------------------------------------------------


@accepts_uploads("SUBMISSION_DOCUMENT_MAX_BYTES")
@csrf_exempt
@login_required
def report_file(request, number, pk):
    # The upload pipeline (core.uploads) caps the file as it streams; the CSRF
    # check runs inside, as for every upload page.
    case = get_visible_case(request.user, number)  # an outsider gets a 404 before any byte
    get_object_or_404(MonitoringReport, case=case, pk=pk)
    if request.user.role != Role.LIAISON:
        raise PermissionDenied("Only the company files its monitoring reports.")
    return _report_file(request, number, pk)


@csrf_protect
@require_http_methods(["GET", "POST"])
def _report_file(request, number, pk):
    case = get_visible_case(request.user, number)
    report = get_object_or_404(MonitoringReport, case=case, pk=pk)
    form = MonitoringReportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        problems = list(getattr(request, "upload_problems", []))
        if problems or not form.is_valid():
            for problem in problems:
                form.add_error(None, problem)
            status = 400
        else:
            upload = form.cleaned_data["file"]
            try:
                services.submit_monitoring_report(
                    report=report, actor=request.user, file=upload, original_name=upload.name
                )
            except ActionRefused as refusal:
                form.add_error(None, refusal.blockers)
                status = refusal.http_status
            else:
                messages.success(request, f"Monitoring report {report.sequence} filed.")
                return redirect(case)
    return render(
        request,
        "findings/form_page.html",
        {
            "case": case,
            "form": form,
            "multipart": True,
            "heading": f"File monitoring report {report.sequence}",
            "intro": f"Due {report.due_at:%Y-%m-%d}, as statement {report.statement_number}'s "
            "conditions ask.",
            "submit": "File the report",
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_review(request, number, pk):
    case = get_visible_case(request.user, number)
    report = get_object_or_404(MonitoringReport, case=case, pk=pk)
    if request.user.role not in services.TRIAGERS:
        raise PermissionDenied("Only a case manager or a clearance official reviews these reports.")
    form = MonitoringReportReviewForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.review_monitoring_report(report=report, actor=request.user, **data),
        success="Review recorded.",
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
            "heading": f"Review monitoring report {report.sequence}",
            "submit": "Record the review",
        },
        status=status,
    )
