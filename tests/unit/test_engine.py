"""The job engine against the real stand-in server: every fault class, the retry policy,
fair claiming, the global limits, leases and cancels while a call is in flight."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gallery import imagesapi, jobs
from gallery.imagesapi import client
from gallery.jobs import engine
from gallery.models import Attempt, Job

pytestmark = pytest.mark.django_db

T, P = imagesapi.TransientError, imagesapi.PermanentError


def queued_job(owner, prompt="a red kite over hills", **params):
    return jobs.create_job(
        owner=owner, prompt=prompt, model="gpt-image-1", **{"size": "1024x1024", **params}
    )


@pytest.fixture
def fresh_client():
    """A new HTTP client for the test (it may change the timeouts), and afterwards a fresh
    one with the normal settings again."""
    client._client = None
    yield
    client._client = None


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        ("429", T, "rate limit reached"),
        ("429_quota", P, "out of credit"),
        ("500", T, "HTTP 500"),
        ("502", T, "HTTP 502 with an HTML page"),
        ("503", T, "overloaded"),
        ("524", T, "HTTP 524 with an HTML page"),
        ("html", P, "HTML page instead of JSON"),
        ("truncated", T, "cut off"),
        ("bad_image", P, "does not decode as an image"),
        ("hang", T, "did not answer within 1.5 seconds"),
        ("reset", T, "Could not reach the image API"),
        ("moderation", P, "safety system refused this request; rephrase"),
        ("moderation_plain", P, "safety system refused this request; rephrase"),
        ("org_verification", P, "organization must be verified"),
        ("401", P, "rejected the API key"),
        ("model_not_found", P, "does not serve the model"),
        ("comet", P, "bad upstream response: invalid request (request id: "),
        ("comet_400", P, "model name is required (request id: "),
    ],
)
def test_each_fault_class_is_transient_or_permanent_with_a_readable_message(
    standin, settings, fresh_client, fault, kind, words
):
    if fault == "hang":
        settings.STUDIO_API_READ_TIMEOUT = 1.5
        standin.configure(hang_seconds=4)
    with pytest.raises(imagesapi.APIError) as caught:
        imagesapi.generate(
            model="gpt-image-1", prompt=f"an otter [fault:{fault}]", size="1024x1024"
        )
    assert type(caught.value) is kind
    assert words in caught.value.message
    assert "Traceback" not in caught.value.message


def test_moderation_details_name_the_category(standin):
    with pytest.raises(P) as caught:
        imagesapi.generate(model="gpt-image-1", prompt="x [fault:moderation]", size="1024x1024")
    assert "Categories: violence." in caught.value.message


def test_slow_answer_still_succeeds(standin):
    standin.configure(slow_seconds=0.2)
    result = imagesapi.generate(model="gpt-image-1", prompt="x [fault:slow]", size="1024x1024")
    assert len(result.images) == 1


def test_rate_limit_429_carries_the_servers_retry_after(standin):
    standin.configure(retry_after=2.5)
    with pytest.raises(T) as caught:
        imagesapi.generate(model="gpt-image-1", prompt="x [fault:429]", size="1024x1024")
    assert caught.value.retry_after == pytest.approx(2.5)


# --- Retry policy -----------------------------------------------------------------------


def test_backoff_doubles_with_jitter_within_bounds(settings):
    settings.STUDIO_RETRY_BASE_DELAY, settings.STUDIO_RETRY_MAX_DELAY = 2.0, 120.0
    for attempts, full in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 120.0)]:
        delays = [jobs.retry_delay(attempts, None) for _ in range(200)]
        assert all(0.75 * full <= d <= full for d in delays), (attempts, min(delays))
        assert max(delays) - min(delays) > 0.05 * full  # jitter spreads retries apart


def test_retry_after_is_honoured_up_to_the_cap(settings):
    settings.STUDIO_RETRY_BASE_DELAY, settings.STUDIO_RETRY_MAX_DELAY = 2.0, 30.0
    assert jobs.retry_delay(1, 20.0) == 20.0
    assert jobs.retry_delay(1, 500.0) == 30.0
    assert jobs.retry_delay(1, 0.1) >= 1.5  # a shorter Retry-After never shortens backoff


@pytest.mark.parametrize("fault", ["moderation", "401", "429_quota", "org_verification"])
def test_permanent_errors_are_never_retried(alice, standin, fault):
    job = queued_job(alice, prompt=f"a heron [fault:{fault}]")
    assert jobs.run_job(jobs.claim_job(job.pk)) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert [a.outcome for a in job.attempt_log.all()] == [Attempt.Outcome.FAILED]
    assert len(standin.requests()) >= 1


def test_transient_errors_retry_within_the_budget_then_fail_readably(alice, standin, settings):
    settings.STUDIO_JOB_MAX_ATTEMPTS = 3
    job = queued_job(alice, prompt="a heron [fault:503]")
    delays = []
    for _ in range(3):
        Job.objects.filter(pk=job.pk).update(next_attempt_at=None)
        delays.append(jobs.run_job(jobs.claim_job(job.pk)))
    job.refresh_from_db()
    assert delays[:2] == [pytest.approx(d) for d in delays[:2]] and None not in delays[:2]
    assert delays[2] is None
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Gave up after 3 attempts. The image API is busy")
    outcomes = [a.outcome for a in job.attempt_log.all()]
    assert outcomes == ["retrying", "retrying", "failed"]
    assert all(a.status_code == 503 and a.request_id for a in job.attempt_log.all())


def test_attempt_is_recorded_in_progress_before_the_call(alice, standin):
    job = jobs.claim_job(queued_job(alice).pk)
    attempt = Attempt.objects.get(job=job)
    assert attempt.outcome == Attempt.Outcome.IN_PROGRESS and attempt.started_at
    jobs.run_job(job)
    attempt.refresh_from_db()
    assert attempt.outcome == Attempt.Outcome.SUCCEEDED
    assert attempt.api_ms is not None and attempt.duration_ms >= attempt.api_ms


# --- Fairness and limits -----------------------------------------------------------------


def claim():
    return engine.claim_next(holder=engine.new_holder())


def test_fair_claiming_takes_turns_between_people(alice, bob):
    batch = [queued_job(alice, prompt=f"alice {i}") for i in range(4)]
    single = queued_job(bob, prompt="bob's one image")
    order = [claim().pk for _ in range(4)]
    assert order == [batch[0].pk, single.pk, batch[1].pk, batch[2].pk]


def test_the_person_served_least_recently_goes_first_when_running_counts_tie(alice, bob):
    first = [queued_job(alice, prompt=f"alice {i}") for i in range(3)]
    later = queued_job(bob, prompt="bob")
    taken = claim()
    assert taken.pk == first[0].pk
    Job.objects.filter(pk=taken.pk).update(status=Job.Status.SUCCEEDED)
    assert claim().pk == later.pk  # alice was just served, bob never


def test_concurrency_cap_holds_across_workers(alice, settings):
    settings.STUDIO_MAX_CONCURRENT_CALLS = 2
    for i in range(3):
        queued_job(alice, prompt=f"p{i}")
    assert isinstance(claim(), Job) and isinstance(claim(), Job)
    limited = claim()
    assert isinstance(limited, engine.Limited) and "limit 2" in limited.reason


def test_images_per_minute_cap_says_how_long_to_wait(alice, settings):
    settings.STUDIO_IMAGES_PER_MINUTE = 3
    queued_job(alice, n=2)
    queued_job(alice, n=2)
    assert isinstance(claim(), Job)
    limited = claim()
    assert isinstance(limited, engine.Limited)
    assert 55 < limited.wait <= 60
    Attempt.objects.update(started_at=timezone.now() - timedelta(seconds=61))
    assert isinstance(claim(), Job)


def test_nothing_due_claims_nothing(alice):
    job = queued_job(alice)
    Job.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert claim() is None


def test_queue_position_follows_the_turns(alice, bob):
    alices = [queued_job(alice, prompt=f"alice {i}") for i in range(5)]
    bobs = [queued_job(bob, prompt=f"bob {i}") for i in range(2)]
    positions = {job.pk: engine.queue_position(job) for job in [*alices, *bobs]}
    assert positions[alices[0].pk] == 1
    assert positions[bobs[0].pk] == 2
    assert positions[alices[1].pk] == 3
    assert positions[bobs[1].pk] == 4
    assert positions[alices[4].pk] == 7
    # And it agrees with the order the engine actually takes them in.
    taken = [claim().pk for _ in range(7)]
    assert taken == sorted(positions, key=positions.get)


# --- Leases, losses, cancels ----------------------------------------------------------


def test_an_expired_lease_makes_the_job_claimable_again(alice):
    queued_job(alice)
    job = claim()
    assert claim() is None  # running, lease live
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert engine.requeue_lost_jobs() == 1
    again = claim()
    assert again.pk == job.pk and again.attempts == 2 and again.losses == 1
    lost = Attempt.objects.get(job=job, number=1)
    assert lost.outcome == Attempt.Outcome.WORKER_LOST and "worker stopped" in lost.error


def test_renewal_keeps_only_this_workers_leases_alive(alice):
    queued_job(alice)
    job = claim()
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert engine.renew_leases() == 1
    job.refresh_from_db()
    assert job.lease_expires_at > timezone.now() + timedelta(seconds=30)
    Job.objects.filter(pk=job.pk).update(lease_holder="another-worker")
    assert engine.renew_leases() == 0
    engine.release(job.pk)


def test_a_job_whose_workers_keep_dying_fails_with_a_readable_reason(alice, settings):
    settings.STUDIO_JOB_MAX_LOSSES = 2
    job = queued_job(alice)
    for _ in range(2):
        claim()
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
        engine.requeue_lost_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "worker_lost"
    assert "stopped mid-call 2 times" in job.error


def test_a_canceled_job_is_skipped(alice):
    job = queued_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELED)
    assert claim() is None and jobs.claim_job(job.pk) is None


def test_cancel_during_the_call_keeps_the_paid_images(alice, standin):
    job = jobs.claim_job(queued_job(alice, n=2).pk)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELED)
    assert jobs.run_job(job) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    assert job.images.count() == 2 and job.cost_usd > 0
    assert "images it made were kept (2)" in job.error


def test_a_second_call_for_the_same_job_stores_no_second_set(alice, standin):
    job = jobs.claim_job(queued_job(alice).pk)
    stale = Job.objects.get(pk=job.pk)  # a worker whose lease ran out still holds this
    jobs.run_job(job)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    jobs.run_job(stale)
    assert job.images.count() == 1
    assert "were not kept" in Attempt.objects.get(job=job, number=1).error


# --- check_gallery ------------------------------------------------------------------------


def check(*args):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    try:
        call_command("check_gallery", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def test_check_gallery_finds_and_repairs_what_it_safely_can(alice, standin, media_root):
    import os

    job = queued_job(alice, n=2)
    jobs.run_job(jobs.claim_job(job.pk))
    first, second = job.images.order_by("index")
    out, error = check()
    assert error == "" and "checked 2 images: 0 missing files, 0 sha256 mismatches" in out

    orphan = media_root / "originals" / "zz" / "orphan.png"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    os.utime(orphan, (0, 0))  # older than the grace period
    leftover = media_root / "originals" / "zz" / ".tmp-abc"
    leftover.write_bytes(b"half a file")
    (media_root / first.thumbnail_small.name).unlink()
    tampered = media_root / second.file.name
    tampered.write_bytes(tampered.read_bytes() + b"!")

    out, error = check()
    assert "orphan file: originals/zz/orphan.png" in out
    assert "temporary file left by a crash: originals/zz/.tmp-abc" in out
    assert f"row without file: image {first.pk} -> {first.thumbnail_small.name}" in out
    assert f"sha256 mismatch: image {second.pk}" in out
    assert error == "4 problems found; see --repair"

    out, error = check("--repair")
    assert not orphan.exists() and not leftover.exists()
    assert (media_root / first.thumbnail_small.name).exists()
    assert tampered.exists()  # an original is never rewritten or deleted
    assert error == "1 problem found"


def test_calls_cut_off_by_a_dying_worker_do_not_use_up_the_retry_budget(alice, standin, settings):
    settings.STUDIO_JOB_MAX_ATTEMPTS = 2
    job = queued_job(alice, prompt="a heron [fault:503]")
    Job.objects.filter(pk=job.pk).update(attempts=3, losses=3)
    assert jobs.run_job(jobs.claim_job(job.pk)) is not None  # first answered call
