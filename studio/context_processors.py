from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject


def studio(request) -> dict:
    context: dict[str, object] = {
        "using_standin": settings.USING_STANDIN,
        # Lazy: only pages that show it (job cards, create, queue, the staff header) pay for
        # the query, and a page pays once however many job cards it renders.
        "no_worker": SimpleLazyObject(no_worker_running),
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        # Staff see which offered models shut down within 30 days (one small query).
        from gallery.imagesapi import discovery

        context["models_shutting_down"] = discovery.shutting_down()
    return context


def no_worker_running() -> bool:
    """True when no worker has written its heartbeat within WORKER_FRESH_SECONDS: queued jobs
    will wait until one is back. One indexed query (the table holds a row per worker)."""
    from gallery.models import WorkerHeartbeat
    from studio.health import WORKER_FRESH_SECONDS

    fresh = timezone.now() - timedelta(seconds=WORKER_FRESH_SECONDS)
    return not WorkerHeartbeat.objects.filter(seen_at__gte=fresh).exists()
