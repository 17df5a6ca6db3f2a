"""Live creation in a real browser: previews arriving, estimate then actual cost, cancel,
retry and a budget refusal. Headless Chromium against the real stack (stand-in API,
Celery worker, gunicorn); one worker slot, so a second job really waits in the queue."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.stack import running_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # Six seconds per request spreads the streamed events out so previews are visible, even
    # when a busy machine takes a second or two to render the pictures before streaming.
    with running_stack(
        "embedded", tmp_path_factory.mktemp("live"), standin_latency=6.0, concurrency=1
    ) as running:
        yield running


def generate(page, prompt: str, quality: str = "low") -> None:
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_label("Quality").select_option(quality)
    page.get_by_role("button", name="Generate").click()
    # The form comes back refilled from the job; wait for it before typing again.
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()


def test_watch_previews_arrive_then_see_the_actual_cost(page):
    sign_up(page, f"gia{secrets.token_hex(2)}")
    page.get_by_label("Previews").fill("2")
    page.get_by_label("Prompt").fill("a kingfisher on a branch")
    page.get_by_label("Quality").select_option("low")
    estimate = page.locator("#estimate")
    # The default model is the newest (gpt-image-2.6-sunburst, $30 per million output tokens):
    # 272 low-quality tokens and 2 x 100 for the previews, at most 408 + 200 for `auto` size.
    expect(estimate).to_contain_text("Estimated $0.0142 for 1 image with 2 previews each")
    expect(estimate).to_contain_text("(up to $0.0184 held against budgets)")
    page.get_by_role("button", name="Generate").click()

    card = page.locator(".job-card").first
    preview = card.locator(".partial img")
    expect(preview).to_be_visible(timeout=20_000)
    # Read it at once: the card re-renders every 400 ms and may already be done next time.
    shown = preview.element_handle().evaluate(
        "img => img.decode().catch(() => null).then(() => [img.alt, img.naturalWidth])"
    )
    assert re.match(r"Preview [12] of 2: a kingfisher", shown[0]) and shown[1] == 1024
    expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
    expect(card.locator(".partial")).to_have_count(0)  # the final image replaced it
    expect(card.locator(".thumbs img")).to_have_count(1)
    expect(card.locator(".cost")).to_contain_text(re.compile(r"Cost \$0\.01\d\d"))
    expect(card.locator(".cost")).to_contain_text("(estimated $0.0142)")
    assert page.url.endswith("/create/")  # all of it without a reload


def test_cancel_a_queued_job(page):
    sign_up(page, f"hal{secrets.token_hex(2)}")
    generate(page, "a slow first job [fault:slow]")  # holds the only worker slot
    expect(page.locator(".job-card")).to_have_count(1)
    generate(page, "a second job that waits")
    waiting = page.locator(".job-card", has_text="a second job that waits")
    expect(waiting.locator(".queue-position")).to_contain_text(re.compile(r"in line"))

    page.get_by_role("link", name="Queue").click()
    waiting = page.locator(".job-card", has_text="a second job that waits")
    waiting.get_by_role("button", name="Cancel").click()
    expect(waiting.locator(".status")).to_have_text("Canceled")
    expect(waiting).to_contain_text("Canceled before it was sent: nothing was charged.")
    expect(waiting.get_by_role("button", name="Retry")).to_be_visible()


def test_retry_a_failed_job(page):
    sign_up(page, f"ivy{secrets.token_hex(2)}")
    generate(page, "a refused picture [fault:moderation]")
    card = page.locator(".job-card").first
    expect(card.locator(".status")).to_have_text("Failed", timeout=30_000)
    failed_id = card.get_attribute("id")

    card.get_by_role("button", name="Retry").click()
    retry = page.locator(".job-card").first
    expect(retry).not_to_have_id(failed_id)
    number = failed_id.removeprefix("job-")
    expect(retry.locator(".params")).to_contain_text(f"retry of job {number}")
    expect(retry.locator(".prompt")).to_have_text("a refused picture [fault:moderation]")
    expect(page.locator(f"#{failed_id}")).to_be_visible()  # the failed one stays below


def test_budget_refuses_an_expensive_job_before_it_is_sent(page, stack):
    username = f"jay{secrets.token_hex(2)}"
    sign_up(page, username)
    stack.manage(
        "shell",
        "-c",
        "from gallery.jobs import budgets; from django.contrib.auth import get_user_model; "
        f"budgets.set_person_limit(get_user_model().objects.get(username='{username}'), "
        "'0.05')",
    )
    page.get_by_label("Images").fill("2")
    generate(page, "a very detailed city at night", quality="high")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your monthly budget would be exceeded")
    expect(alert).to_contain_text("the limit is $0.05")
    expect(page.get_by_label("Prompt")).to_have_value("a very detailed city at night")
    expect(page.get_by_label("Images")).to_have_value("2")
    expect(page.locator(".job-card")).to_have_count(0)


def test_copy_prompt_and_exact_time_on_hover(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, f"kai{secrets.token_hex(2)}")
    generate(page, "a teapot shaped like a snail [fault:moderation]")
    card = page.locator(".job-card").first
    card.get_by_role("button", name="Copy prompt").click()
    expect(card.get_by_role("button", name="Copied")).to_be_visible()
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard == "a teapot shaped like a snail [fault:moderation]"
    when = card.locator("time")
    expect(when).to_have_text(re.compile(r"just now|seconds? ago"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+", when.get_attribute("title"))


@pytest.mark.parametrize("path", ["/create/", "/queue/", "/spending/"])
def test_pages_fit_a_phone(page, path):
    sign_up(page, f"lee{secrets.token_hex(2)}")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    if path == "/create/":
        generate(page, "a long prompt " * 20 + "[fault:moderation]")
        expect(page.locator(".job-card .status")).to_have_text("Failed", timeout=30_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 390 px wide"
