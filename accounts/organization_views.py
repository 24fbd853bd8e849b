"""Pages where a company joins the portal and manages its own people and service accounts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations, organizations, sso
from accounts.audit import can_read_audit_trail, trail_of
from accounts.models import AccessRequest, ApiToken, Invitation, Membership, Organization, User
from accounts.organization_forms import (
    AccessRequestForm,
    AdministratorForm,
    DeclineForm,
    InvitationAcceptForm,
    InviteForm,
    ServiceAccountForm,
    ServiceTokenForm,
)
from core.clients import client_address
from core.errors import ActionRefused
from core.security_log import security_event
from core.web import run_form, submitted

# A session key (not a secret) under which a new service token waits to be shown once.
NEW_SERVICE_TOKEN_KEY = "accounts:new_service_token"  # noqa: S105


# --- joining: the public request, CAISI's decision, the invitation --------------------


def _over_access_request_limit(request) -> bool:
    key = f"access-request-rate:{client_address(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add() and incr()
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > settings.ACCESS_REQUEST_RATE_LIMIT_PER_HOUR


@never_cache
@require_http_methods(["GET", "POST"])
def request_access(request):
    """Public: a company asks to take part; a case manager decides."""
    form = AccessRequestForm(submitted(request))
    if request.method == "POST":
        if _over_access_request_limit(request):
            form.is_valid()  # the form keeps what was typed
            response = render(
                request, "accounts/request_access.html", {"form": form, "limited": True}, status=429
            )
            response["Retry-After"] = "3600"
            return response
        if form.is_valid():
            if form.cleaned_data["website"]:
                # A bot filled the hidden field: it hears what a person hears; nothing is kept.
                security_event("access_request_spam", request=request)
                return redirect("accounts:request_access_sent")
            data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
            try:
                organizations.request_access(**data)
            except ActionRefused as refusal:
                form.add_error(None, refusal.blockers)
            else:
                return redirect("accounts:request_access_sent")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/request_access.html", {"form": form}, status=status)


def request_access_sent(request):
    return render(request, "accounts/request_access_sent.html")


@never_cache
@login_required
def access_requests(request):
    """The case managers' task: the requests for access waiting for a decision."""
    if not organizations.can_read_access_requests(request.user):
        raise PermissionDenied("Requests for access are decided by case managers.")
    decided = AccessRequest.objects.exclude(status=AccessRequest.Status.WAITING)
    return render(
        request,
        "accounts/access_requests.html",
        {
            "waiting": organizations.waiting_access_requests(),
            "decided": decided.select_related("decided_by", "organization").order_by("-decided_at")[
                :20
            ],
            "can_decide": organizations.can_decide_access_requests(request.user),
            "decline_form": DeclineForm(),
        },
    )


@login_required
@require_POST
def access_request_decide(request, pk: int):
    if not organizations.can_decide_access_requests(request.user):
        raise PermissionDenied("Requests for access are decided by case managers.")
    access_request = get_object_or_404(AccessRequest, pk=pk)
    decision = request.POST.get("decision")
    try:
        if decision == "approve":
            done = organizations.approve_access_request(
                actor=request.user,
                access_request=access_request,
                organization_name=request.POST.get("organization_name", ""),
            )
            messages.success(
                request,
                f"{done.organization} created; its first liaison is invited at {done.email}.",
            )
        elif decision == "decline":
            form = DeclineForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Say why the request is declined.")
                return redirect("accounts:access_requests")
            organizations.decline_access_request(
                actor=request.user, access_request=access_request, note=form.cleaned_data["note"]
            )
            name = access_request.organization_name
            messages.success(request, f"The request of {name} declined.")
        else:
            messages.error(request, "Choose to approve or decline the request.")
    except ActionRefused as refusal:
        messages.error(request, " ".join(refusal.blockers))
    return redirect("accounts:access_requests")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """Public: the invited person signs in through the company provider, or sets a password.

    With a password a second factor follows (the provider's own counts for its sign-in).
    """
    invitation = invitations.find_waiting(token)
    if invitation is None:
        known = invitations.find_any(token)
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"reason": invitations.why_not_waiting(known)},
            status=404 if known is None else 410,
        )
    form = InvitationAcceptForm(submitted(request), initial={"full_name": invitation.full_name})
    status = run_form(
        request,
        form,
        lambda data: invitations.accept_with_password(
            invitation=invitation,
            email=data["email"],
            full_name=data["full_name"],
            password=data["password1"],
        ),
        success=f"Welcome to the CAISI Review Portal for {invitation.organization}.",
        then=lambda user: _signed_in(request, user),
    )
    if not isinstance(status, int):
        return status
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "form": form,
            "invitation": invitation,
            # The company provider, if configured, beside the password: the start URL
            # carries the token, kept in the session for the first sign-in's return.
            "sso_provider": sso.providers().get("company"),
            "token": token,
        },
        status=status,
    )


def _signed_in(request, user: User):
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    security_event("invitation_accepted", request=request)
    # The second-factor middleware sends the new account to enrol first.
    return redirect("cases:dashboard")


# --- the company administrator's page ---------------------------------------------------


