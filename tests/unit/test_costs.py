"""Costs and budgets for today's models: estimates that follow the pixel count, the quality
and an edit's input images; the amount held that bounds what the API can charge; budgets that
parallel edits and large sizes cannot get past. Actual costs come from the real stand-in."""

import io
import json
from decimal import Decimal

import PIL.Image
import pytest

from gallery import jobs
from gallery.imagesapi import registry
from gallery.jobs import budgets, edits, uploads
from gallery.models import Job

pytestmark = pytest.mark.django_db

PROMPT = "a lighthouse on a cliff at dusk"


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", (width, height), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


def run(job: Job) -> Job:
    assert jobs.run_job(jobs.claim_job(job.pk)) is None
    return Job.objects.get(pk=job.pk)


# --- Estimates follow pixels and quality --------------------------------------------------

# (model, size, quality): the five pairs whose estimate is compared with what the stand-in
# charges; the first is the case the studio once got 8x wrong ($0.0082 for $0.0646).
PAIRS = [
    ("gpt-image-2", "3840x2160", "low"),
    ("gpt-image-2", "1536x864", "medium"),
    ("gpt-image-2.5-flare", "2048x2048", "xhigh"),
    ("gpt-image-2.6-sunburst", "2560x1440", "max"),
    ("gpt-image-2.6-flare", "1024x1536", "high"),
]


@pytest.mark.parametrize(("model", "size", "quality"), PAIRS)
def test_the_estimate_matches_what_the_stand_in_charges(alice, standin, model, size, quality):
    job = jobs.create_job(owner=alice, prompt=PROMPT, model=model, size=size, quality=quality)
    done = run(job)
    assert done.status == Job.Status.SUCCEEDED
    # The prompt's tokens are guessed (characters / 4 against the stand-in's words x 1.3);
    # everything else agrees, so the two differ by well under a cent.
    assert abs(done.cost_usd - job.estimate_usd) < Decimal("0.0001")
    assert done.cost_usd <= job.held_usd


def test_a_large_free_size_costs_what_its_pixels_say():
    model = registry.get("gpt-image-2")
    big = model.estimate(registry.Request(prompt=PROMPT, size="3840x2160", quality="low"))
    square = model.estimate(registry.Request(prompt=PROMPT, size="1024x1024", quality="low"))
    assert big > Decimal("0.064")  # not the $0.0082 of the 1024x1024 table entry
    assert big / square > 7


def test_quality_scales_the_estimate_up_to_max():
    model = registry.get("gpt-image-2.6-flare")
    costs = [
        model.estimate(registry.Request(prompt=PROMPT, size="1024x1024", quality=q))
        for q in ("low", "medium", "high", "xhigh", "max")
    ]
    assert costs == sorted(costs) and len(set(costs)) == 5


def test_auto_is_held_at_its_dearest():
    model = registry.get("gpt-image-2")
    request = registry.Request(prompt=PROMPT, size="auto", quality="auto")
    expected, held = model.estimate(request), model.worst_case(request)
    high_large = model.estimate(registry.Request(prompt=PROMPT, size="1024x1536", quality="high"))
    assert expected < held and held >= high_large


def test_edit_estimates_count_each_input_by_size_and_fidelity():
    old = registry.get("gpt-image-1")
    low = old.estimate(registry.Request(prompt=PROMPT, inputs=[(1024, 1024)]))
    high = old.estimate(
        registry.Request(prompt=PROMPT, inputs=[(1024, 1024)], input_fidelity="high")
    )
    assert high - low == (345 - 150) * old.prices["image_input"] / 1_000_000
    new = registry.get("gpt-image-2.6-flare")  # inputs always count at high fidelity
    one = new.estimate(registry.Request(prompt=PROMPT, inputs=[(2048, 1536)]))
    sixteen = new.estimate(registry.Request(prompt=PROMPT, inputs=[(2048, 1536)] * 16))
    per_input = registry.image_input_tokens(2048, 1536, "high") * new.prices["image_input"]
    assert sixteen - one == 15 * per_input / 1_000_000


def test_gif_frames_and_previews_are_counted():
    model = registry.get("gpt-image-2.6-flare")
    still = model.estimate(registry.Request(prompt=PROMPT, size="1024x1024", quality="low"))
    gif = model.estimate(
        registry.Request(
            prompt=PROMPT, size="1024x1024", quality="low", output_format="gif", frame_count=4
        )
    )
    assert gif - still == 3 * 272 * model.prices["image_output"] / 1_000_000


