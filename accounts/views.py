from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import ConflictForm
from accounts.models import ConflictOfInterest
from core.errors import ActionRefused
from core.web import run_form, submitted


@login_required
@require_http_methods(["GET", "POST"])
def conflicts(request):
    """List and declare the signed-in staff member's conflicts of interest."""
    if not request.user.is_caisi_staff:
        raise PermissionDenied("Conflicts of interest are declared by CAISI staff.")
    form = ConflictForm(submitted(request))
    status = run_form(
        request,
        form,
        lambda data: services.declare_conflict(actor=request.user, **data),
        success="Conflict declared: you will not be assigned there.",
        then="accounts:conflicts",
    )
    if isinstance(status, HttpResponse):
        return status
    return render(
        request,
        "accounts/conflicts.html",
        {
            "form": form,
            "conflicts": ConflictOfInterest.objects.filter(user=request.user).select_related(
                "organization"
            ),
            "active_ids": set(
                ConflictOfInterest.objects.active()
                .filter(user=request.user)
                .values_list("pk", flat=True)
            ),
        },
        status=status,
    )


@login_required
@require_POST
def conflict_end(request, pk):
    conflict = get_object_or_404(ConflictOfInterest, pk=pk, user=request.user)
    try:
        services.end_conflict(actor=request.user, conflict=conflict)
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
    else:
        messages.success(request, f"Your conflict with {conflict.organization} has ended.")
    return redirect("accounts:conflicts")
