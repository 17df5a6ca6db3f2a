"""The domain operations against the real stand-in API server: storing results, retries,
failures, cost."""

import hashlib
from decimal import Decimal

import pytest

from gallery import jobs, media
from gallery.models import Attempt, Image, Job

pytestmark = pytest.mark.django_db


def queued_job(owner, prompt="a red kite over hills", **params):
    return jobs.create_job(
        owner=owner,
        prompt=prompt,
        model="gpt-image-1",
        **{"size": "1024x1024", "quality": "low", **params},
    )


def run(job):
    claimed = jobs.claim_job(job.pk)
    assert claimed is not None
    return jobs.run_job(claimed)


def test_success_stores_originals_byte_for_byte_with_thumbnails(alice, standin):
    job = queued_job(alice, n=2)
    assert run(job) is None
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
    images = list(job.images.order_by("index"))
    assert [image.index for image in images] == [0, 1]
    for image in images:
        data = media.read(image.file.name)
        assert hashlib.sha256(data).hexdigest() == image.sha256
        assert image.byte_size == len(data) and (image.width, image.height) == (1024, 1024)
        assert image.thumbnail.name != image.file.name and image.thumbnail.name.endswith(".webp")
        assert image.prompt == job.prompt and image.owner == alice
    assert Attempt.objects.get(job=job).outcome == Attempt.Outcome.SUCCEEDED


def test_cost_comes_from_usage_and_the_price_table(alice, standin):
    job = queued_job(alice, n=1)
    run(job)
    job.refresh_from_db()
    usage = job.usage
    assert usage["output_tokens"] == 272  # low quality, 1024x1024
    text = usage["input_tokens_details"]["text_tokens"]
    expected = (Decimal(text) * 5 + Decimal(272) * 40) / 1_000_000
    assert job.cost_usd == expected.quantize(Decimal("0.000001"))
    assert job.images.get().cost_usd == job.cost_usd


def test_transient_failure_requeues_with_backoff(alice, standin):
    job = queued_job(alice, prompt="busy [fault:429]")
    delay = run(job)
    job.refresh_from_db()
    assert delay is not None and delay > 0
    assert job.status == Job.Status.QUEUED and job.next_attempt_at is not None
    assert "rate limit" in job.error
    assert jobs.claim_job(job.pk) is None or delay < 0.05  # not due yet
    assert Attempt.objects.get(job=job).outcome == Attempt.Outcome.RETRYING


def test_retry_after_from_the_api_is_honoured(settings):
    settings.STUDIO_RETRY_BASE_DELAY = 0.01
    settings.STUDIO_RETRY_MAX_DELAY = 60
    assert jobs.retry_delay(1, 7.5) == 7.5
    assert jobs.retry_delay(1, 600) == 60
    assert 0.0075 <= jobs.retry_delay(1, None) <= 0.01


def test_permanent_failure_fails_at_once(alice, standin):
    job = queued_job(alice, prompt="refused [fault:moderation]")
    assert run(job) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert "safety system" in job.error and job.error_code == "moderation_blocked"
    assert not Image.objects.exists()


def test_attempt_budget_ends_in_a_readable_failure(alice, standin, settings):
    settings.STUDIO_JOB_MAX_ATTEMPTS = 2
    job = queued_job(alice, prompt="down [fault:500]")
    assert run(job) is not None
    Job.objects.filter(pk=job.pk).update(next_attempt_at=None)
    assert run(job) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Gave up after 2 attempts.")
    assert list(job.attempt_log.values_list("outcome", flat=True)) == ["retrying", "failed"]


@pytest.mark.parametrize("fault", ["html", "truncated", "bad_image"])
def test_broken_answers_store_nothing(alice, standin, settings, fault):
    settings.STUDIO_JOB_MAX_ATTEMPTS = 1
    job = queued_job(alice, prompt=f"broken [fault:{fault}]")
    run(job)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error
    assert not Image.objects.exists()


def test_a_job_is_claimed_once(alice, standin):
    job = queued_job(alice)
    assert jobs.claim_job(job.pk) is not None
    assert jobs.claim_job(job.pk) is None


def test_same_bytes_are_one_file(tmp_path):
    import io

    import PIL.Image

    out = io.BytesIO()
    PIL.Image.new("RGB", (64, 48), "orange").save(out, "PNG")
    first, second = media.store(out.getvalue()), media.store(out.getvalue())
    assert first == second
    files = [p for p in (tmp_path / "media" / "originals").rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == out.getvalue()
