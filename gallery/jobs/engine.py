"""Which job runs next, and under which limits, across every worker.

The database is the only thing all workers share, so every decision is taken there, inside
one short serialised transaction per claim:

- limits: at most STUDIO_MAX_CONCURRENT_CALLS jobs running with a live lease, and at most
  STUDIO_IMAGES_PER_MINUTE images asked for in the last rolling minute (0 = no limit);
- fairness: the next job is the oldest due job of the person with the fewest running jobs,
  ties going to whoever was served least recently, so one person's batch of 50 takes turns
  with everybody else's single images;
- leases: a claimed job carries a lease that its worker's heartbeat renews while the worker
  lives. A job whose lease ran out (the worker was killed) goes back to the queue, at most
  STUDIO_JOB_MAX_LOSSES times, then fails with a reason a person can read.

A broker message is only a doorbell: whoever answers it claims the fairest job, whichever
that is. Serialising claims costs a few milliseconds each and keeps the limits exact with
any number of worker machines: on SQLite the IMMEDIATE transaction takes the write lock at
BEGIN; on PostgreSQL a transaction-scoped advisory lock does the same.
"""

import contextlib
import logging
import os
import socket
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from gallery.models import Attempt, Job

log = logging.getLogger(__name__)

# Any constant will do; it names the one lock that serialises claims on PostgreSQL.
CLAIM_LOCK_KEY = 7_206_001


@dataclass(frozen=True)
class Limited:
    """No job was claimed because a limit is reached; `wait` is the number of seconds after
    which the images-per-minute window has room again (None: wait for a running job)."""

    reason: str
    wait: float | None = None


def lease() -> timedelta:
    return timedelta(seconds=settings.STUDIO_JOB_LEASE_SECONDS)


def new_holder() -> str:
    """A name for one claim: which host and process hold the lease, unique per claim."""
    return f"{_hostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_next(*, holder: str) -> Job | Limited | None:
    """Claim the fairest due job for the caller: a Job (now running, its attempt recorded as
    in progress), Limited when a global limit says wait, or None when nothing is due."""
    for _ in range(3):
        with transaction.atomic():
            _serialise_claims()
            fairest = _fairest_due_job()
            if fairest is None:
                return None
            job_id, size = fairest
            limited = _limit_reached(size)
            if limited:
                return limited
            job = take(job_id, holder=holder)
            if job is not None:
                return job
    return None


def take(job_id: int, *, holder: str) -> Job | None:
    """Claim this very job if it is queued and due (a conditional UPDATE decides), and
    record its attempt as in progress before any call is made."""
    with transaction.atomic():
        job = Job.objects.claim(job_id, lease=lease(), holder=holder)
        if job is None:
            return None
        assert job.started_at is not None  # claim() just set it
        Attempt.objects.create(
            job=job,
            number=job.attempts,
            started_at=job.started_at,
            image_count=job.n,
            outcome=Attempt.Outcome.IN_PROGRESS,
        )
    _hold(job.pk, holder)
    return job


def _serialise_claims() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])
    # SQLite: the settings make every transaction BEGIN IMMEDIATE, which takes the single
    # write lock at once, so claims are already serialised.


def _limit_reached(size: int) -> Limited | None:
    now = timezone.now()
    cap = settings.STUDIO_MAX_CONCURRENT_CALLS
    if cap > 0:
        running = Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__gt=now).count()
        if running >= cap:
            return Limited(f"{running} API calls are in flight (limit {cap})")
    per_minute = settings.STUDIO_IMAGES_PER_MINUTE
    if per_minute > 0:
        window = Attempt.objects.filter(started_at__gt=now - timedelta(minutes=1))
        figures = window.aggregate(images=Sum("image_count"), oldest=Min("started_at"))
        used = figures["images"] or 0
        # A job asking for more images than a whole minute allows still runs, alone.
        if used and used + size > per_minute:
            wait = (figures["oldest"] + timedelta(minutes=1) - now).total_seconds()
            return Limited(
                f"{used} images asked for in the last minute (limit {per_minute})",
                wait=max(wait, 0.1),
            )
    return None


