"""Receivers for sign-in events and deactivation: the security log and session bookkeeping."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts import services
from accounts import session_keys as keys
from accounts.models import User
from core.security_log import security_event


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    now = timezone.now().timestamp()
    request.session[keys.SIGNED_IN_AT] = now
    request.session[keys.LAST_SEEN] = now
    # Decided once here, so later requests need no query to know it.
    request.session[keys.SECOND_FACTOR_REQUIRED] = services.requires_second_factor(user)
    if request.session.session_key is None:
        request.session.save()
    services.record_signed_in_session(user=user, session_key=request.session.session_key)
    security_event("sign_in", request=request, user=user)


@receiver(user_logged_out)
def log_sign_out(sender, request, user, **kwargs):
    if user is not None:
        security_event("sign_out", request=request, user=user)


@receiver(user_login_failed)
def log_sign_in_failure(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the name is kept.
    security_event("sign_in_failed", request=request, username=credentials.get("username"))


@receiver(user_locked_out)
def log_lockout(sender, request, username=None, ip_address=None, **kwargs):
    security_event("sign_in_locked_out", request=request, username=username)


@receiver(post_save, sender=User)
def end_sessions_of_deactivated(sender, instance, update_fields=None, **kwargs):
    # However a person is deactivated (admin, shell, a service), their sessions end now.
    if instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    ended = services.end_sessions_of(user=instance)
    if ended:
        security_event(
            "sessions_ended_on_deactivation", user=None, user_id=instance.pk, count=ended
        )


@receiver(post_save, sender=User)
def end_access_on_password_change(sender, instance, created=False, **kwargs):
    # However the password changes (the settings page, a reset link, the admin,
    # `changepassword`), tokens and sessions made with the old one end. Django
    # holds the new password in `_password` until the save that stores it, and
    # clears it for a mere hash upgrade at sign-in, which is no change of password.
    if created or getattr(instance, "_password", None) is None:
        return
    revoked, ended = services.end_access_after_password_change(user=instance)
    # (A field named for tokens would be dropped from the log as a possible secret.)
    security_event(
        "password_changed", user=None, user_id=instance.pk, revoked=revoked, sessions_ended=ended
    )
