"""Writes about a company's people: access requests, removal, administrators, the point of
contact, and service accounts. Every change goes on the organization's audit trail.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import invitations
from accounts.audit import record
from accounts.models import (
    AccessRequest,
    ApiToken,
    Membership,
    Organization,
    OrganizationAuditEntry,
    User,
)
from accounts.services import create_api_token, end_sessions_of
from core import cache as generations
from core.errors import ActionRefused, BadInput, NotAllowed

Action = OrganizationAuditEntry.Action


def can_decide_access_requests(user) -> bool:
    return user.is_authenticated and user.role == "case_manager"


def can_read_access_requests(user) -> bool:
    return user.is_authenticated and user.role in ("case_manager", "auditor")


def _administrator_of(actor: User) -> Membership:
    membership = actor.membership
    if membership is None or not membership.is_administrator:
        raise NotAllowed("Only a company administrator can manage the company's people.")
    return membership


# --- access requests -----------------------------------------------------------------


@transaction.atomic
def request_access(
    *, organization_name: str, contact_name: str, email: str, reason: str
) -> AccessRequest:
    """Record a company's request to take part; a case manager decides it."""
    fields = {
        "organization_name": organization_name.strip(),
        "contact_name": contact_name.strip(),
        "email": User.objects.normalize_email(email.strip()).lower(),
        "reason": reason.strip(),
    }
    missing = [name.replace("_", " ") for name, value in fields.items() if not value]
    if missing:
        raise BadInput(f"Fill in: {', '.join(missing)}.")
    return AccessRequest.objects.create(**fields)


def waiting_access_requests():
    return AccessRequest.objects.filter(status=AccessRequest.Status.WAITING)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "company"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def approve_access_request(
    *, actor: User, access_request: AccessRequest, organization_name: str = ""
) -> AccessRequest:
    """Create the company and invite its contact as its first liaison and administrator."""
    if not can_decide_access_requests(actor):
        raise NotAllowed("Only a case manager can decide requests for access.")
    request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if request.status != AccessRequest.Status.WAITING:
        raise ActionRefused(f"This request was already {request.get_status_display().lower()}.")
    name = (organization_name or request.organization_name).strip()[:200]
    if Organization.objects.filter(name__iexact=name).exists():
        raise ActionRefused(
            f"A company named {name} already takes part. Give the new one another name, "
            "or decline and let its administrator invite this person."
        )
    organization = Organization.objects.create(name=name, slug=_unique_slug(name))
    record(
        organization=organization,
        actor=actor,
        action=Action.ORGANIZATION_CREATED,
        detail=f"Access request of {request.contact_name} <{request.email}> approved",
    )
    invitations.invite(
        organization=organization,
        email=request.email,
        full_name=request.contact_name,
        invited_by=None,
        is_administrator=True,
    )
    request.status = AccessRequest.Status.APPROVED
    request.decided_at = timezone.now()
    request.decided_by = actor
    request.organization = organization
    request.save(update_fields=["status", "decided_at", "decided_by", "organization"])
    return request


@transaction.atomic
def decline_access_request(*, actor: User, access_request: AccessRequest, note: str) -> None:
    """Decline a request for access, with a note kept for CAISI."""
    if not can_decide_access_requests(actor):
        raise NotAllowed("Only a case manager can decide requests for access.")
    request = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if request.status != AccessRequest.Status.WAITING:
        raise ActionRefused(f"This request was already {request.get_status_display().lower()}.")
    request.status = AccessRequest.Status.DECLINED
    request.decided_at = timezone.now()
    request.decided_by = actor
    request.decision_note = note.strip()
    request.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])


# --- people --------------------------------------------------------------------------


def people_of(organization: Organization):
    """Return the company's people and service accounts with their memberships."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__is_service_account", "user__email")
    )


def _member_of(organization: Organization, user: User) -> Membership:
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is None:
        raise NotAllowed("That person is not one of your company's people.")
    return membership


def end_all_access(*, user: User) -> tuple[int, int]:
    """Revoke the account's API tokens and end its sessions now; return how many of each."""
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    # Tokens are cached under the access generation, and a queryset update sends no signal.
    generations.bump(generations.ACCESS)
    return revoked, end_sessions_of(user=user)


@transaction.atomic
def remove_person(*, actor: User, person: User) -> None:
    """Remove a person (or service account) from the company: their access ends at once.

    The account stays, deactivated and in no company, so the records it made still
    name it; its sessions end and its tokens are revoked before this returns.
    """
    membership = _administrator_of(actor)
    organization = membership.organization
    target = _member_of(organization, person)
    if person.pk == actor.pk:
        raise ActionRefused("You cannot remove yourself; ask another administrator.")
    if target.is_administrator:
        others = Membership.objects.filter(
            organization=organization, is_administrator=True, user__is_active=True
        ).exclude(pk=target.pk)
        if not others.exists():
            raise ActionRefused("The company needs at least one administrator.")
    target.delete()
    if organization.point_of_contact_id == person.pk:
        organization.point_of_contact = None
        organization.save(update_fields=["point_of_contact"])
    person = User.objects.select_for_update().get(pk=person.pk)
    person.is_active = False
    person.save(update_fields=["is_active"])  # ends their sessions (accounts.signals)
    revoked, ended = end_all_access(user=person)
    record(
        organization=organization,
        actor=actor,
        action=Action.SERVICE_ACCOUNT_REMOVED if person.is_service_account else Action.REMOVED,
        subject=person,
        detail=f"{person.email}: {revoked} token(s) revoked, sessions ended",
    )


