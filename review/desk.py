"""CAISI's desk: the triage queue, bulk assignment, evaluator assignment, conflicts of interest
and the dashboard.

Every page reads cases through `Case.objects.visible_to`, so an evaluator's
desk holds only the cases they are assigned to. The queue's queries do not
grow with the page size: every per-row fact is an annotation or a prefetch.
"""

import datetime as dt
from collections import Counter

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DurationField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ConflictEndForm, ConflictForm
from accounts.models import ConflictOfInterest, Organization, Role, User
from cases import access
from cases.models import Case, CaseCount, ClockPause
from cases.selectors import get_visible_case
from cases.status import OPEN_STATUSES, Status
from core import cache as generations
from core.web import run_form, safe_next, submitted
from findings.models import (
    ClarificationRequest,
    Finding,
    FindingCount,
    FindingState,
    Severity,
)
from findings.selectors import with_overdue_request
from review import services

PAGE_SIZES = (10, 25, 50, 100)
AGING_BUCKETS = (
    (0, 7, "0–7 days"),
    (8, 30, "8–30 days"),
    (31, 90, "31–90 days"),
    (91, None, "over 90 days"),
)


def _require_staff(user) -> None:
    if not access.can_see_internal(user):
        raise PermissionDenied("The desk is for CAISI staff.")


def _assignable_people():
    return User.objects.filter(
        staff_role__in=(Role.CASE_MANAGER, Role.EVALUATOR), is_active=True
    ).order_by("staff_role", "email")


