"""Live creation: streamed previews, cancel and retry, budgets, the queue panel and the
spending page, against the real stand-in API server."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from gallery import jobs, media
from gallery.imagesapi import registry
from gallery.jobs import budgets, run
from gallery.models import Image, Job

pytestmark = pytest.mark.django_db


def new_job(owner, prompt="a red kite over hills", **params):
    return jobs.create_job(
        owner=owner,
        prompt=prompt,
        model="gpt-image-1",
        **{"size": "1024x1024", "quality": "low", **params},
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password="x-pass-phrase-9", is_staff=True)


# --- Streaming previews -------------------------------------------------------------------


def test_streamed_partials_are_stored_as_derived_files_and_recorded_on_the_job(alice, standin):
    job = jobs.claim_job(new_job(alice, partial_images=2).pk)
    result = run._call_api(job)
    job.refresh_from_db()
    assert job.partial_index == 1 and job.partial_at is not None
    assert job.partial_file.startswith(f"partials/{job.pk}/")
    content_type, width, height = media.inspect(media.read(job.partial_file))
    assert content_type == "image/png" and (width, height) == (1024, 1024)
    assert Image.objects.count() == 0  # a preview is never an Image row
    assert result.usage["output_tokens"] == 272 + 2 * 100


def test_final_images_replace_the_preview_and_its_files(alice, standin):
    job = new_job(alice, partial_images=3)
    jobs.run_job(jobs.claim_job(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.partial_file == ""
    assert default_storage.listdir(f"partials/{job.pk}") == ([], [])
    assert job.usage["output_tokens"] == 272 + 300
    assert job.images.count() == 1


def test_no_previews_means_no_stream(alice, standin):
    job = new_job(alice, partial_images=0)
    assert "partial_images" not in job.params
    jobs.run_job(jobs.claim_job(job.pk))
    job.refresh_from_db()
    assert job.usage["output_tokens"] == 272 and job.partial_index is None


def test_estimate_counts_preview_tokens(alice):
    plain = new_job(alice, partial_images=0)
    streamed = new_job(alice, partial_images=2)
    price = registry.get("gpt-image-1").prices["image_output"]
    assert streamed.estimate_usd - plain.estimate_usd == 200 * price / 1_000_000


# --- Cancel and retry ---------------------------------------------------------------------


def test_canceling_a_queued_job_means_it_is_never_sent(alice, standin):
    standin.clear_requests()
    job = new_job(alice)
    message = jobs.cancel_job(job, by=alice)
    assert "nothing was charged" in message
    assert jobs.claim_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED and job.attempts == 0
    from gallery import tasks

    tasks.run_job(job.pk)  # a late broker message finds nothing to do
    assert standin.requests() == []


def test_canceling_a_running_job_keeps_its_paid_images(alice, standin):
    job = jobs.claim_job(new_job(alice).pk)
    message = jobs.cancel_job(job, by=alice)
    assert "may already be incurred" in message
    jobs.run_job(job)  # the worker was already waiting on the API
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    assert job.images.count() == 1 and job.cost_usd > 0


def test_a_canceled_job_is_not_requeued_by_a_transient_failure(alice, standin):
    job = jobs.claim_job(new_job(alice, prompt="busy [fault:503]").pk)
    jobs.cancel_job(job, by=alice)
    jobs.run_job(job)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED


def test_cancel_of_a_finished_job_says_so(alice, standin):
    job = new_job(alice)
    jobs.run_job(jobs.claim_job(job.pk))
    assert "already finished (done)" in jobs.cancel_job(job, by=alice)


def test_retry_makes_a_new_job_with_the_exact_inputs(alice, standin):
    failed = new_job(alice, prompt="blocked [fault:moderation]", n=2, partial_images=1)
    jobs.run_job(jobs.claim_job(failed.pk))
    failed.refresh_from_db()
    assert failed.status == Job.Status.FAILED
    retry = jobs.retry_job(failed, by=alice)
    assert retry.pk != failed.pk and retry.retry_of == failed
    assert (retry.prompt, retry.model, retry.params, retry.owner) == (
        failed.prompt,
        failed.model,
        failed.params,
        alice,
    )
    assert retry.status == Job.Status.QUEUED and retry.estimate_usd == failed.estimate_usd


# --- Budgets ------------------------------------------------------------------------------


def test_a_job_over_the_personal_budget_is_refused_before_it_is_recorded(alice):
    budgets.set_person_limit(alice, Decimal("0.01"))
    with pytest.raises(budgets.OverBudget) as refusal:
        new_job(alice, quality="high", n=2)
    message = str(refusal.value)
    assert "Your monthly budget" in message and "limit is $0.01" in message
    assert "estimated at $0.33" in message
    assert Job.objects.count() == 0


def test_unfinished_jobs_hold_their_estimate_so_parallel_jobs_cannot_overspend(alice):
    one = new_job(alice)  # about $0.011 with two previews
    budgets.set_person_limit(alice, one.estimate_usd * Decimal("1.5"))
    with pytest.raises(budgets.OverBudget, match="held for unfinished jobs"):
        new_job(alice)
    jobs.cancel_job(one, by=alice)  # canceled before sending: nothing spent, nothing held
    assert new_job(alice).status == Job.Status.QUEUED


def test_actual_cost_counts_against_the_budget(alice, standin):
    job = new_job(alice)
    jobs.run_job(jobs.claim_job(job.pk))
    job.refresh_from_db()
    budgets.set_person_limit(alice, job.cost_usd + Decimal("0.001"))
    standing = budgets.person_standing(alice)
    assert standing.spent == job.cost_usd and standing.reserved == 0
    with pytest.raises(budgets.OverBudget):
        new_job(alice)


def test_the_studio_budget_applies_to_everyone(alice, bob, settings):
    settings.STUDIO_MONTHLY_BUDGET_USD = Decimal("0.02")
    new_job(alice, partial_images=0)
    with pytest.raises(budgets.OverBudget, match="The studio's monthly budget"):
        new_job(bob, quality="medium")


def test_retry_is_subject_to_the_budget(alice):
    job = new_job(alice)
    jobs.cancel_job(job, by=alice)
    budgets.set_person_limit(alice, Decimal("0.001"))
    with pytest.raises(budgets.OverBudget):
        jobs.retry_job(job, by=alice)


def test_admins_see_who_is_near_their_limit(alice, bob):
    job = new_job(alice)
    budgets.set_person_limit(alice, job.estimate_usd * Decimal("1.1"))
    budgets.set_person_limit(bob, Decimal("100"))
    assert [person for person, _ in budgets.near_limit()] == [alice]


# --- Prices are configuration -------------------------------------------------------------


def test_a_prices_file_overrides_the_registry(settings, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gpt-image-1": {"image_output": "20.00"}}))
    settings.STUDIO_PRICES_FILE = str(path)
    registry._models.cache_clear()
    try:
        model = registry.get("gpt-image-1")
        assert model.prices["image_output"] == Decimal("20.00")
        assert model.prices["text_input"] == Decimal("5.00")
    finally:
        settings.STUDIO_PRICES_FILE = ""
        registry._models.cache_clear()


# --- Views: who may do what ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["gallery:job-cancel", "gallery:job-retry"])
def test_cancel_and_retry_are_for_the_owner_and_staff_only(client, alice, bob, staff, name):
    job = new_job(alice)
    if name == "gallery:job-retry":
        jobs.cancel_job(job, by=alice)
    url = reverse(name, args=[job.pk])
    assert client.post(url).status_code == 302  # anonymous: to the sign-in page
    client.force_login(bob)
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 405
    client.force_login(staff)
    assert client.post(url).status_code == 302
    client.force_login(alice)
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_cancel_from_the_card_shows_what_it_means(alice_client, alice):
    job = new_job(alice)
    response = alice_client.post(
        reverse("gallery:job-cancel", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert b"Canceled before it was sent: nothing was charged." in response.content
    assert b"Retry" in response.content


def test_retry_from_the_card_shows_the_new_job_above_the_old(alice_client, alice):
    job = new_job(alice)
    jobs.cancel_job(job, by=alice)
    response = alice_client.post(
        reverse("gallery:job-retry", args=[job.pk]), headers={"HX-Request": "true"}
    )
    retry = Job.objects.get(retry_of=job)
    text = response.content.decode()
    assert text.index(f'id="job-{retry.pk}"') < text.index(f'id="job-{job.pk}"')
    assert f'retry of <a href="/jobs/{job.pk}/">job {job.pk}</a>' in text


def test_retry_over_budget_shows_the_refusal_on_the_card(alice_client, alice):
    job = new_job(alice)
    jobs.cancel_job(job, by=alice)
    budgets.set_person_limit(alice, Decimal("0.001"))
    response = alice_client.post(reverse("gallery:job-retry", args=[job.pk]))
    assert response.status_code == 400
    assert b"Your monthly budget would be exceeded" in response.content
    assert Job.objects.count() == 1


def test_create_over_budget_keeps_the_form_and_says_why(alice_client, alice):
    budgets.set_person_limit(alice, Decimal("0.05"))
    data = {
        "prompt": "a lighthouse at dusk",
        "model": "gpt-image-1",
        "n": "3",
        "size": "1024x1024",
        "quality": "high",
        "background": "auto",
        "output_format": "png",
        "moderation": "auto",
        "partial_images": "2",
    }
    response = alice_client.post(reverse("gallery:create"), data, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert response.status_code == 200 and "Your monthly budget would be exceeded" in text
    assert "a lighthouse at dusk" in text and 'value="3"' in text  # nothing typed is lost
    assert Job.objects.count() == 0


def test_queue_panel_shows_position_and_staff_see_api_health(client, alice, bob, staff):
    first, second = new_job(bob), new_job(alice)
    client.force_login(alice)
    text = client.get(reverse("gallery:queue")).content.decode()
    assert re.search(r"(Next|Number \d) in line", text) and f"job-{first.pk}" not in text
    assert f"job-{second.pk}" in text and "Image API" not in text
    client.force_login(staff)
    text = client.get(reverse("gallery:queue")).content.decode()
    assert f"job-{first.pk}" in text and f"job-{second.pk}" in text
    assert "Image API, last 60 minutes" in text


def test_preview_is_served_while_running_and_404_after(alice_client, alice, standin):
    job = jobs.claim_job(new_job(alice, partial_images=1).pk)
    url = reverse("gallery:job-partial", args=[job.pk])
    assert alice_client.get(url).status_code == 404
    run._call_api(job)
    job.refresh_from_db()
    response = alice_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == media.read(job.partial_file)
    card = alice_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert b"Preview 1 of 1" in card.content and b'hx-trigger="every 1s"' in card.content


def test_spending_page_charts_each_person_and_hides_others_from_non_staff(
    client, alice, bob, staff, standin
):
    for owner in (alice, bob):
        jobs.run_job(jobs.claim_job(new_job(owner).pk))
    client.force_login(alice)
    text = client.get(reverse("gallery:spending")).content.decode()
    assert "<polyline" in text and "alice" in text and "bob" not in text
    client.force_login(staff)
    text = client.get(reverse("gallery:spending")).content.decode()
    assert text.count("<polyline") == 2 and "bob" in text


def test_estimate_view_counts_previews(alice_client):
    url = reverse("gallery:estimate")
    base = {"model": "gpt-image-1", "quality": "low", "size": "1024x1024", "prompt": "x"}
    with_previews = alice_client.post(url, {**base, "partial_images": "3"}).content.decode()
    without = alice_client.post(url, {**base, "partial_images": "0"}).content.decode()
    assert "with 3 previews each" in with_previews and "$0.0229" in with_previews
    assert "previews" not in without and "$0.0109" in without


def test_a_private_jobs_preview_is_404_to_others_and_a_retry_stays_private(
    client, alice, bob, standin
):
    job = jobs.claim_job(new_job(alice, partial_images=1, visibility="private").pk)
    run._call_api(job)
    url = reverse("gallery:job-partial", args=[job.pk])
    client.force_login(bob)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 200
    jobs.cancel_job(job, by=alice)
    assert jobs.retry_job(job, by=alice).visibility == "private"


def test_a_shared_jobs_preview_is_visible_to_other_signed_in_people(client, alice, bob, standin):
    job = jobs.claim_job(new_job(alice, partial_images=1, visibility="shared").pk)
    run._call_api(job)
    client.force_login(bob)
    assert client.get(reverse("gallery:job-partial", args=[job.pk])).status_code == 200
    client.logout()
    assert client.get(reverse("gallery:job-partial", args=[job.pk])).status_code == 302


# --- Live views: what a polled card and the queue list show --------------------------------


def card_html(client, job, page: str = ""):
    """The job's card as htmx asks for it from `page` (its poll, or a cancel); by default
    from the job's own page."""
    page = page or f"http://testserver{job.get_absolute_url()}"
    return client.get(
        job.get_absolute_url(), headers={"HX-Request": "true", "HX-Current-URL": page}
    ).content.decode()