def _administered_organization(user) -> Organization:
    membership = user.membership
    if membership is None or not membership.is_administrator:
        raise PermissionDenied("Only a company administrator manages the company's people.")
    return membership.organization


@never_cache
@login_required
def organization_people(request):
    """The company's people, its invitations, its point of contact and its service accounts."""
    organization = _administered_organization(request.user)
    people = organizations.people_of(organization).prefetch_related(
        Prefetch("user__api_tokens", queryset=ApiToken.objects.order_by("-created_at"))
    )
    return render(
        request,
        "accounts/organization/people.html",
        {
            "organization": organization,
            "people": [m for m in people if not m.user.is_service_account],
            "service_accounts": [m for m in people if m.user.is_service_account],
            "invitations": Invitation.objects.waiting().filter(organization=organization),
            "invite_form": InviteForm(),
            "service_account_form": ServiceAccountForm(),
            "token_form": ServiceTokenForm(),
            "new_token": request.session.pop(NEW_SERVICE_TOKEN_KEY, None),
            "now": timezone.now(),
        },
    )


def _refused(request, refusal: ActionRefused):
    messages.error(request, " ".join(refusal.blockers))
    return redirect("accounts:organization_people")


def _member(request, pk: int) -> User:
    organization = _administered_organization(request.user)
    # Only the company's own people can be named: anyone else is not found.
    members = Membership.objects.filter(organization=organization).values("user_id")
    return get_object_or_404(User, pk=pk, pk__in=members)


@login_required
@require_POST
def organization_invite(request):
    organization = _administered_organization(request.user)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a valid email address to invite.")
        return redirect("accounts:organization_people")
    try:
        invitation = invitations.invite(
            organization=organization, invited_by=request.user, **form.cleaned_data
        )
    except ActionRefused as refusal:
        return _refused(request, refusal)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("accounts:organization_people")


@login_required
@require_POST
def invitation_withdraw(request, pk: int):
    organization = _administered_organization(request.user)
    invitation = get_object_or_404(Invitation, pk=pk, organization=organization)
    invitations.withdraw_invitation(actor=request.user, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("accounts:organization_people")


@login_required
@require_POST
def person_remove(request, pk: int):
    person = _member(request, pk)
    try:
        organizations.remove_person(actor=request.user, person=person)
    except ActionRefused as refusal:
        return _refused(request, refusal)
    messages.success(request, f"{person} removed: their sessions and tokens ended.")
    return redirect("accounts:organization_people")


@login_required
@require_POST
def person_administrator(request, pk: int):
    person = _member(request, pk)
    form = AdministratorForm(request.POST)
    form.is_valid()
    try:
        organizations.set_administrator(
            actor=request.user,
            person=person,
            is_administrator=form.cleaned_data.get("is_administrator", False),
        )
    except ActionRefused as refusal:
        return _refused(request, refusal)
    messages.success(request, f"{person}'s role saved.")
    return redirect("accounts:organization_people")


@login_required
@require_POST
def person_point_of_contact(request, pk: int):
    person = _member(request, pk)
    try:
        organizations.name_point_of_contact(actor=request.user, person=person)
    except ActionRefused as refusal:
        return _refused(request, refusal)
    messages.success(request, f"{person} is now the point of contact CAISI sees on every case.")
    return redirect("accounts:organization_people")


@login_required
@require_POST
def service_account_create(request):
    _administered_organization(request.user)
    form = ServiceAccountForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the service account a name.")
        return redirect("accounts:organization_people")
    try:
        account = organizations.create_service_account(
            actor=request.user, name=form.cleaned_data["name"]
        )
    except ActionRefused as refusal:
        return _refused(request, refusal)
    messages.success(request, f"Service account “{account.full_name}” created; give it a token.")
    return redirect("accounts:organization_people")


@login_required
@require_POST
def service_token_create(request, pk: int):
    account = _member(request, pk)
    form = ServiceTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name and an expiry within a year.")
        return redirect("accounts:organization_people")
    try:
        _, raw = organizations.create_service_token(
            actor=request.user,
            account=account,
            name=form.cleaned_data["name"],
            read_only=form.cleaned_data["access"] == "read_only",
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
    except ActionRefused as refusal:
        return _refused(request, refusal)
    request.session[NEW_SERVICE_TOKEN_KEY] = raw
    return redirect("accounts:organization_people")


@login_required
@require_POST
def service_token_revoke(request, pk: int):
    organization = _administered_organization(request.user)
    members = Membership.objects.filter(organization=organization).values("user_id")
    token = get_object_or_404(ApiToken, pk=pk, user_id__in=members, user__is_service_account=True)
    organizations.revoke_service_token(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("accounts:organization_people")


@never_cache
@login_required
def organization_audit(request, slug: str):
    """The company's audit trail: CAISI staff and the company's administrators read it."""
    organization = Organization.objects.filter(slug=slug).first()
    own = request.user.organization
    if organization is None or (not request.user.is_caisi_staff and own != organization):
        raise Http404("No such organization.")
    if not can_read_audit_trail(request.user, organization):
        raise PermissionDenied("The audit trail is for the company's administrators and CAISI.")
    return render(
        request,
        "accounts/organization/audit.html",
        {"organization": organization, "entries": trail_of(organization)[:500]},
    )
