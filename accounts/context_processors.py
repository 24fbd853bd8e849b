"""Template context about the signed-in person."""

from django.conf import settings

from accounts.middleware import LAST_SEEN_PRECISION_SECONDS, second_factor_pending


def sign_in_state(request) -> dict:
    """Whether the person still owes their second factor: the navigation waits until then.

    Also how long the session lasts without activity, counted from this page,
    for the warning that comes before the idle timeout (the server may have
    seen the person up to LAST_SEEN_PRECISION_SECONDS earlier than this page).
    """
    if not hasattr(request, "user"):
        return {}
    return {
        "second_factor_pending": second_factor_pending(request),
        "session_idle_seconds": settings.SESSION_IDLE_MINUTES * 60 - LAST_SEEN_PRECISION_SECONDS,
    }