def test_a_job_canceled_mid_call_keeps_polling_until_its_paid_images_arrive(
    alice_client, alice, standin
):
    job = jobs.claim_job(new_job(alice).pk)
    jobs.cancel_job(job, by=alice)
    waiting = card_html(alice_client, job)
    assert "hx-trigger=" in waiting and "Waiting for the call that was in flight" in waiting
    jobs.run_job(job)  # the call returns after the cancel
    arrived = card_html(alice_client, job)
    assert "hx-trigger=" not in arrived and "Waiting for the call" not in arrived
    assert arrived.count('class="thumbs"') == 1 and "Result 1:" in arrived
    job.refresh_from_db()
    assert job.cost_usd > 0 and f"Cost <strong>${job.cost_usd:.4f}</strong>" in arrived


def test_a_job_canceled_before_it_was_sent_stops_polling(alice_client, alice):
    job = new_job(alice)
    assert 'hx-trigger="every 2s"' in card_html(alice_client, job)
    jobs.cancel_job(job, by=alice)
    assert "hx-trigger=" not in card_html(alice_client, job)


def test_a_running_card_asks_once_a_second(alice_client, alice):
    job = jobs.claim_job(new_job(alice).pk)
    assert 'hx-trigger="every 1s"' in card_html(alice_client, job)