def test_cached_input_is_cheaper_and_svg_authoring_is_counted():
    model = registry.get("gpt-image-2.6-flare")
    usage = {
        "input_tokens": 1100,
        "input_tokens_details": {"text_tokens": 100, "image_tokens": 1000},
        "output_tokens": 1000,
    }
    cached = {
        **usage,
        "input_tokens_details": {
            "text_tokens": 100,
            "image_tokens": 1000,
            "cached_tokens_details": {"image_tokens": 1000},
        },
    }
    assert model.cost(usage) - model.cost(cached) == Decimal("0.006")  # ($8 - $2) x 1000
    svg = {"input_tokens": 10, "output_tokens": 1000, "reasoning_tokens": 100, "model": "x"}
    assert model.cost(usage, svg) - model.cost(usage) == Decimal("0.01005")


def test_a_prices_file_still_overrides_new_models(settings, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"gpt-image-2.6-flare": {"image_output": "24.00"}}))
    settings.STUDIO_PRICES_FILE = str(path)
    registry._models.cache_clear()
    try:
        model = registry.get("gpt-image-2.6-flare")
        assert model.prices["image_output"] == Decimal("24.00")
        assert model.prices["image_input"] == Decimal("8.00")
    finally:
        settings.STUDIO_PRICES_FILE = ""
        registry._models.cache_clear()


# --- Budgets hold the worst case ----------------------------------------------------------


def test_large_size_generations_cannot_pass_a_budget(alice, standin):
    """Accept jobs until the budget refuses, with all of them unfinished (parallel), then run
    them: what they cost together stays within the budget."""
    limit = Decimal("0.20")
    budgets.set_person_limit(alice, limit)
    accepted = []
    with pytest.raises(budgets.OverBudget):
        for _ in range(20):
            accepted.append(
                jobs.create_job(
                    owner=alice, prompt=PROMPT, model="gpt-image-2", size="3840x2160", quality="low"
                )
            )
    assert len(accepted) == 3  # about $0.0647 each; the old $0.0082 estimate let 20 through
    spent = sum(run(job).cost_usd for job in accepted)
    assert spent <= limit


def test_auto_quality_jobs_hold_enough_for_the_dearest_answer(alice, standin):
    job = jobs.create_job(owner=alice, prompt=PROMPT, model="gpt-image-2.6-flare")
    assert job.held_usd > job.estimate_usd
    standing = budgets.person_standing(alice)
    assert standing is None  # no limit, nothing to check; the hold is still recorded
    assert run(job).cost_usd <= job.held_usd


def test_parallel_edits_cannot_pass_a_budget(alice, standin):
    """Edits of sixteen large inputs each: their input tokens are held, so a budget that
    covers two of them refuses the third while the first two are unfinished, and what the
    two cost stays within it."""
    inputs = [
        uploads.store_upload(owner=alice, upload=uploads.check(png(1536, 1024 + i), name=f"{i}"))
        for i in range(16)
    ]

    def edit():
        return edits.create_edit_job(
            owner=alice,
            prompt=PROMPT,
            model="gpt-image-2.6-flare",
            images=inputs,
            size="1024x1024",
            quality="low",
        )

    probe = edit()
    jobs.cancel_job(probe, by=alice)
    assert probe.estimate_usd > Decimal("0.05")  # 16 inputs at high fidelity: ~6,500 tokens
    limit = (probe.held_usd * Decimal("2.5")).quantize(Decimal("0.0001"))
    budgets.set_person_limit(alice, limit)
    first, second = edit(), edit()
    with pytest.raises(budgets.OverBudget, match="held for unfinished jobs"):
        edit()
    spent = run(first).cost_usd + run(second).cost_usd
    assert Decimal(0) < spent <= limit
    assert abs(run_cost_ratio(first)) < Decimal("0.01")


def run_cost_ratio(job: Job) -> Decimal:
    job.refresh_from_db()
    return (job.cost_usd - job.estimate_usd) / job.cost_usd


def test_the_refusal_says_what_the_job_may_cost(alice):
    budgets.set_person_limit(alice, Decimal("0.05"))
    with pytest.raises(budgets.OverBudget) as refusal:
        jobs.create_job(owner=alice, prompt=PROMPT, model="gpt-image-2.6-flare", quality="auto")
    message = str(refusal.value)
    assert "estimated at $" in message and "can cost up to $" in message
    assert not Job.objects.exists()


def test_the_live_estimate_mentions_the_hold_when_auto_makes_it_larger(alice_client):
    from django.urls import reverse

    url = reverse("gallery:estimate")
    fixed = {"model": "gpt-image-2", "prompt": PROMPT, "size": "3840x2160", "quality": "low"}
    page = alice_client.post(url, fixed).content.decode()
    assert "Estimated <strong>$0.0646</strong>" in page and "held against budgets" not in page
    auto = alice_client.post(url, {**fixed, "size": "auto", "quality": "auto"}).content.decode()
    assert "(up to $0.1874 held against budgets)" in auto  # high quality at 1024x1536
