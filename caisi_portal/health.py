"""`/healthz`: the health of the database, the broker and the workers, as JSON.

Anyone gets the status alone, from a database check made at most once every
HEALTHZ_PUBLIC_SECONDS in each process: enough for a load balancer or a
container's healthcheck, and no way to make the portal ping its broker and
wait on its workers at will. Signed-in CAISI staff and administrators, and
any valid API token (a monitoring job's), get every detail.
"""

import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.authentication import BearerTokenAuthentication
from accounts.middleware import second_factor_pending
from caisi_portal.celery import app
from core.models import PendingTask

# This process's last public answer: (good until, on the monotonic clock; body; status).
_public_answer: tuple[float, dict, int] = (0.0, {}, 200)
_public_lock = threading.Lock()


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure to reach it is "down"
        return {"ok": False, "error": exc.__class__.__name__}


def _outbox() -> dict:
    """Background work the broker has not received yet (cases.outbox).

    A row or two for a moment is normal; rows older than two drain intervals
    mean the broker has been unreachable since: the work waits, it is not lost.
    """

    try:
        found = PendingTask.objects.aggregate(waiting=Count("id"), oldest=Min("created_at"))
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    age = (timezone.now() - found["oldest"]).total_seconds() if found["oldest"] else 0.0
    return {
        "ok": age <= 2 * settings.OUTBOX_DRAIN_SECONDS,
        "waiting": found["waiting"],
        "oldest_seconds": round(age),
    }


def _broker_and_workers() -> tuple[dict, dict]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        embedded = {"ok": True, "mode": "in-process"}
        return embedded, embedded

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        broker = {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}, {"ok": False, "count": 0}
    try:
        replies = app.control.ping(timeout=1.0) or []
    except Exception as exc:
        return broker, {"ok": False, "count": 0, "error": exc.__class__.__name__}
    return broker, {"ok": bool(replies), "count": len(replies)}


@never_cache
@require_GET
def healthz(request):
    if request.headers.get("Authorization"):
        try:
            signed = BearerTokenAuthentication().authenticate(Request(request))
        except AuthenticationFailed as refusal:
            signed = None
            reason = str(refusal.detail)
        else:
            reason = "Send the token as “Authorization: Bearer <token>”."
        if signed is None:
            return JsonResponse(
                {"status": "unauthorized", "detail": reason},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        return _detailed_answer()
    user = request.user
    if (
        user.is_authenticated
        and user.is_caisi_staff
        and user.must_pass_second_factor
        and not second_factor_pending(request)
    ):
        return _detailed_answer()
    return _public()


def _public() -> JsonResponse:
    """Return whether this process can serve (its database answers), checked now and then."""
    global _public_answer
    with _public_lock:  # one check at a time; the others wait for its answer
        until, body, status = _public_answer
        now = time.monotonic()
        if now >= until:
            up = _database()["ok"]
            body, status = {"status": "ok" if up else "unavailable"}, 200 if up else 503
            _public_answer = (now + settings.HEALTHZ_PUBLIC_SECONDS, body, status)
    return JsonResponse(body, status=status)


def _detailed_answer() -> JsonResponse:
    database = _database()
    broker, workers = _broker_and_workers()
    outbox = _outbox() if database["ok"] else {"ok": False}
    ok = database["ok"] and broker["ok"] and workers["ok"] and outbox["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "database": database,
        "broker": broker,
        "workers": workers,
        "outbox": outbox,
    }
    # Without its database the portal cannot serve anyone: 503. A missing broker
    # or worker, or work waiting in the outbox, delays background work only, so
    # it reports "degraded" with 200.
    return JsonResponse(body, status=200 if database["ok"] else 503)