def test_the_job_pages_card_carries_the_attempts_table_the_create_pages_does_not(
    alice_client, alice, standin
):
    job = new_job(alice, prompt="busy [fault:503]")
    jobs.run_job(jobs.claim_job(job.pk))  # attempt 1 fails and the job waits for attempt 2
    on_job_page = card_html(alice_client, job, page=f"http://testserver{job.get_absolute_url()}")
    assert "<h2" in on_job_page and "Failed, will retry" in on_job_page
    assert 'hx-trigger="every 2s"' in on_job_page  # so the table keeps up
    assert "Failed, will retry" not in card_html(
        alice_client, job, page="http://testserver/create/"
    )


def test_a_retried_job_offers_open_retry_and_never_pays_twice(alice_client, alice):
    job = new_job(alice)
    jobs.cancel_job(job, by=alice)
    url = reverse("gallery:job-retry", args=[job.pk])
    alice_client.post(url, headers={"HX-Request": "true"})
    retry = Job.objects.get(retry_of=job)
    shown = card_html(alice_client, job)
    assert f'<a class="button small" href="/jobs/{retry.pk}/">Open retry</a>' in shown
    assert ">Retry</button>" not in shown
    again = alice_client.post(url, headers={"HX-Request": "true"})  # a stale page's button
    assert "Open retry" in again.content.decode()
    assert alice_client.post(url).url == f"/jobs/{retry.pk}/"
    assert Job.objects.filter(retry_of=job).count() == 1


