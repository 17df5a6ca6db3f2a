"""Pages and htmx partials: validation, queueing after commit, and what people see."""

import pytest
from django.urls import reverse

from gallery.models import Job

pytestmark = pytest.mark.django_db

GOOD = {
    "prompt": "a lighthouse at dawn",
    "model": "gpt-image-1",
    "n": "1",
    "size": "1024x1024",
    "quality": "low",
    "background": "auto",
    "output_format": "png",
    "output_compression": "",
    "moderation": "auto",
}


def post_create(client, django_capture_on_commit_callbacks, htmx=True, **changes):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("gallery:create"), {**GOOD, **changes}, **headers)
    return response, callbacks


def test_pages_need_a_login(client):
    for name in ("gallery:gallery", "gallery:create"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_signup_logs_the_person_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"Sign out" in response.content
    assert b'<label for="id_prompt">Prompt</label>' in response.content


def test_create_page_shows_the_form_with_accessible_names(alice_client):
    page = alice_client.get(reverse("gallery:create")).content.decode()
    assert '<label for="id_prompt">Prompt</label>' in page
    assert ">Generate</button>" in page
    assert "Offline mode" in page  # no key in the test environment: the stand-in banner


def test_valid_form_queues_one_job_after_commit(
    alice_client, alice, django_capture_on_commit_callbacks
):
    response, callbacks = post_create(alice_client, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.owner == alice and job.status == Job.Status.QUEUED
    assert job.params == {
        "n": 1,
        "size": "1024x1024",
        "quality": "low",
        "background": "auto",
        "output_format": "png",
        "moderation": "auto",
    }
    assert len(callbacks) == 1  # the enqueue waits for the commit
    html = response.content.decode()
    assert f'id="job-{job.pk}"' in html and 'hx-trigger="every 2s"' in html


def test_without_htmx_the_form_redirects_to_the_job(
    alice_client, django_capture_on_commit_callbacks
):
    response, _ = post_create(alice_client, django_capture_on_commit_callbacks, htmx=False)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": "   "}, "Write a prompt"),
        ({"prompt": "x" * 32001}, "at most 32000 characters"),
        ({"size": "1792x1024"}, "is not a size GPT Image 1 supports"),
        (
            {"model": "gpt-image-2", "background": "transparent"},
            "is not a background GPT Image 2 supports",
        ),
        ({"quality": "hd"}, "is not a quality"),
        ({"n": "11"}, "At most 10 images"),
        ({"n": "0"}, "at least 1 image"),
        ({"model": "dall-e-9"}, "dall-e-9 is not a configured model. Models you can use:"),
        (
            {"background": "transparent", "output_format": "jpeg"},
            "transparent background needs PNG or WebP",
        ),
        ({"output_compression": "101", "output_format": "jpeg"}, "less than or equal to 100"),
    ],
)
def test_bad_input_gets_a_message_and_queues_nothing(
    alice_client, django_capture_on_commit_callbacks, changes, message
):
    response, callbacks = post_create(alice_client, django_capture_on_commit_callbacks, **changes)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Job.objects.exists() and not callbacks


def test_plain_post_with_bad_input_answers_400_not_500(
    alice_client, django_capture_on_commit_callbacks
):
    response, _ = post_create(alice_client, django_capture_on_commit_callbacks, htmx=False, n="99")
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_missing_csrf_token_is_refused_clearly(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("gallery:create"), GOOD)
    assert response.status_code == 403
    assert b"reload the page" in response.content
    assert not Job.objects.exists()


def test_changing_the_model_offers_only_its_options(alice_client):
    response = alice_client.get(
        reverse("gallery:create"),
        {"model": "gpt-image-2", "prompt": "kept"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="generate-form",
    )
    html = response.content.decode()
    assert 'value="transparent"' not in html
    assert "kept" in html  # the prompt survives the swap
    html = alice_client.get(reverse("gallery:create"), {"model": "gpt-image-1"}).content.decode()
    assert 'value="transparent"' in html


def test_healthz_reports_each_part_as_json_to_staff(client, standin, django_user_model):
    client.force_login(django_user_model.objects.create_user("sam", is_staff=True))
    report = client.get(reverse("healthz")).json()
    assert set(report) >= {"ok", "database", "broker", "worker", "api"}
    assert report["database"]["ok"] and report["api"]["ok"]
    assert report["worker"]["ok"] is False  # no worker runs in unit tests
    assert "OPENAI_API_KEY" not in str(report)


def test_healthz_tells_anonymous_callers_only_ok_or_not(client, alice, standin, settings):
    settings.STUDIO_HEALTH_TOKEN = "monitor-token-1234"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json() == {"ok": False}  # no worker
    client.force_login(alice)  # signed in, not staff: the same
    assert client.get(reverse("healthz")).json() == {"ok": False}
    client.logout()
    wrong = client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer monitor-token-12")
    assert wrong.json() == {"ok": False}
    right = client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer monitor-token-1234")
    assert right.status_code == 503 and right.json()["api"]["detail"]["base_url"]
    settings.STUDIO_HEALTH_TOKEN = ""
    assert client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer ").json() == {"ok": False}


def test_use_these_settings_prefills_the_form(alice_client, alice, standin):
    from gallery import jobs

    job = jobs.create_job(
        owner=alice,
        prompt="a teal kite",
        model="gpt-image-1.5",
        n=2,
        size="1536x1024",
        quality="high",
        output_format="webp",
        output_compression=70,
    )
    jobs.run_job(jobs.claim_job(job.pk))
    image = job.images.first()
    page = alice_client.get(reverse("gallery:create"), {"remix": image.pk}).content.decode()
    assert "a teal kite</textarea>" in page
    assert '<option value="gpt-image-1.5" selected>' in page
    assert '<option value="1536x1024" selected>' in page
    assert '<option value="high" selected>' in page
    assert '<option value="webp" selected>' in page and 'value="70"' in page


def test_original_is_served_byte_for_byte(alice_client, alice, standin):
    from gallery import jobs, media

    job = jobs.create_job(
        owner=alice,
        prompt="exact bytes",
        model="gpt-image-1",
        output_format="jpeg",
        output_compression=50,
    )
    jobs.run_job(jobs.claim_job(job.pk))
    image = job.images.get()
    response = alice_client.get(reverse("gallery:image-original", args=[image.pk]))
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == media.read(image.file.name)
    assert response["X-Content-Type-Options"] == "nosniff"


def test_cost_estimate_follows_the_form(alice_client):
    url = reverse("gallery:estimate")
    low = alice_client.post(url, {**GOOD, "quality": "low", "n": "1"}).content.decode()
    high = alice_client.post(url, {**GOOD, "quality": "high", "n": "2"}).content.decode()
    assert "$0.0109" in low  # 272 output tokens at $40/M plus the prompt's few tokens
    assert "$0.3328" in high and "2 images" in high
    assert "Estimated" in alice_client.post(url, {"model": "nonsense", "n": "x"}).content.decode()
