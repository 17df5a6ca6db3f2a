"""Per-person rate limits on starting jobs and uploading files."""

import io

import pytest
from django.urls import reverse
from PIL import Image as PILImage

from gallery.jobs import limits
from gallery.models import Image, Job
from tests.unit.test_views import GOOD

pytestmark = pytest.mark.django_db


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_jobs_beyond_the_limit_are_refused_with_a_message_and_not_stored(
    alice_client, settings, django_capture_on_commit_callbacks
):
    settings.STUDIO_JOBS_PER_MINUTE = 2
    url = reverse("gallery:create")
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(2):
            assert alice_client.post(url, GOOD).status_code == 302
        refused = alice_client.post(url, GOOD)
        htmx = alice_client.post(url, GOOD, HTTP_HX_REQUEST="true")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "at most 2 jobs a minute" in refused.content.decode()
    assert htmx.status_code == 200 and "Try again in" in htmx.content.decode()
    assert Job.objects.count() == 2 and len(callbacks) == 2


def test_limits_are_per_person(client, alice, bob, settings):
    settings.STUDIO_JOBS_PER_MINUTE = 1
    limits.check_jobs(alice, 1)
    with pytest.raises(limits.LimitExceeded):
        limits.check_jobs(alice, 1)
    limits.check_jobs(bob, 1)


def test_a_refused_request_does_not_use_up_the_allowance(alice, settings):
    settings.STUDIO_UPLOADS_PER_MINUTE = 3
    limits.check_uploads(alice, 2)
    with pytest.raises(limits.LimitExceeded) as refusal:
        limits.check_uploads(alice, 2)  # 4 > 3: refused, and the 2 are not counted
    assert "upload at most 3 files a minute and have uploaded 2" in refusal.value.message
    limits.check_uploads(alice, 1)  # exactly the third
    with pytest.raises(limits.LimitExceeded):
        limits.check_uploads(alice, 1)


def test_zero_means_no_limit(alice, settings):
    settings.STUDIO_JOBS_PER_MINUTE = 0
    for _ in range(100):
        limits.check_jobs(alice, 1)


def test_verify_uploads_beyond_the_limit_are_refused_and_nothing_is_stashed(
    alice_client, settings, media_root
):
    settings.STUDIO_UPLOADS_PER_MINUTE = 1
    url = reverse("gallery:verify")
    first = alice_client.post(url, {"file": io.BytesIO(png())})
    assert first.status_code == 200
    stashed = sorted(p for p in media_root.rglob("*") if p.is_file())
    second = alice_client.post(url, {"file": io.BytesIO(png())})
    assert second.status_code == 429
    assert "at most 1 file a minute" in second.content.decode()
    assert sorted(p for p in media_root.rglob("*") if p.is_file()) == stashed
    assert Image.objects.count() == 0


def test_a_job_refused_over_budget_does_not_use_up_the_allowance(alice_client, alice, settings):
    from gallery.jobs import budgets

    settings.STUDIO_JOBS_PER_MINUTE = 1
    budgets.set_person_limit(alice, "0.000001")
    assert alice_client.post(reverse("gallery:create"), GOOD).status_code == 400
    budgets.set_person_limit(alice, None)
    assert alice_client.post(reverse("gallery:create"), GOOD).status_code == 302
    assert alice_client.post(reverse("gallery:create"), GOOD).status_code == 429


def test_an_allowance_starts_again_when_its_window_ends(alice, settings):
    from django.utils import timezone

    from gallery.models import Allowance

    settings.STUDIO_JOBS_PER_MINUTE = 2
    limits.check_jobs(alice, 2)
    with pytest.raises(limits.LimitExceeded) as refusal:
        limits.check_jobs(alice, 1)
    assert 55 <= refusal.value.retry_after <= 60
    Allowance.objects.update(window_ends_at=timezone.now())  # a minute later
    limits.check_jobs(alice, 2)
    assert Allowance.objects.get().used == 2


def test_take_never_grants_more_than_the_limit_in_one_request(alice, settings):
    settings.STUDIO_UPLOADS_PER_MINUTE = 3
    with pytest.raises(limits.LimitExceeded):
        limits.check_uploads(alice, 4)
    limits.check_uploads(alice, 3)


def test_old_allowances_are_pruned(alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from gallery.models import Allowance

    limits.take("login:old", 1, limit=5, window_seconds=60)
    limits.take("login:new", 1, limit=5, window_seconds=60)
    Allowance.objects.filter(key="login:old").update(
        window_ends_at=timezone.now() - timedelta(days=2)
    )
    assert limits.prune() == 1
    assert list(Allowance.objects.values_list("key", flat=True)) == ["login:new"]