@transaction.atomic
def set_administrator(*, actor: User, person: User, is_administrator: bool) -> None:
    """Make a colleague a company administrator, or no longer one."""
    membership = _administrator_of(actor)
    organization = membership.organization
    target = _member_of(organization, person)
    if person.is_service_account:
        raise BadInput("A service account cannot be an administrator.")
    if target.is_administrator == is_administrator:
        return
    if not is_administrator and person.pk == actor.pk:
        raise ActionRefused("You cannot step down yourself; ask another administrator.")
    target.is_administrator = is_administrator
    target.save(update_fields=["is_administrator"])
    record(
        organization=organization,
        actor=actor,
        action=Action.ADMINISTRATOR_GRANTED if is_administrator else Action.ADMINISTRATOR_REVOKED,
        subject=person,
        detail=person.email,
    )


@transaction.atomic
def name_point_of_contact(*, actor: User, person: User) -> None:
    """Name the company's designated point of contact, whom CAISI sees on every case."""
    membership = _administrator_of(actor)
    organization = Organization.objects.select_for_update().get(pk=membership.organization_id)
    _member_of(organization, person)
    if person.is_service_account:
        raise BadInput("The point of contact must be a person, not a service account.")
    if organization.point_of_contact_id == person.pk:
        return
    organization.point_of_contact = person
    organization.save(update_fields=["point_of_contact"])
    generations.bump(generations.ACCESS)
    record(
        organization=organization,
        actor=actor,
        action=Action.POINT_OF_CONTACT_NAMED,
        subject=person,
        detail=person.email,
    )


# --- service accounts ------------------------------------------------------------------


@transaction.atomic
def create_service_account(*, actor: User, name: str) -> User:
    """Create a non-person account of the company, for a pipeline; it signs in by token only."""
    membership = _administrator_of(actor)
    organization = membership.organization
    name = name.strip()[:100]
    if not name:
        raise BadInput("Give the service account a name, e.g. “release pipeline”.")
    # An address no mail reaches, unique to the account: service accounts receive no email.
    local = f"{slugify(name)[:40] or 'pipeline'}.{secrets.token_hex(4)}"
    address = f"{local}@{organization.slug}.service.invalid"
    account = User.objects.create_user(
        email=address, password=None, full_name=name, is_service_account=True
    )
    Membership.objects.create(user=account, organization=organization)
    record(
        organization=organization,
        actor=actor,
        action=Action.SERVICE_ACCOUNT_CREATED,
        subject=account,
        detail=name,
    )
    return account


@transaction.atomic
def create_service_token(
    *, actor: User, account: User, name: str, read_only: bool, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Give a service account a token: read status only, or read and write; it always expires.

    Read-only here means status only (`ApiToken.status_only`): a pipeline polls its
    case's status and reads nothing else of the company's records.
    """
    membership = _administrator_of(actor)
    _member_of(membership.organization, account)
    if not account.is_service_account:
        raise BadInput("Tokens made here belong to service accounts; people make their own.")
    days = expires_in_days or settings.SERVICE_ACCOUNT_TOKEN_DAYS
    if not 1 <= days <= 366:
        raise BadInput("A service account token expires within a year.")
    token, raw = create_api_token(
        user=account,
        name=name,
        read_only=read_only,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    record(
        organization=membership.organization,
        actor=actor,
        action=Action.TOKEN_CREATED,
        subject=account,
        detail=f"{token.name} ({token.prefix}…), "
        f"{'read status only' if read_only else 'read and write'}, "
        f"expires {token.expires_at:%Y-%m-%d}",
    )
    return token, raw


@transaction.atomic
def revoke_service_token(*, actor: User, token: ApiToken) -> None:
    """Revoke one of the company's service account tokens at once."""
    membership = _administrator_of(actor)
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _member_of(membership.organization, token.user)
    if not token.user.is_service_account:
        raise NotAllowed("People revoke their own tokens.")
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        organization=membership.organization,
        actor=actor,
        action=Action.TOKEN_REVOKED,
        subject=token.user,
        detail=f"{token.name} ({token.prefix}…)",
    )


def note_service_account_write(*, user: User, method: str, path: str, status: int) -> None:
    """Put a service account's change through the API on its company's audit trail."""
    membership = user.membership
    if membership is None:
        return
    record(
        organization=membership.organization,
        actor=user,
        action=Action.SERVICE_ACCOUNT_ACTED,
        subject=user,
        detail=f"{method} {path} → {status}",
    )
