"""Per-person rate limits on what costs money or storage: starting jobs and uploading files.

Fixed one-minute windows counted in Django's cache (shared by every web machine when
CACHE_URL points at Redis, whose INCR is atomic). A refused request does not use up the
allowance, and the caller stores nothing when LimitExceeded is raised. A limit of 0 means
no limit.
"""

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


class LimitExceeded(Exception):
    """The person has used this minute's allowance; `message` says what and until when."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def check_jobs(user, n: int = 1) -> None:
    """Count `n` new jobs against the person's allowance, or raise LimitExceeded."""
    _take("jobs", user, n, settings.STUDIO_JOBS_PER_MINUTE, "job", "start")


def check_uploads(user, count: int = 1) -> None:
    """Count `count` uploaded files against the person's allowance, or raise LimitExceeded."""
    _take("uploads", user, count, settings.STUDIO_UPLOADS_PER_MINUTE, "file", "upload")


def _take(kind: str, user, count: int, limit: int, noun: str, verb: str) -> None:
    if limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, WINDOW_SECONDS - int(now % WINDOW_SECONDS))
    key = f"limit:{kind}:{user.pk}:{window}"
    used = _increment(key, count)
    if used <= limit:
        return
    cache.decr(key, count)  # a refused request does not use up the allowance
    already = used - count
    plural = "s" if limit != 1 else ""
    raise LimitExceeded(
        f"You can {verb} at most {limit} {noun}{plural} a minute and have {verb}ed "
        f"{already} in this one. Try again in {retry_after} seconds.",
        retry_after,
    )


def _increment(key: str, count: int) -> int:
    cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
    try:
        return cache.incr(key, count)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
        return cache.incr(key, count)
