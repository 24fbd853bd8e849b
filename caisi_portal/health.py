"""`/healthz`: the health of the database, the broker and the workers, as JSON."""

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from caisi_portal.celery import app
from core.models import PendingTask


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
