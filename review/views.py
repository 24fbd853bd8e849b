import datetime as dt
import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from cases import access
from cases import services as case_services
from cases.forms import IntakeForm, NewCaseForm
from cases.models import Case, CaseEvent, lead_time_horizon
from cases.selectors import get_visible_case
from cases.status import STEPS
from clearance.pdf import statement_context
from core.signing import SigningIdentityMissing
from core.web import run_form, submitted
from review import case_page, policy, services
from review.forms import ActionForm
from review.lifecycle import TRANSITIONS, Action, actions_from
from review.tasks_for import next_steps, tasks_for, waiting_on


@login_required
def dashboard(request):
    cases = (
        Case.objects.visible_to(request.user)
        .select_related("organization", "case_manager")
        .annotate(last_change=F(access.changed_at_field(request.user)))
        .order_by("-last_change", "-pk")
    )
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/dashboard.html",
        {
            "page": page,
            "can_create": access.can_create_case(request.user),
            "tasks": tasks_for(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    if not access.can_create_case(request.user):
        raise PermissionDenied("Only a company liaison can open a case.")
    form = NewCaseForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        case = case_services.open_case(actor=request.user, **form.cleaned_data)
        messages.success(request, f"Case {case.number} opened. Complete the intake next.")
        return redirect("cases:intake", number=case.number)
    return render(
        request, "cases/case_new.html", {"form": form}, status=400 if form.errors else 200
    )


def _action_options(user, case: Case) -> list[dict]:
    return [
        {"transition": t, "blockers": services.gate_blockers(case, t.action)}
        for t in actions_from(case)
        if policy.can_take(user, case, t.action)
    ]


# The case page shows this many timeline entries; older ones are a link away.
TIMELINE_PAGE = 50


def timeline_page(user, case: Case, before: str | None) -> tuple[list[CaseEvent], int | None]:
    """Return a page of the timeline, newest first, and the seq to read older entries from.

    Paged by sequence number, not by offset: a case with thousands of entries
    costs one indexed read per page, and no count.
    """
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("-seq")
    if not access.can_see_internal(user):
        events = events.filter(internal=False)
    if before and before.isdigit():
        events = events.filter(seq__lt=int(before))
    rows = list(events[: TIMELINE_PAGE + 1])
    older = rows[TIMELINE_PAGE - 1].seq if len(rows) > TIMELINE_PAGE else None
    return rows[:TIMELINE_PAGE], older


@login_required
def case_detail(request, number):
    case = case_page.case_for_page(request.user, number)
    events, older = timeline_page(request.user, case, request.GET.get("before"))
    actions = _action_options(request.user, case)
    ready = frozenset(o["transition"].action.value for o in actions if not o["blockers"])
    tasks = tasks_for(request.user, case=case, ready=ready)
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "steps": STEPS,
            "events": events,
            "timeline_older": older,
            "timeline_paged": bool(request.GET.get("before")),
            "actions": actions,
            "can_edit_intake": access.can_edit_intake(request.user, case),
            "can_see_internal": access.can_see_internal(request.user),
            # The findings panel offers the share; whether this person may is the table's.
            "can_share_findings": policy.can_take(request.user, case, Action.SHARE_FINDINGS),
            "can_export_record": policy.can_export_record(request.user, case),
            "tasks": tasks,
            "tasks_heading": "What you must do now",
            "waiting_on": waiting_on(case, has_tasks=bool(tasks)),
            "next_steps": next_steps(request.user, case),
        },
    )


def record_response(stream, case: Case, audience: str) -> FileResponse:
    """Send a written record as a download, never cached on the way."""
    stream.seek(0)
    suffix = "" if audience == "caisi" else "-company"
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=f"{case.number}-record{suffix}.zip",
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def case_record_export(request, number):
    """Download the case's signed record: CAISI's whole record, or the company's own."""
    case = get_visible_case(request.user, number)
    if not policy.can_export_record(request.user, case):
        raise PermissionDenied("You cannot export this case's record.")
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it once sent
    try:
        written = services.export_record(case=case, actor=request.user, output=stream)
    except SigningIdentityMissing:
        stream.close()
        messages.error(
            request,
            "The record cannot be signed now: the portal's signing identity is not installed. "
            "Nothing was exported; try again once an administrator has installed it.",
        )
        return redirect(case)
    return record_response(stream, case, written.audience)