class QueueFilterForm(forms.Form):
    SORTS = {
        "urgency": "Urgency: planned release, then longest waiting",
        "waiting": "Longest in status",
        "release": "Planned release",
        "updated": "Recently updated",
    }

    q = forms.CharField(required=False, label="Case number or model")
    status = forms.ChoiceField(required=False, choices=[("", "Any open status"), ("all", "All")])
    organization = forms.ModelChoiceField(
        required=False, queryset=Organization.objects.all(), empty_label="Any company"
    )
    case_manager = forms.ChoiceField(required=False)
    short_lead_time = forms.BooleanField(required=False, label="Short lead time")
    overdue = forms.BooleanField(required=False, label="Overdue requests")
    sort = forms.ChoiceField(required=False, choices=list(SORTS.items()))
    per_page = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, n) for n in PAGE_SIZES], empty_value=25
    )

    def __init__(self, *args, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices += [
            (s, label) for s, label in Status.choices if s != Status.INTAKE
        ]
        if managers is None:
            managers = [
                (m.pk, str(m))
                for m in User.objects.filter(staff_role=Role.CASE_MANAGER).order_by("email")
            ]
        self.fields["case_manager"].choices = [
            ("", "Any case manager"),
            ("none", "Not assigned"),
        ] + [(str(pk), name) for pk, name in managers]

    def filter(self, cases):
        data = self.cleaned_data
        status = data.get("status")
        cases = cases.submitted()
        if status == "":
            cases = cases.filter(status__in=OPEN_STATUSES)
        elif status != "all":
            cases = cases.filter(status=status)
        if data.get("q"):
            q = data["q"].strip()
            cases = cases.filter(
                Q(number__icontains=q) | Q(model_name__icontains=q) | Q(title__icontains=q)
            )
        if data.get("organization"):
            cases = cases.filter(organization=data["organization"])
        manager = data.get("case_manager")
        if manager == "none":
            cases = cases.filter(case_manager__isnull=True)
        elif manager:
            cases = cases.filter(case_manager_id=int(manager))
        if data.get("short_lead_time"):
            cases = cases.short_lead_time()
        if data.get("overdue"):
            cases = cases.filter(has_overdue_request=True)
        return cases.order_by(*self.ordering(), "pk")

    def ordering(self):
        sort = self.cleaned_data.get("sort") or "urgency"
        release = F("planned_release_date").asc(nulls_last=True)
        return {
            "urgency": [release, "clock_start"],
            "waiting": ["clock_start"],
            "release": [release],
            "updated": ["-updated_at"],
        }[sort]


def queue_cases(user):
    """Return the cases of the queue with every per-row fact annotated, in one query."""
    cases = Case.objects.visible_to(user).select_related("organization", "case_manager")
    if connection.vendor == "postgresql":
        # The evaluators' names, read per row of the page only (a subquery, not a prefetch).
        cases = cases.annotate(
            evaluator_names=ArraySubquery(
                User.objects.filter(evaluated_cases=OuterRef("pk"))
                .order_by("email")
                .values(
                    name=Coalesce(NullIf("full_name", Value("")), "email", output_field=CharField())
                )
            )
        )
    else:
        # The embedded database (SQLite) has no arrays: one query more, for the page's rows.
        cases = cases.prefetch_related(
            Prefetch("evaluators", queryset=User.objects.order_by("email"))
        )
    return with_overdue_request(cases.with_clock()).annotate(
        paused_now=Exists(ClockPause.objects.filter(case=OuterRef("pk"), ended_at__isnull=True))
    )


class BulkAssignForm(forms.Form):
    cases = forms.CharField(widget=forms.MultipleHiddenInput, required=False)
    person = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Assign", empty_label="Choose a person"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = _assignable_people()
        self.fields["person"].label_from_instance = lambda u: f"{u} ({u.role_label()})"


def filter_choices() -> dict:
    """Return the companies, CAISI people and conflicts the queue shows: three small reads.

    With a shared cache they are kept there until anyone's access or any company
    changes (the access generation), so the page does not read them each time.
    """
    # Conflicts begin and end with the calendar too: the day is part of the key.
    key = f"desk:choices:{timezone.localdate().isoformat()}"
    return generations.cached(key, generations.ACCESS, load=_load_filter_choices)


def _load_filter_choices() -> dict:
    people = list(
        User.objects.filter(staff_role__in=(Role.CASE_MANAGER, Role.EVALUATOR))
        .order_by("staff_role", "email")
        .values_list("pk", "full_name", "email", "staff_role", "is_active")
    )
    return {
        "organizations": list(Organization.objects.order_by("name").values_list("pk", "name")),
        "managers": [
            (pk, name or email) for pk, name, email, role, _ in people if role == Role.CASE_MANAGER
        ],
        "assignable": [
            (pk, f"{name or email} ({Role(role).label})")
            for pk, name, email, role, active in people
            if active
        ],
        "conflicts": list(
            ConflictOfInterest.objects.active()
            .select_related("user", "organization")
            .order_by("organization__name", "user__email")
        ),
    }


def options(choices, selected=None):
    """Render <option>s in one pass: a template loop over 500 companies costs more.

    Each value and label is escaped here; `format_html` per option, which does
    the same, took a quarter of the queue's time.
    """
    return mark_safe(  # noqa: S308 - every value and label below is escaped
        "".join(
            f'<option value="{escape(pk)}"{" selected" if pk == selected else ""}>'
            f"{escape(label)}</option>"
            for pk, label in choices
        )
    )


@login_required
def queue(request):
    _require_staff(request.user)
    choices = filter_choices()
    # Bound even without parameters (every filter is optional), so the form and its
    # choices are built once.
    form = QueueFilterForm(request.GET, managers=choices["managers"])
    if not form.is_valid():
        messages.error(request, "Some filters were not understood and are ignored.")
        form = QueueFilterForm({}, managers=choices["managers"])
        form.is_valid()
    cases = form.filter(queue_cases(request.user))
    page = Paginator(cases, form.cleaned_data.get("per_page") or 25).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    for case in page.object_list:
        case.days_waiting = case.days_in_status(now)
        if not hasattr(case, "evaluator_names"):  # read by a prefetch (see queue_cases)
            case.evaluator_names = [
                person.full_name or person.email for person in case.evaluators.all()
            ]
    query = request.GET.copy()
    query.pop("page", None)
    organization = form.cleaned_data.get("organization")
    return render(
        request,
        "cases/desk/queue.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_assign": request.user.role == Role.CASE_MANAGER,
            "organization_options": options(
                choices["organizations"], organization.pk if organization else None
            ),
            "person_options": options(choices["assignable"]),
            "conflicts": choices["conflicts"],
        },
    )


@login_required
@require_POST
def bulk_assign(request):
    _require_staff(request.user)
    form = BulkAssignForm(request.POST)
    numbers = request.POST.getlist("cases")
    back = request.POST.get("next", "")
    if not numbers:
        messages.error(request, "Select at least one case to assign.")
        return redirect_to(request, back)
    if not form.is_valid():
        messages.error(request, "Choose the person to assign.")
        return redirect_to(request, back)
    cases = list(Case.objects.visible_to(request.user).filter(number__in=numbers))
    person = form.cleaned_data["person"]
    refusals = services.assign_in_bulk(cases=cases, actor=request.user, person=person)
    unknown = set(numbers) - {c.number for c in cases}
    done = len(cases) - len(refusals)
    if done:
        messages.success(request, f"{person} assigned to {done} case{'s' if done != 1 else ''}.")
    for number, blockers in refusals.items():
        messages.error(request, f"{number} not assigned: {' '.join(blockers)}")
    for number in sorted(unknown):
        messages.error(request, f"{number} not assigned: no such case.")
    return redirect_to(request, back)


def redirect_to(request, target: str):
    # Back to the queue's own URL with its filters, and never to another site.
    return redirect(safe_next(request, target, reverse("cases:desk")))


