"""Invitations: a single-use, expiring link that lets one person join one company.

Sign-in pages of every kind (the password page here, single sign-on elsewhere)
find a waiting invitation with `find_waiting` and join its person to the
company with `accept`; nothing else creates a company account.
"""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.audit import record
from accounts.forms import duration_in_words
from accounts.models import Invitation, Membership, Organization, OrganizationAuditEntry, User
from core.errors import BadInput, NotAllowed

Action = OrganizationAuditEntry.Action


def hash_invitation_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invitation_url(raw: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", args=[raw])


def find_waiting(raw_token: str) -> Invitation | None:
    """Return the invitation this link's token opens, if it can still be accepted."""
    if not raw_token or len(raw_token) > 100:
        return None
    return (
        Invitation.objects.waiting()
        .select_related("organization")
        .filter(token_sha256=hash_invitation_token(raw_token))
        .first()
    )


def find_any(raw_token: str) -> Invitation | None:
    """Return the invitation of this token whatever its state, to say why it no longer works."""
    if not raw_token or len(raw_token) > 100:
        return None
    return Invitation.objects.filter(token_sha256=hash_invitation_token(raw_token)).first()


def why_not_waiting(invitation: Invitation | None) -> str:
    """Say in words why this link does not open a waiting invitation."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied all of it."
    if invitation.accepted_at is not None:
        return "This invitation has already been used. Sign in instead, or ask for a new one."
    if invitation.withdrawn_at is not None:
        return "This invitation was withdrawn. Ask your company administrator for a new one."
    return "This invitation has expired. Ask your company administrator (or CAISI) for a new one."


def send_invitation_email(*, invitation: Invitation, raw: str) -> None:
    """Send the link in the portal's voice: who invites, for how long, and what if unexpected."""
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        # None when CAISI's approval of the company's request for access invites its first liaison.
        "inviter": (inviter.get_full_name() or inviter.email) if inviter else "",
        "url": invitation_url(raw),
        "site_url": settings.SITE_URL,
        "link_lifetime": duration_in_words(dt.timedelta(days=settings.INVITATION_VALID_DAYS)),
    }
    send_mail(
        subject=f"Your invitation to the CAISI Review Portal for {invitation.organization}",
        message=render_to_string("email/invitation.txt", context),
        html_message=render_to_string("email/invitation.html", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invite(
    *,
    organization: Organization,
    email: str,
    invited_by: User | None,
    full_name: str = "",
    is_administrator: bool = False,
) -> Invitation:
    """Invite one person to the company; the link goes out by email once this commits.

    `invited_by` is a company administrator of that company, or None when CAISI's
    approval of an access request invites the company's first liaison.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    if not email:
        raise BadInput("Give the address the invitation is sent to.")
    if invited_by is not None:
        membership = invited_by.membership
        if membership is None or not membership.is_administrator:
            raise NotAllowed("Only a company administrator can invite colleagues.")
        if membership.organization_id != organization.pk:
            raise NotAllowed("You can invite people to your own company only.")
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and (existing.is_active or existing.staff_role):
        raise BadInput(f"{email} already has an account on the portal.")
    # A new link replaces any earlier one for the same person and company.
    Invitation.objects.waiting().filter(organization=organization, email=email).update(
        withdrawn_at=timezone.now()
    )
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        full_name=full_name.strip()[:200],
        is_administrator=is_administrator,
        token_sha256=hash_invitation_token(raw),
        invited_by=invited_by,
        expires_at=timezone.now() + dt.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    record(
        organization=organization,
        actor=invited_by,
        action=Action.INVITED,
        detail=email + (" (administrator)" if is_administrator else ""),
    )
    # The token exists only in this closure and the email: never in a row or a queue.
    transaction.on_commit(
        lambda: send_invitation_email(invitation=invitation, raw=raw), robust=True
    )
    return invitation


@transaction.atomic
def withdraw_invitation(*, actor: User, invitation: Invitation) -> Invitation:
    """Withdraw a waiting invitation: its link stops working at once."""
    membership = actor.membership
    if (
        membership is None
        or not membership.is_administrator
        or membership.organization_id != invitation.organization_id
    ):
        raise NotAllowed("Only the company's administrator can withdraw its invitations.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is None and invitation.withdrawn_at is None:
        invitation.withdrawn_at = timezone.now()
        invitation.save(update_fields=["withdrawn_at"])
        record(
            organization=invitation.organization,
            actor=actor,
            action=Action.INVITATION_WITHDRAWN,
            detail=invitation.email,
        )
    return invitation


@transaction.atomic
def accept(invitation: Invitation, user: User) -> Membership:
    """Join this person to the invitation's company, once; return their membership.

    The person is the one the invitation was sent to (by address), is not CAISI
    staff, and belongs to no company yet. The link is used up whatever signs in next.
    """
    invitation = (
        Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    )
    now = timezone.now()
    if invitation.accepted_at is not None or invitation.withdrawn_at is not None:
        raise BadInput(why_not_waiting(invitation))
    if invitation.expires_at <= now:
        raise BadInput(why_not_waiting(invitation))
    if user.email.lower() != invitation.email.lower():
        raise NotAllowed(
            "This invitation was sent to another address. Sign in as that address, "
            "or ask for an invitation to yours."
        )
    if user.staff_role or user.is_service_account:
        raise NotAllowed("CAISI staff and service accounts cannot join a company.")
    current = Membership.objects.filter(user=user).select_related("organization").first()
    if current is not None:
        raise NotAllowed(f"This account already belongs to {current.organization}.")
    membership = Membership.objects.create(
        user=user,
        organization=invitation.organization,
        is_administrator=invitation.is_administrator,
    )
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    user.__dict__.pop("membership", None)
    user.__dict__.pop("role", None)
    organization = invitation.organization
    if organization.point_of_contact_id is None:
        # The first person in is the company's contact until its administrator names another.
        organization.point_of_contact = user
        organization.save(update_fields=["point_of_contact"])
    record(
        organization=organization,
        actor=user,
        action=Action.INVITATION_ACCEPTED,
        subject=user,
        detail=user.email,
    )
    return membership


@transaction.atomic
def accept_with_password(
    *, invitation: Invitation, email: str, full_name: str, password: str
) -> User:
    """Create (or reopen) the invited person's account with this password and accept."""
    email = User.objects.normalize_email(email.strip()).lower()
    if email != invitation.email.lower():
        raise NotAllowed(
            "This invitation was sent to another address. Type the address it was sent to."
        )
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
    elif user.is_active or user.staff_role:
        raise BadInput("This address already has an account: sign in instead.")
    else:
        # Someone removed earlier and invited again: their old account is reopened.
        user.set_password(password)
        user.full_name = full_name or user.full_name
        user.save(update_fields=["password", "full_name"])
    accept(invitation, user)
    return user


@transaction.atomic
def accept_through_sign_on(raw_token: str, *, provider: str, claims: dict) -> User:
    """Give the invited person an account from their first sign-in through a provider, and accept.

    The `SSO_INVITATION_REDEEMER` default (accounts/sso.py, `link_invited_subject`):
    the invitation must still be waiting, and the provider must vouch for the
    address it was sent to (its `email` claim), as a password acceptance must type
    it. Someone removed earlier gets their account back; an account of another
    company is not moved. Refusals are `ActionRefused` in words the person can act on.
    """
    invitation = find_waiting(raw_token)
    if invitation is None:
        raise BadInput(why_not_waiting(find_any(raw_token)))
    email = User.objects.normalize_email(str(claims.get("email") or "").strip()).lower()
    if not email or claims.get("email_verified") is False:
        raise NotAllowed(
            "Your sign-in provider did not confirm your email address, which the invitation "
            "was sent to. Confirm it with the provider, then open the invitation again."
        )
    if email != invitation.email.lower():
        raise NotAllowed(
            "This invitation was sent to another address than the one your sign-in "
            "provider gave. Sign in with the account of the address it was sent to, "
            "or ask for an invitation to yours."
        )
    full_name = str(claims.get("name") or "").strip()[:200] or invitation.full_name
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=full_name)
    elif not user.is_active and full_name and not user.full_name:
        user.full_name = full_name
        user.save(update_fields=["full_name"])
    # An active account of another company, or of CAISI, is refused here, with its reason.
    accept(invitation, user)
    return user
