"""Per-person rate limits on what costs money or storage (starting jobs, uploading files), and
the counter they and the sign-in throttle share.

An allowance is a row per key (gallery.models.Allowance) holding what was used in the current
window. Taking from it is one conditional UPDATE (`used = used + n WHERE used + n <= limit`)
in a short transaction, so the check and the count are one step: 40 parallel requests against
a limit of 20 get exactly 20 yeses, on SQLite (IMMEDIATE transactions serialise writers) and
PostgreSQL (the UPDATE re-reads a row another transaction changed) alike, and on any number of
web machines, since they share the database. A window starts with the first use after the
last one ended. A refused request takes nothing; one refused later (over budget, say) gives
back what it took. A limit of 0 means no limit.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gallery.jobs import refused
from gallery.models import Allowance

WINDOW_SECONDS = 60


class LimitExceeded(refused.Refused):
    """The person has used this minute's allowance; `message` says what and until when."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, retry_after=retry_after)


@dataclass(frozen=True)
class Taken:
    """What take() granted: `count` from `key`'s window ending at `window_ends_at`."""

    key: str
    count: int
    window_ends_at: datetime | None


@dataclass(frozen=True)
class Refused:
    used: int
    retry_after: int


def take(key: str, count: int, *, limit: int, window_seconds: int) -> Taken | Refused:
    """Take `count` from `key`'s allowance of `limit` per window, or refuse (taking nothing)."""
    now = timezone.now()
    ends = now + timedelta(seconds=window_seconds)
    with transaction.atomic():
        # A window that ended starts again from nothing; a new key starts its first one.
        Allowance.objects.filter(key=key, window_ends_at__lte=now).update(
            used=0, window_ends_at=ends
        )
        Allowance.objects.bulk_create(
            [Allowance(key=key, used=0, window_ends_at=ends)], ignore_conflicts=True
        )
        won = Allowance.objects.filter(key=key, used__lte=limit - count).update(
            used=F("used") + count
        )
        used, window_ends_at = Allowance.objects.values_list("used", "window_ends_at").get(key=key)
    if won:
        return Taken(key, count, window_ends_at)
    retry_after = max(1, int((window_ends_at - now).total_seconds() + 0.999))
    return Refused(used, retry_after)


def give_back(taken: Taken) -> None:
    """Return what take() granted, unless its window has ended since."""
    if taken.window_ends_at is not None:
        Allowance.objects.filter(
            key=taken.key, window_ends_at=taken.window_ends_at, used__gte=taken.count
        ).update(used=F("used") - taken.count)


def check_jobs(user, n: int = 1) -> Taken:
    """Count `n` new jobs against the person's allowance, or raise LimitExceeded."""
    return _take("jobs", user, n, settings.STUDIO_JOBS_PER_MINUTE, "job", "start")


def check_uploads(user, count: int = 1) -> Taken:
    """Count `count` uploaded files against the person's allowance, or raise LimitExceeded."""
    return _take("uploads", user, count, settings.STUDIO_UPLOADS_PER_MINUTE, "file", "upload")


@contextmanager
def charged(user, *, jobs: int = 0, uploads: int = 0):
    """Take jobs and uploads from the person's allowances for the block, giving them back if
    the block raises (a request refused later, over budget say, uses up nothing)."""
    taken = []
    try:
        if jobs:
            taken.append(check_jobs(user, jobs))
        if uploads:
            taken.append(check_uploads(user, uploads))
        yield
    except BaseException:
        for item in taken:
            give_back(item)
        raise


def _take(kind: str, user, count: int, limit: int, noun: str, verb: str) -> Taken:
    if limit <= 0:
        return Taken(f"limit:{kind}:{user.pk}", count, None)
    result = take(f"limit:{kind}:{user.pk}", count, limit=limit, window_seconds=WINDOW_SECONDS)
    if isinstance(result, Taken):
        return result
    plural = "s" if limit != 1 else ""
    raise LimitExceeded(
        f"You can {verb} at most {limit} {noun}{plural} a minute and have {verb}ed "
        f"{result.used} in this one. Try again in {result.retry_after} seconds.",
        result.retry_after,
    )


def prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget allowances whose window ended long ago (sign-in keys pile up otherwise)."""
    deleted, _ = Allowance.objects.filter(window_ends_at__lt=timezone.now() - older_than).delete()
    return deleted