class EvaluatorForm(forms.Form):
    evaluator = forms.ModelChoiceField(queryset=User.objects.none(), empty_label="Choose")

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        conflicts: dict[int, list[str]] = {}
        for c in ConflictOfInterest.objects.active().filter(organization_id=case.organization_id):
            conflicts.setdefault(c.user_id, []).append(c.reason)
        field = self.fields["evaluator"]
        field.queryset = User.objects.filter(staff_role=Role.EVALUATOR, is_active=True).exclude(
            pk__in=case.evaluators.values("pk")
        )
        field.label_from_instance = lambda u: (
            f"{u} — declared conflict: {'; '.join(conflicts[u.pk])}"
            if u.pk in conflicts
            else str(u)
        )


@login_required
@require_http_methods(["GET", "POST"])
def assign_evaluators(request, number):
    case = get_visible_case(request.user, number)
    _require_staff(request.user)
    can_assign = request.user.role == Role.CASE_MANAGER and case.is_open
    form = EvaluatorForm(submitted(request), case=case)
    if request.method == "POST" and not can_assign:
        raise PermissionDenied("Only a case manager assigns evaluators to an open case.")
    status = run_form(
        request,
        form,
        lambda data: services.assign_evaluator(
            case=case, actor=request.user, evaluator=data["evaluator"]
        ),
        success=lambda _: f"{form.cleaned_data['evaluator']} assigned.",
        then=reverse("cases:evaluators", kwargs={"number": case.number}),
        error_field="evaluator",
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "cases/desk/evaluators.html",
        {
            "case": case,
            "form": form,
            "can_assign": can_assign,
            "evaluators": case.evaluators.order_by("email"),
            "conflicts": ConflictOfInterest.objects.active()
            .filter(organization_id=case.organization_id)
            .select_related("user"),
        },
        status=status,
    )


# --- conflicts of interest ----------------------------------------------------------------


