from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.access import can_see_internal
from cases.selectors import get_visible_case
from cases.status import DeploymentStatus
from clearance import policy
from clearance.forms import VerificationCodeForm
from clearance.models import NON_ENDORSEMENT, ClearanceStatement
from core.clients import client_address

# What the public page reads of a statement: what the statement itself says (its
# scope and conditions included), its status and dates; never its reasons or the
# case's records.
PUBLIC_FIELDS = (
    "number",
    "case",
    "company_name",
    "model_name",
    "version_label",
    "scope_items",
    "scope",
    "condition_items",
    "conditions",
    "digest",
    "digest_verification",
    "declared_digest",
    "issued_at",
    "status",
    "status_changed_at",
    "valid_until",
    "superseded_by",
    "pdf_sha256",
)


def _over_rate_limit(request) -> bool:
    """Count this lookup against the client's budget for the current minute."""
    key = f"verify-rate:{client_address(request)}"
    # add() is a no-op when the key exists, so the window starts with the first lookup.
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(key, 1, timeout=60)
        count = 1
    return count > settings.VERIFY_RATE_LIMIT_PER_MINUTE


@never_cache
@require_GET
def verify(request, code):
    """Public: whether a statement is valid, suspended, superseded, revoked or expired.

    It shows the statement's dated history and the model's deployment status,
    never a reason or anything else confidential.
    """
    # Unknown codes count too, so the page cannot be used to guess codes.
    if _over_rate_limit(request):
        response = render(request, "clearance/verify_rate_limited.html", status=429)
        response["Retry-After"] = "60"
        return response
    # One query for the statement, its successor's number and the model's deployment.
    statement = (
        ClearanceStatement.objects.select_related("superseded_by", "case")
        .only(
            *PUBLIC_FIELDS,
            "superseded_by__number",
            "case__deployment_status",
            "case__deployment_changed_at",
        )
        .filter(verification_code=code)
        .first()
    )
    if statement is None:
        # The public page's own 404: the person may hold a mistyped code, not an account.
        response = render(
            request,
            "clearance/verify_lookup.html",
            {"form": VerificationCodeForm(initial={"code": code}), "unknown_code": True},
            status=404,
        )
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
    response = render(
        request,
        "clearance/verify.html",
        {
            "statement": statement,
            "history": statement.history.only("statement_id", "change", "at"),
            "deployment_label": DeploymentStatus(statement.case.deployment_status).label,
            "deployment_changed_at": statement.case.deployment_changed_at,
            "non_endorsement": NON_ENDORSEMENT,
        },
    )
    # The page is for people holding a code, not for search engines to list.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
def verify_lookup(request):
    """Public: a form to type a verification code; a valid one goes to its statement's page."""
    form = VerificationCodeForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        return redirect("verify", code=form.cleaned_data["code"])
    response = render(
        request,
        "clearance/verify_lookup.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@require_GET
def signing_status(request, number, statement):
    """Whether the statement's signed PDF is ready, as the case page's status region shows it."""
    case = get_visible_case(request.user, number)
    found = get_object_or_404(case.clearance_statements.select_related("case"), number=statement)
    response = render(
        request,
        "clearance/_signing_status.html",
        {"statement": found, "show_error": can_see_internal(request.user)},
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_GET
def download(request, number, statement):
    """The signed PDF, for anyone who may see the case."""
    case = get_visible_case(request.user, number)
    found = get_object_or_404(case.clearance_statements, number=statement)
    if not policy.can_download_statement(request.user, found):
        raise Http404("The signed PDF of this statement is still being prepared.")
    return FileResponse(
        found.pdf.open("rb"),
        as_attachment=True,
        filename=f"{found.number}.pdf",
        content_type="application/pdf",
    )