@login_required
@require_http_methods(["GET", "POST"])
def intake_edit(request, number):
    case = get_visible_case(request.user, number)
    if not access.can_edit_intake(request.user, case):
        raise PermissionDenied("The intake can only be edited by the company while in intake.")
    form = IntakeForm(submitted(request), instance=case)
    if request.method == "POST":
        if form.is_valid():
            case_services.update_intake(case=case, actor=request.user, data=form.cleaned_data)
            messages.success(request, "Draft saved. Nothing reaches CAISI until you submit.")
            if "return" in request.POST:
                return redirect(case)
            if "add_version" in request.POST:
                return redirect("submissions:version_new", number=case.number)
            return redirect("cases:intake", number=case.number)
        messages.error(request, "Nothing was saved: correct the fields marked below.")
    days = form.days_to_release()
    lead_time = settings.REVIEW_LEAD_TIME_DAYS
    return render(
        request,
        "cases/intake_form.html",
        {
            "case": case,
            "form": form,
            "blockers": services.gate_blockers(case, "submit_intake"),
            "versions": case.versions.all(),
            "days_to_release": days,
            "lead_time_days": lead_time,
            # A date already past has its own error on the form, not this warning.
            "short_lead_time": days is not None
            and days >= 0
            and timezone.localdate() + dt.timedelta(days=days) < lead_time_horizon(),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request, number, action):
    case = get_visible_case(request.user, number)
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Http404("No such action.")
    if not policy.can_take(request.user, case, action):
        raise PermissionDenied(f"You cannot {transition.action.label.lower()} on this case now.")
    form = ActionForm(submitted(request), transition=transition, case=case)
    if action == Action.ISSUE_CLEARANCE and request.POST.get("step") != "sign":
        return _preview_clearance(request, case, transition, form)
    status = run_form(
        request,
        form,
        lambda data: services.perform(case=case, actor=request.user, action=action, **data),
        success=f"{transition.action.label}: done.",
        then=case,
    )
    if isinstance(status, HttpResponse):
        return status
    # A refusal's reasons are on the form; otherwise preview what the gate still lacks.
    refused = status == services.ActionRefused.http_status
    return render(
        request,
        "cases/action_form.html",
        {
            "case": case,
            "transition": transition,
            "form": form,
            "blockers": [] if refused else services.gate_blockers(case, action),
        },
        status=status,
    )


def _preview_clearance(request, case: Case, transition, form) -> HttpResponse:
    """Show the statement as it will read, and what signing it does, before it is signed.

    A GET or an "edit" shows the form (keeping what was chosen); a "preview" with
    valid choices shows the statement and the confirmation, which signs it.
    """
    for field in form.fields.values():
        kind = type(field.widget).__name__
        field.widget.attrs.setdefault(
            "class", {"Select": "usa-select", "Textarea": "usa-textarea"}.get(kind, "usa-input")
        )
    status = 200
    if request.method == "POST" and request.POST.get("step") == "preview":
        status = 400
        if form.is_valid():
            try:
                statement = services.preview_clearance(
                    case=case, actor=request.user, **form.cleaned_data
                )
            except services.ActionRefused as refusal:
                form.add_error(None, refusal.blockers)
                status = refusal.http_status
            else:
                return render(
                    request,
                    "clearance/issue_preview.html",
                    {
                        "case": case,
                        "transition": transition,
                        "form": form,
                        "superseded": case.clearance_statements.filter(
                            status__in=services.STANDING
                        ),
                        "monitoring_every_days": form.cleaned_data.get("monitoring_every_days"),
                        "monitoring_for_days": form.cleaned_data.get("monitoring_for_days") or 365,
                        **statement_context(statement),
                    },
                )
    refused = status not in (200, 400)
    return render(
        request,
        "clearance/issue_form.html",
        {
            "case": case,
            "transition": transition,
            "form": form,
            "blockers": [] if refused else services.gate_blockers(case, Action.ISSUE_CLEARANCE),
        },
        status=status,
    )