def _served_order(owner_ids) -> dict[int, tuple]:
    """Per owner, the key that orders who is served next: fewest running jobs, then least
    recently served."""
    running = dict(
        Job.objects.filter(status=Job.Status.RUNNING, owner_id__in=owner_ids)
        .values_list("owner_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    last_served = dict(
        Job.objects.filter(owner_id__in=owner_ids, started_at__isnull=False)
        .values_list("owner_id")
        .annotate(last=Max("started_at"))
        .order_by()
    )
    epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return {owner: (running.get(owner, 0), last_served.get(owner) or epoch) for owner in owner_ids}


def _fairest_due_job() -> tuple[int, int] | None:
    """(id, images asked for) of the job claim_next should take, or None."""
    oldest = dict(
        Job.objects.due().values_list("owner_id").annotate(oldest=Min("created_at")).order_by()
    )
    if not oldest:
        return None
    if len(oldest) == 1:
        (owner,) = oldest
    else:
        order = _served_order(list(oldest))
        owner = min(oldest, key=lambda o: (*order[o], oldest[o]))
    first = (
        Job.objects.due()
        .filter(owner_id=owner)
        .order_by("created_at", "id")
        .values_list("pk", "params")
        .first()
    )
    if first is None:
        return None
    pk, params = first
    return pk, int((params or {}).get("n", 1))


def queue_position(job: Job) -> int | None:
    """The job's place in line (1 = next), estimated the way claim_next takes turns: every
    person with queued jobs gets one turn per round. None unless the job is queued."""
    if job.status != Job.Status.QUEUED:
        return None
    queued = Job.objects.filter(status=Job.Status.QUEUED)
    own_ahead = queued.filter(owner_id=job.owner_id, created_at__lt=job.created_at).count()
    per_owner = {
        owner: (count, oldest)
        for owner, count, oldest in queued.values_list("owner_id")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by()
    }
    if job.owner_id not in per_owner:
        return None  # claimed since the job was read
    order = _served_order(list(per_owner))
    keys = {owner: (*order[owner], oldest) for owner, (_, oldest) in per_owner.items()}
    mine = keys[job.owner_id]
    # In each of the rounds before this job's turn, each other person gets one job in;
    # in this job's own round, those ordered before this person also go first.
    ahead = own_ahead + sum(
        min(count, own_ahead + (1 if keys[owner] < mine else 0))
        for owner, (count, _) in per_owner.items()
        if owner != job.owner_id
    )
    return ahead + 1


# --- Leases ------------------------------------------------------------------------------

_held: dict[int, str] = {}
_held_lock = threading.Lock()


def _hold(job_id: int, holder: str) -> None:
    with _held_lock:
        _held[job_id] = holder


def release(job_id: int) -> None:
    """This process no longer runs the job; its heartbeat stops renewing the lease."""
    with _held_lock:
        _held.pop(job_id, None)


def renew_leases() -> int:
    """Extend the leases of the jobs this process is running (called by the heartbeat).
    A lease some other worker has taken over in the meantime is left alone."""
    with _held_lock:
        held = dict(_held)
    if not held:
        return 0
    return Job.objects.filter(
        pk__in=list(held),
        status=Job.Status.RUNNING,
        lease_holder__in=list(held.values()),
    ).update(lease_expires_at=timezone.now() + lease())


def holds_lease(job: Job, holder: str) -> bool:
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, lease_holder=holder).exists()


