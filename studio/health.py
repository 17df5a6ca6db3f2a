"""What /healthz reports: can the studio reach its database, broker, workers and image API?"""

import hmac
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from gallery.models import WorkerHeartbeat

WORKER_FRESH_SECONDS = 60


def check() -> dict:
    parts = {
        "database": _database(),
        "broker": _broker(),
        "worker": _worker(),
        "api": _api(),
    }
    return {"ok": all(part["ok"] for part in parts.values()), **parts}


def _timed(fn) -> dict:
    started = time.monotonic()
    try:
        detail = fn()
        ok = True
    except Exception as exc:  # a health check reports failures, it does not raise them
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return {"ok": ok, "detail": detail, "ms": round((time.monotonic() - started) * 1000, 1)}


def _database() -> dict:
    def query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return connection.vendor

    return _timed(query)


def _broker() -> dict:
    from studio.celery import app

    def connect():
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"

    return _timed(connect)


def _worker() -> dict:
    def heartbeat():
        fresh = timezone.now() - timezone.timedelta(seconds=WORKER_FRESH_SECONDS)
        names = list(
            WorkerHeartbeat.objects.filter(seen_at__gte=fresh).values_list("hostname", flat=True)
        )
        if not names:
            raise RuntimeError(f"no worker has reported in the last {WORKER_FRESH_SECONDS} s")
        return {"workers": names}

    return _timed(heartbeat)


def _api() -> dict:
    def reach():
        # Any HTTP answer proves the API is reachable; the key is not sent.
        response = httpx.get(f"{settings.OPENAI_BASE_URL}/models", timeout=3.0)
        return {
            "base_url": settings.OPENAI_BASE_URL,
            "status": response.status_code,
            "standin": settings.USING_STANDIN,
        }

    return _timed(reach)


def api_activity(*, minutes: int = 60) -> dict:
    """How calls to the image API went recently, from the Attempt log (for the staff queue
    panel): calls, failures, error rate, rate-limit (429) answers and the last error.
    Rate-limit headroom itself is not recorded, so the 429 count stands in for it."""
    from gallery.models import Attempt

    recent = Attempt.objects.filter(started_at__gte=timezone.now() - timedelta(minutes=minutes))
    calls = recent.count()
    failed = recent.exclude(outcome=Attempt.Outcome.SUCCEEDED).count()
    last_error = recent.exclude(error="").order_by("-started_at").first()
    return {
        "minutes": minutes,
        "calls": calls,
        "failed": failed,
        "error_rate": round(100 * failed / calls) if calls else 0,
        "rate_limited": recent.filter(status_code=429).count(),
        "last_error": last_error,
    }


@require_GET
def healthz(request):
    """200 or 503 with {"ok": ...}; each part's detail (hosts, workers, errors, timings) only
    for staff and for callers with STUDIO_HEALTH_TOKEN: they map the studio's insides."""
    report = check()
    status = 200 if report["ok"] else 503
    if not may_see_details(request):
        return JsonResponse({"ok": report["ok"]}, status=status)
    return JsonResponse(report, status=status)


def may_see_details(request) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.STUDIO_HEALTH_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(sent.encode(), token.encode())