def test_the_queue_list_refreshes_itself_not_each_card(alice_client, alice):
    job = new_job(alice)
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/queue/"}
    listed = alice_client.get(reverse("gallery:queue"), headers=headers).content.decode()
    assert listed.startswith('\n<div id="queue-jobs"') or 'id="queue-jobs"' in listed[:200]
    assert listed.count("hx-trigger=") == 1 and 'hx-trigger="every 2s"' in listed
    assert f'id="job-{job.pk}"' in listed
    jobs.cancel_job(job, by=alice)
    idle = alice_client.get(reverse("gallery:queue"), headers=headers).content.decode()
    assert idle.count("hx-trigger=") == 1 and 'hx-trigger="every 15s"' in idle
    # A card canceled from the queue page comes back without a timer of its own.
    canceled = alice_client.post(
        reverse("gallery:job-cancel", args=[new_job(alice).pk]), headers=headers
    )
    assert "hx-trigger=" not in canceled.content.decode()


def test_a_finished_jobs_page_title_says_how_it_ended(alice_client, alice, standin):
    done = new_job(alice)
    jobs.run_job(jobs.claim_job(done.pk))
    failed = new_job(alice, prompt="no [fault:moderation]")
    jobs.run_job(jobs.claim_job(failed.pk))
    assert f"<title>✓ Done — Job {done.pk} · Studio</title>" in (
        alice_client.get(done.get_absolute_url()).content.decode()
    )
    assert f"<title>✗ Failed — Job {failed.pk} · Studio</title>" in (
        alice_client.get(failed.get_absolute_url()).content.decode()
    )


def test_a_canceled_call_that_never_answers_stops_the_polling_after_the_longest_call(
    alice_client, alice, settings
):
    job = jobs.claim_job(new_job(alice).pk)
    jobs.cancel_job(job, by=alice)  # the worker died mid-call: nobody will record its outcome
    assert "hx-trigger=" in card_html(alice_client, job)
    longest = (
        settings.STUDIO_API_CONNECT_TIMEOUT
        + settings.STUDIO_API_READ_TIMEOUT
        + settings.STUDIO_JOB_LEASE_SECONDS
    )
    job.attempt_log.update(started_at=timezone.now() - timedelta(seconds=longest + 1))
    assert "hx-trigger=" not in card_html(alice_client, job)


def test_the_create_pages_list_refreshes_itself_and_stops_when_all_are_finished(
    alice_client, alice
):
    headers = {"HX-Request": "true", "HX-Target": "jobs"}
    queued = new_job(alice)
    running = jobs.claim_job(new_job(alice).pk)
    listed = alice_client.get(reverse("gallery:create"), headers=headers).content.decode()
    assert listed.count("hx-trigger=") == 1 and 'hx-trigger="every 1s"' in listed
    assert f'id="job-{queued.pk}"' in listed and f'id="job-{running.pk}"' in listed
    jobs.cancel_job(running, by=alice)
    running.attempt_log.update(outcome="failed")  # its call came back with nothing
    listed = alice_client.get(reverse("gallery:create"), headers=headers).content.decode()
    assert listed.count("hx-trigger=") == 1 and 'hx-trigger="every 2s"' in listed
    jobs.cancel_job(queued, by=alice)
    listed = alice_client.get(reverse("gallery:create"), headers=headers).content.decode()
    assert "hx-trigger=" not in listed