def _conflicts_page(request, *, form, end_form=None, ending=None, status=200):
    user = request.user
    mine = ConflictOfInterest.objects.filter(user=user).select_related("organization", "ended_by")
    others = ConflictOfInterest.objects.none()
    if user.role == Role.CASE_MANAGER:
        others = (
            ConflictOfInterest.objects.exclude(user=user)
            .filter(Q(pk__in=ConflictOfInterest.objects.active()) | Q(ended_at__isnull=False))
            .select_related("user", "organization", "ended_by")
            .order_by("organization__name", "user__email", "-declared_at")
        )
    return render(
        request,
        "accounts/conflicts.html",
        {
            "form": form,
            "conflicts": mine,
            "colleagues": others,
            "active_ids": set(ConflictOfInterest.objects.active().values_list("pk", flat=True)),
            "can_end": user.role == Role.CASE_MANAGER,
            "end_form": end_form or ConflictEndForm(),
            "ending": ending,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def conflicts(request):
    """List and declare the signed-in staff member's conflicts (and, for case managers, others')."""
    if not request.user.is_caisi_staff:
        raise PermissionDenied("Conflicts of interest are declared by CAISI staff.")
    form = ConflictForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.declare_conflict(actor=request.user, **data),
        success=lambda c: (
            f"Conflict with {c.organization} declared: you no longer see its cases "
            "and were taken off those you were assigned to."
        ),
        then="cases:conflicts",
    )
    if isinstance(status, HttpResponse):
        return status
    return _conflicts_page(request, form=form, status=status)


@login_required
@require_POST
def conflict_end(request, pk):
    """End a colleague's conflict early, with a reason (another case manager only)."""
    if request.user.role != Role.CASE_MANAGER:
        raise PermissionDenied("Only a case manager can end a conflict of interest early.")
    conflict = get_object_or_404(ConflictOfInterest, pk=pk)
    form = ConflictEndForm(request.POST)
    status = run_form(
        request,
        form,
        lambda data: services.end_conflict(
            actor=request.user, conflict=conflict, reason=data["reason"]
        ),
        success=lambda c: f"The conflict of {c.user} with {c.organization} ends today.",
        then="cases:conflicts",
    )
    if isinstance(status, HttpResponse):
        return status
    return _conflicts_page(
        request, form=ConflictForm(), end_form=form, ending=conflict.pk, status=status
    )


# --- the dashboard ----------------------------------------------------------------------


def _started_within(now: dt.datetime, low: int, high: int | None) -> Q:
    """Cases whose clock shows `low` to `high` whole days (as `Case.days_in_status` counts)."""
    # d whole days have passed since the clock started when start <= now - d days.
    within = Q(clock_start__lte=now - dt.timedelta(days=low)) if low else Q()
    if high is not None:
        within &= Q(clock_start__gt=now - dt.timedelta(days=high + 1))
    return within


def _status_and_finding_counts(user, visible) -> tuple[dict, dict]:
    """Return the visible cases per status and findings per (severity, state).

    Read from the counts the database keeps per company (`CaseCount`,
    `FindingCount`); counted from the cases where those cannot say (an
    evaluator's assigned cases).
    """
    case_counts = CaseCount.objects.visible_to(user)
    if case_counts is None:
        status_rows = visible.order_by().values_list("status").annotate(n=Count("pk"))
    else:
        status_rows = case_counts.order_by().values_list("status").annotate(n=Sum("count"))
    finding_counts = FindingCount.objects.visible_to(user)
    if finding_counts is None:
        finding_rows = (
            Finding.objects.filter(case__in=visible)
            .order_by()
            .values_list("severity", "state")
            .annotate(n=Count("pk"))
        )
    else:
        finding_rows = (
            finding_counts.order_by().values_list("severity", "state").annotate(n=Sum("count"))
        )
    by_status = dict(status_rows)
    findings = {(severity, state): n for severity, state, n in finding_rows}
    return by_status, findings


def dashboard_data(user, now: dt.datetime | None = None) -> dict:
    """Return the dashboard's figures for the cases this user may see, in a fixed few queries."""

    now = now or timezone.now()
    visible = Case.objects.visible_to(user)
    by_status, findings = _status_and_finding_counts(user, visible)
    # The aging buckets are counted by the database: the open cases are tens of
    # thousands after a few years, too many to load for a histogram. A case whose
    # clock never paused (most) started it with its status: those are counted from
    # an index alone (`case_open_status_age`), the others with their pauses.
    ever_paused = ClockPause.objects.values("case_id")
    steady = visible.open().exclude(pk__in=ever_paused).alias(clock_start=F("status_changed_at"))
    stopped = visible.open().filter(pk__in=ever_paused).with_clock(now)
    # Counted over a column of the index (never null), not the id it does not hold.
    buckets = {
        f"bucket{i}": Count("status_changed_at", filter=_started_within(now, low, high))
        for i, (low, high, _) in enumerate(AGING_BUCKETS)
    }
    aging_counts = Counter(steady.aggregate(total=Count("status_changed_at"), **buckets))
    aging_counts.update(stopped.aggregate(total=Count("status_changed_at"), **buckets))
    open_total = aging_counts.pop("total")
    aging = {label: aging_counts[f"bucket{i}"] for i, (_, _, label) in enumerate(AGING_BUCKETS)}
    # A draft in intake waits on its company, not on CAISI.
    fields = ("pk", "status", "status_changed_at", "number", "model_name")
    longest = sorted(
        [
            *steady.submitted()
            .annotate(paused_in_status=Value(dt.timedelta(0), output_field=DurationField()))
            .only(*fields)
            .order_by("status_changed_at")[:5],
            *stopped.submitted().only(*fields).order_by("clock_start")[:5],
        ],
        key=lambda c: c.status_changed_at + c.paused_in_status,
    )[:5]
    # A request left open on a withdrawn or closed case no longer waits on anyone.
    overdue = list(
        ClarificationRequest.objects.overdue(timezone.localdate(now))
        .filter(case__in=visible.open())
        .select_related("case", "case__organization")
        .order_by("due_date")[:50]
    )
    short_lead = list(
        visible.short_lead_time(timezone.localdate(now))
        .select_related("organization")
        .order_by("planned_release_date")[:50]
    )
    statuses = [s for s in Status if by_status.get(s.value)]
    return {
        "status_counts": [(s.label, by_status.get(s.value, 0)) for s in Status],
        "open_total": open_total,
        # The aging chart's figures as a table: every chart has one (WCAG 1.1.1).
        "aging_table": [(label, aging.get(label, 0)) for _, _, label in AGING_BUCKETS],
        "longest_waiting": [(c, c.days_in_status(now)) for c in longest],
        "overdue": overdue,
        "short_lead": short_lead,
        "findings_table": [
            (sev.label, [findings.get((sev.value, st.value), 0) for st in FindingState])
            for sev in Severity
        ],
        "finding_states": [st.value.capitalize() for st in FindingState],
        "chart": {
            "status": {
                "labels": [s.label for s in statuses],
                "values": [by_status[s.value] for s in statuses],
            },
            "aging": {
                "labels": [label for _, _, label in AGING_BUCKETS],
                "values": [aging.get(label, 0) for _, _, label in AGING_BUCKETS],
            },
            "findings": {
                "labels": [sev.label for sev in Severity],
                "states": [st.label for st in FindingState],
                "values": [
                    [findings.get((sev.value, st.value), 0) for sev in Severity]
                    for st in FindingState
                ],
            },
        },
    }


@login_required
def dashboard(request):
    _require_staff(request.user)
    return render(request, "cases/desk/dashboard.html", dashboard_data(request.user))
