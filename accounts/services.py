"""Writes about people: API tokens, second factors and sessions.

Conflicts of interest change who sees and works on cases, so their use cases
live with the assignments they undo (`review.services`).
"""

import datetime as dt
import hashlib
import secrets
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_otp import user_has_device, verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import ApiToken, SignedInSession
from core import cache as generations
from core.errors import ActionRefused, NotAllowed

# --- API tokens -------------------------------------------------------------------

TOKEN_PREFIX = "caisi_"  # noqa: S105 - a marker, not a secret
# last_used_at is a hint for people, not an audit log: one write a minute at most.
TOKEN_USE_GRANULARITY = dt.timedelta(minutes=1)


def hash_api_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, user, name: str, read_only: bool = True, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token; return it with the token text, which is never stored."""
    name = name.strip()
    if not name:
        raise ActionRefused("Give the token a name, so you can tell it apart later.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ActionRefused("The expiry must be in the future.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        secret_sha256=hash_api_token(raw),
        read_only=read_only,
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's tokens at once; it stays listed as revoked."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk:
        raise ActionRefused("Only the token's owner can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def end_access_after_password_change(*, user) -> tuple[int, int]:
    """Revoke the person's API tokens and end their sessions; return how many of each.

    A new password means the old one may be known to someone else, who may have
    made a token or kept a session with it: neither outlives the change. The page
    that changed the password keeps its own browser signed in, under a new session.
    """

    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        # A queryset update sends no post_save: tokens are cached under the access generation.
        generations.bump(generations.ACCESS)
    return revoked, end_sessions_of(user=user)


def note_api_token_use(*, token: ApiToken, at: dt.datetime | None = None) -> None:
    """Record that the token was used, at most once a minute."""
    at = at or timezone.now()
    if token.last_used_at is not None and at - token.last_used_at < TOKEN_USE_GRANULARITY:
        return
    # The condition makes concurrent requests of one token write once, not each.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=at - TOKEN_USE_GRANULARITY)
    ).update(last_used_at=at)
    token.last_used_at = at


# --- Second factor and sessions ------------------------------------------------------

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"


def requires_second_factor(user) -> bool:
    """Return whether this person must pass a second factor after their password."""

    return user.must_pass_second_factor or user_has_device(user)


@transaction.atomic
def start_totp_enrolment(*, user):
    """Return the person's unconfirmed authenticator, creating one if there is none."""

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(*, user, code: str) -> tuple[Any, list[str]]:
    """Confirm the person's new authenticator by a code it shows; return it and recovery codes.

    The codes are returned once and stored only as the static device's tokens;
    any earlier authenticator and recovery codes are replaced.
    """

    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise ActionRefused("Start again: there is no authenticator waiting to be confirmed.")
    if not device.verify_token(code.strip().replace(" ", "")):
        raise ActionRefused(
            "That code does not match. Check the time on your phone and enter the current code."
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, issue_recovery_codes(user=user)


@transaction.atomic
def issue_recovery_codes(*, user) -> list[str]:
    """Replace the person's recovery codes with new ones, each good once; return them."""

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def security_key_required(user) -> bool:
    """Return whether this person must keep at least one security key.

    CAISI staff must hold one while STAFF_REQUIRE_WEBAUTHN is on (a password
    sign-in asks for it); anyone who owes a second factor must keep one when no
    authenticator code can stand in for it (TOTP switched off, or none set up).
    """
    if user.is_caisi_staff and settings.STAFF_REQUIRE_WEBAUTHN:
        return True
    if not user.must_pass_second_factor:
        return False
    return not (
        settings.TOTP_ALLOWED and TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


@transaction.atomic
def remove_security_key(*, user, key: WebAuthnCredential) -> WebAuthnCredential:
    """Remove one of the person's own security keys; never the last one they must keep."""
    own = WebAuthnCredential.objects.select_for_update().filter(user=user, confirmed=True)
    if not own.filter(pk=key.pk).exists():
        raise NotAllowed("That security key is not one of yours.")
    if len(own) == 1 and security_key_required(user):
        raise NotAllowed(
            "This is your only security key, and your account must keep one. "
            "Add another key first, then remove this one."
        )
    name = key.name
    key.delete()
    key.name = name
    return key


def verify_second_factor(*, user, code: str):
    """Return the device that accepts this code (a recovery code is used up), or None."""

    code = code.strip().replace(" ", "").replace("-", "")
    if not code:
        return None
    devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
    if code.isdigit() and len(code) == 6 and settings.TOTP_ALLOWED:
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True)) + devices
    for device in devices:
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


@transaction.atomic
def record_signed_in_session(*, user, session_key: str, replaces: str | None = None) -> None:
    """Remember which sessions belong to the person, to end them together later.

    `replaces` is the id the same sign-in had before its key was cycled: its row goes,
    and the new one keeps its sign-in time.
    """

    now = timezone.now()
    # No session outlives the absolute timeout, so older rows name nothing left to end.
    SignedInSession.objects.filter(
        user=user, signed_in_at__lt=now - dt.timedelta(hours=settings.SESSION_ABSOLUTE_HOURS)
    ).delete()
    signed_in_at = now
    if replaces and replaces != session_key:
        replaced = SignedInSession.objects.filter(user=user, session_key=replaces)
        signed_in_at = replaced.values_list("signed_in_at", flat=True).first() or now
        replaced.delete()
    SignedInSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user},
        create_defaults={"user": user, "signed_in_at": signed_in_at},
    )


def second_factor_passed(request, device) -> None:
    """Mark this session verified, under a new session id (the privilege just changed)."""
    from accounts import session_keys as keys

    old_key = request.session.session_key
    request.session.cycle_key()
    request.session[keys.SECOND_FACTOR_DEVICE] = device.persistent_id
    request.session[keys.SECOND_FACTOR_REQUIRED] = True
    record_signed_in_session(
        user=request.user, session_key=request.session.session_key, replaces=old_key
    )


def end_sessions_of(*, user) -> int:
    """End every session the person has signed in with, server-side; return how many."""

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(SignedInSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    SignedInSession.objects.filter(user=user).delete()
    return len(keys)