def requeue_lost_jobs(*, limit: int = 500) -> int:
    """Running jobs whose lease ran out lost their worker (SIGKILL, a crash, a host gone):
    put them back in the queue, or fail them when workers keep dying on them."""
    now = timezone.now()
    lost = list(
        Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=now).values_list(
            "pk", "lease_holder", "losses", "attempts"
        )[:limit]
    )
    for pk, holder, losses, attempts in lost:
        with transaction.atomic():
            mine = Job.objects.filter(
                pk=pk, status=Job.Status.RUNNING, lease_expires_at__lt=now, lease_holder=holder
            )
            if losses + 1 >= settings.STUDIO_JOB_MAX_LOSSES:
                changed = mine.update(
                    status=Job.Status.FAILED,
                    losses=losses + 1,
                    finished_at=now,
                    lease_expires_at=None,
                    error_code="worker_lost",
                    error=(
                        f"The worker running this job stopped mid-call {losses + 1} times "
                        "(killed or restarted), so the studio gave up. No images came back; "
                        "any call that reached the API may still have been charged. "
                        "Retry the job, and ask the admin to check the worker's memory and logs."
                    ),
                )
            else:
                changed = mine.update(
                    status=Job.Status.QUEUED,
                    losses=losses + 1,
                    lease_expires_at=None,
                    next_attempt_at=None,
                )
            if changed:
                Attempt.objects.filter(
                    job_id=pk, number=attempts, outcome=Attempt.Outcome.IN_PROGRESS
                ).update(
                    outcome=Attempt.Outcome.WORKER_LOST,
                    error="The worker stopped during this call (killed or restarted); "
                    "the job went back to the queue.",
                )
    if lost:
        log.warning("%d running jobs had lost their worker", len(lost))
    return len(lost)


# --- Database connections ----------------------------------------------------------------

_db_slots: threading.BoundedSemaphore | None = None
_sqlite_keeper: sqlite3.Connection | None = None
_db_slots_lock = threading.Lock()


@contextlib.contextmanager
def db_slot():
    """Use the database within a per-process cap on open connections, and close this
    thread's connection afterwards, so that hundreds of threads waiting on the API hold
    none (PostgreSQL would run out of connections otherwise).

    SQLite has one writer at a time, and a writer that finds the lock taken sleeps in
    growing steps (up to 100 ms) before trying again; 200 threads doing that turn a few
    milliseconds of work into seconds. One slot per process makes them queue instead."""
    global _db_slots, _sqlite_keeper
    with _db_slots_lock:
        if _db_slots is None:
            size = settings.STUDIO_WORKER_DB_CONNECTIONS
            if connection.vendor == "sqlite":
                size = 1
                # When the last connection to a WAL database closes, SQLite checkpoints and
                # deletes the WAL: one idle connection kept open spares every close that.
                _sqlite_keeper = sqlite3.connect(settings.DATABASES["default"]["NAME"])
            _db_slots = threading.BoundedSemaphore(max(1, size))
    with _db_slots:
        try:
            yield
        finally:
            close_connection()


def close_connection() -> None:
    """Close this thread's connection unless a transaction is open on it (tests run
    inside one)."""
    if not connection.in_atomic_block:
        connection.close()


def _hostname() -> str:
    return socket.gethostname()


def jobs_needing_a_doorbell(*, limit: int = 500) -> list[int]:
    """Ids of jobs whose broker message may have been lost, so they need to be sent again.

    The database, not the broker, is the source of truth: a broker that restarts empty, a
    retry countdown held by a worker that died, or a crash between commit and enqueue all
    leave a job queued with nobody coming for it. Running jobs whose lease ran out (their
    worker was killed) go back to the queue first. Sending a job twice is harmless: only
    one claim can win."""
    requeue_lost_jobs(limit=limit)
    overdue = timezone.now() - timedelta(seconds=settings.STUDIO_DOORBELL_SECONDS)
    stale = Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(next_attempt_at__isnull=True, created_at__lt=overdue) | Q(next_attempt_at__lt=overdue)
    )
    return list(stale.order_by("created_at").values_list("pk", flat=True)[:limit])
