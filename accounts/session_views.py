"""Keeping a session alive from the page that warns it is about to end."""

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import session_keys as keys


@require_POST
def stay_signed_in(request):
    """Count this as activity, so the idle timeout starts again; say how long is left."""
    if not request.user.is_authenticated:
        # The session already ended (SessionTimeoutMiddleware); the page asks for a sign-in.
        return JsonResponse({"signed_in": False}, status=401)
    now = timezone.now().timestamp()
    request.session[keys.LAST_SEEN] = now
    signed_in_at = request.session.get(keys.SIGNED_IN_AT, now)
    absolute_left = settings.SESSION_ABSOLUTE_HOURS * 3600 - (now - signed_in_at)
    return JsonResponse(
        {
            "signed_in": True,
            "seconds_left": int(min(settings.SESSION_IDLE_MINUTES * 60, absolute_left)),
        }
    )
