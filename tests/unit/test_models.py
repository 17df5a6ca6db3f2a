"""Today's models: the registry's rules, which models are offered (discovery through
GET /models, or configuration), the default, the staff banner, and "Run again on" for a job
whose model was shut down. Against the real stand-in server where the API is involved."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery import jobs
from gallery.forms import GenerateForm
from gallery.imagesapi import discovery, registry
from gallery.models import Job, ModelListing

pytestmark = pytest.mark.django_db

OPENAI = "https://api.openai.com/v1"
ONLY_2_6 = ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare", "gpt-image-2.6-flare-2026-11-04"]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password="x-pass-phrase-9", is_staff=True)


def listing(settings, ids: list[str], **dates) -> None:
    ModelListing.objects.update_or_create(
        base_url=settings.OPENAI_BASE_URL,
        defaults={
            "listed": [{"id": i, "shutdown_date": dates.get(i)} for i in ids],
            "checked_at": timezone.now(),
        },
    )


# --- The registry's rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt-image-2",
        "gpt-image-2.5-flare",
        "gpt-image-2.5-sunburst",
        "gpt-image-2.6-flare",
        "gpt-image-2.6-sunburst",
    ],
)
def test_every_current_model_is_known_with_free_sizes_and_no_input_fidelity(model_id):
    model = registry.get(model_id)
    assert model is not None and model.free_sizes and not model.input_fidelity
    assert model.fixed_input_fidelity == "high"
    assert model.prices["image_output"] == 30 and model.prices["image_input"] == 8
    assert model.prices["text_input"] == 5
    assert model.prices["cached_image_input"] < model.prices["image_input"]


@pytest.mark.parametrize(
    ("snapshot", "model_id"),
    [
        ("gpt-image-2-2026-04-21", "gpt-image-2"),
        ("gpt-image-2.5-flare-2026-09-08", "gpt-image-2.5-flare"),
        ("gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-sunburst"),
        ("gpt-image-2.6-sunburst-2026-11-04", "gpt-image-2.6-sunburst"),
        ("gpt-image-2.6-flare-2027-01-15", "gpt-image-2.6-flare"),  # a later snapshot too
    ],
)
def test_dated_snapshots_follow_their_models_rules(snapshot, model_id):
    assert registry.get(snapshot).id == model_id


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ("1536x864", None),
        ("3840x2160", None),
        ("2160x3840", None),
        ("1024x1024", None),
        ("auto", None),
        ("1000x1000", "multiples of 16"),
        ("4096x2304", "at most 3840"),
        ("3840x1120", "3:1"),
        ("640x640", "pixels"),
        ("big", "WIDTHxHEIGHT"),
    ],
)
def test_free_sizes_follow_the_rules(size, problem):
    found = registry.get("gpt-image-2").size_problem(size)
    assert (found is None) if problem is None else (problem in found)


def test_older_models_take_only_their_presets():
    model = registry.get("gpt-image-1")
    assert model.size_problem("1536x1024") is None
    assert "not a size" in model.size_problem("1536x864")


def test_qualities_complexity_formats_and_backgrounds_by_model():
    two, two_five, two_six = (
        registry.get(m) for m in ("gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.6-flare")
    )
    assert "xhigh" not in two.qualities and {"xhigh", "max"} <= set(two_five.qualities)
    assert {"xhigh", "max"} <= set(two_six.qualities)
    assert two_six.complexities == ["low", "medium", "high"] and not two_five.complexities
    assert {"gif", "svg"} <= set(two_six.output_formats)
    assert "gif" not in two_five.output_formats and "svg" not in two.output_formats
    assert "transparent" not in two.backgrounds and "transparent" in two_five.backgrounds
    assert two_six.markup and two_five.markup and not two.markup
    assert "GIF output may be at most" in two_six.size_problem("2048x2048", output_format="gif")


# --- What is offered, and the default -----------------------------------------------------


def test_against_openai_retired_models_are_not_offered_but_stay_readable(settings):
    settings.OPENAI_BASE_URL = OPENAI
    offered = [o.id for o in discovery.offers()]
    assert "gpt-image-1" not in offered and "gpt-image-1.5" not in offered
    assert "gpt-image-2.6-sunburst" in offered and "gpt-image-2" in offered
    # The gallery still knows them: their images keep their model and cost.
    assert registry.get("gpt-image-1").label == "GPT Image 1"
    assert "shut down on 2026-10-23" in discovery.unavailable_reason("gpt-image-1")


def test_a_gateway_that_lists_no_models_offers_the_configuration(settings):
    settings.OPENAI_BASE_URL = "https://api.cometapi.com/v1"
    offered = [o.id for o in discovery.offers()]
    assert offered == registry.model_ids()  # gateways may still route retired models


def test_the_default_is_the_newest_offered_unless_configured(settings):
    settings.OPENAI_BASE_URL = OPENAI
    settings.STUDIO_DEFAULT_MODEL = ""
    assert discovery.default_offer().id == "gpt-image-2.6-sunburst"
    settings.STUDIO_DEFAULT_MODEL = "gpt-image-2"
    assert discovery.default_offer().id == "gpt-image-2"
    settings.STUDIO_DEFAULT_MODEL = "gpt-image-1"  # retired: not offered, so the newest
    assert discovery.default_offer().id == "gpt-image-2.6-sunburst"


def test_discovery_asks_the_api_and_the_form_offers_only_what_the_key_lists(standin, settings):
    standin.configure(listed_models=ONLY_2_6)
    answer = discovery.refresh()
    assert answer.error == "" and [m["id"] for m in answer.listed] == ONLY_2_6
    form = GenerateForm()
    assert [value for value, _ in form.fields["model"].choices] == [
        "gpt-image-2.6-sunburst",
        "gpt-image-2.6-flare",
    ]
    assert form.model_id == "gpt-image-2.6-sunburst"
    refused = GenerateForm({"prompt": "x", "model": "gpt-image-2", "n": 1, "size": "auto"})
    assert not refused.is_valid()
    assert "not available with this API key" in refused.errors["model"][0]


def test_only_a_snapshot_listed_is_offered_under_its_own_id(standin, settings):
    standin.configure(listed_models=["gpt-image-2.5-flare-2026-09-08"])
    discovery.refresh()
    assert [o.id for o in discovery.offers()] == ["gpt-image-2.5-flare-2026-09-08"]
    assert discovery.offers()[0].model.id == "gpt-image-2.5-flare"


def test_a_gateway_without_a_models_list_falls_back_to_configuration(standin):
    standin.configure(list_models=False)
    answer = discovery.refresh()
    assert answer.listed is None and answer.error == ""
    assert discovery.listing() is None
    assert [o.id for o in discovery.offers()] == registry.model_ids()


def test_a_failed_ask_keeps_what_was_known(standin):
    standin.configure(listed_models=ONLY_2_6)
    discovery.refresh()
    standin.key = "sk-another-key-0000"  # the API now refuses the studio's key
    try:
        answer = discovery.refresh()
    finally:
        standin.key = None
    assert "rejected the API key" in answer.error
    assert [m["id"] for m in discovery.listing()] == ONLY_2_6
    assert ModelListing.objects.get().error == answer.error


def test_the_api_listing_shutdown_date_wins_and_past_dates_are_not_offered_by_openai(settings):
    settings.OPENAI_BASE_URL = OPENAI
    soon = timezone.localdate() + timedelta(days=10)
    listing(
        settings,
        ["gpt-image-2", "gpt-image-2.6-flare", "gpt-image-1.5"],
        **{"gpt-image-2": soon.isoformat(), "gpt-image-1.5": "2026-12-01"},
    )
    offers = {o.id: o for o in discovery.offers()}
    assert set(offers) == {"gpt-image-2", "gpt-image-2.6-flare"}
    assert offers["gpt-image-2"].shutdown_date == soon
    assert [o.id for o in discovery.shutting_down()] == ["gpt-image-2"]


def test_staff_see_a_banner_for_models_shutting_down_within_30_days(settings, client, staff, alice):
    settings.OPENAI_BASE_URL = OPENAI
    soon = (timezone.localdate() + timedelta(days=12)).isoformat()
    later = (timezone.localdate() + timedelta(days=90)).isoformat()
    listing(
        settings,
        ["gpt-image-2", "gpt-image-2.6-flare"],
        **{"gpt-image-2": soon, "gpt-image-2.6-flare": later},
    )
    client.force_login(staff)
    page = client.get(reverse("gallery:create")).content.decode()
    assert f"GPT Image 2 shuts down on {soon} (12 days left)" in page
    assert "GPT Image 2.6 Flare shuts down" not in page
    client.force_login(alice)
    assert "shuts down on" not in client.get(reverse("gallery:create")).content.decode()


# --- Jobs on a retired model --------------------------------------------------------------


def test_a_retired_model_takes_no_new_job_against_openai(settings, alice):
    settings.OPENAI_BASE_URL = OPENAI
    with pytest.raises(jobs.ModelUnavailable, match="shut down on 2026-10-23"):
        jobs.create_job(owner=alice, prompt="a fox", model="gpt-image-1")
    assert not Job.objects.exists()


def test_a_failed_job_of_a_retired_model_runs_again_on_its_replacement_in_one_click(
    settings, alice_client, alice
):
    job = jobs.create_job(
        owner=alice, prompt="a fox", model="gpt-image-1", size="1536x1024", quality="low"
    )
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="model_not_found")
    settings.OPENAI_BASE_URL = OPENAI  # now the studio talks to OpenAI, where it is gone
    page = alice_client.get(job.get_absolute_url()).content.decode()
    assert "Run again on GPT Image 2.5 Sunburst" in page
    assert 'name="model" value="gpt-image-2.5-sunburst"' in page

    response = alice_client.post(
        reverse("gallery:job-retry", args=[job.pk]), {"model": "gpt-image-2.5-sunburst"}
    )
    rerun = Job.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302 and rerun.retry_of == job
    assert rerun.model == "gpt-image-2.5-sunburst" and rerun.prompt == "a fox"
    assert (rerun.params["size"], rerun.params["quality"]) == ("1536x1024", "low")


def test_running_again_on_a_model_that_is_not_offered_is_refused(settings, alice_client, alice):
    job = jobs.create_job(owner=alice, prompt="a fox", model="gpt-image-1")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    settings.OPENAI_BASE_URL = OPENAI
    response = alice_client.post(
        reverse("gallery:job-retry", args=[job.pk]), {"model": "gpt-image-1-mini"}
    )
    assert response.status_code == 400 and "shut down on 2026-12-01" in response.content.decode()
    assert Job.objects.count() == 1


# --- The form -----------------------------------------------------------------------------


def test_the_form_takes_a_custom_size_for_free_size_models(alice):
    form = GenerateForm(
        {
            "prompt": "a wide valley",
            "model": "gpt-image-2.6-flare",
            "n": 1,
            "size": "custom",
            "custom_size": "2048x864",
            "quality": "xhigh",
            "complexity": "high",
            "background": "transparent",
            "output_format": "webp",
            "moderation": "auto",
        },
        user=alice,
    )
    assert form.is_valid(), form.errors
    data = form.cleaned_data
    assert (data["size"], data["quality"], data["complexity"]) == ("2048x864", "xhigh", "high")
    job = jobs.create_job(owner=alice, **data)
    assert job.params["size"] == "2048x864" and job.params["complexity"] == "high"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"size": "custom", "custom_size": "1000x1000"}, "custom_size", "multiples of 16"),
        ({"size": "custom", "custom_size": "3840x1024"}, "custom_size", "3:1"),
        ({"size": "4096x2304"}, "custom_size", "at most 3840"),
        ({"model": "gpt-image-2", "quality": "max"}, "quality", "not a quality"),
        ({"output_format": "svg", "n": 2}, "n", "one image"),
        ({"output_format": "gif", "frame_count": 17}, "frame_count", "less than or equal"),
        ({"output_format": "gif", "size": "2048x2048"}, "custom_size", "GIF output"),
    ],
)
def test_the_form_refuses_what_the_model_cannot_do(alice, fields, field, words):
    data = {"prompt": "x", "model": "gpt-image-2.6-flare", "n": 1, "size": "auto"}
    data.update({"quality": "auto", "background": "auto", "output_format": "png"})
    form = GenerateForm({**data, "moderation": "auto", **fields}, user=alice)
    assert not form.is_valid()
    assert words in " ".join(form.errors.get(field, [])), form.errors


def test_gif_output_drops_previews_and_keeps_its_frames(alice):
    form = GenerateForm(
        {
            "prompt": "a blinking owl",
            "model": "gpt-image-2.6-sunburst",
            "n": 1,
            "size": "1024x1024",
            "quality": "low",
            "background": "auto",
            "output_format": "gif",
            "moderation": "auto",
            "partial_images": 2,
            "frame_count": 4,
            "frame_duration_ms": 120,
        },
        user=alice,
    )
    assert form.is_valid(), form.errors
    job = jobs.create_job(owner=alice, **form.cleaned_data)
    assert "partial_images" not in job.params
    assert (job.params["frame_count"], job.params["frame_duration_ms"]) == (4, 120)


def test_the_model_table_command_prints_what_is_offered(standin, capsys):
    from django.core.management import call_command

    standin.configure(listed_models=ONLY_2_6)
    call_command("image_models", "--refresh")
    out = capsys.readouterr().out
    assert "* gpt-image-2.6-sunburst" in out and "gpt-image-2.6-flare" in out
    assert "GET /models" in out
    assert "Not offered (gallery only): gpt-image-2.5-sunburst" in out


def test_shutdown_dates_reach_today_correctly():
    model = registry.get("gpt-image-1-mini")
    assert model.is_retired(date(2026, 12, 1)) and not model.is_retired(date(2026, 11, 30))
