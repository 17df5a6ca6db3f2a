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

    # The failed job now offers its retry instead of a second Retry, on its card and page.
    failed = page.locator(f"#{failed_id}")
    expect(failed.get_by_role("button", name="Retry")).to_have_count(0)
    expect(failed.get_by_role("link", name="Open retry")).to_be_visible()
    page.goto(f"/jobs/{number}/")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    page.get_by_role("link", name="Open retry").click()
    expect(page.locator(".job-card .params")).to_contain_text(f"retry of job {number}")


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


def stays_on_this_page(page) -> None:
    """Mark the page; a reload or navigation would lose the mark (see still_on_this_page)."""
    page.evaluate("window.__noReload = true")


def still_on_this_page(page) -> bool:
    return page.evaluate("window.__noReload === true")


def test_cancel_mid_call_shows_the_images_and_cost_that_arrived(page):
    sign_up(page, f"max{secrets.token_hex(2)}")
    generate(page, "an otter holding a pebble")
    card = page.locator(".job-card").first
    expect(card.locator(".status")).to_have_text("Running", timeout=20_000)
    stays_on_this_page(page)
    card.get_by_role("button", name="Cancel").click()
    expect(card.locator(".status")).to_have_text("Canceled")
    expect(card.locator(".in-flight")).to_contain_text("Waiting for the call that was in flight")
    # The stand-in answers after 6 s: the paid image and its cost land on the same card.
    expect(card.locator(".thumbs img")).to_have_count(1, timeout=30_000)
    expect(card.locator(".cost")).to_contain_text(re.compile(r"Cost \$0\.0\d*[1-9]"))
    expect(card).to_contain_text("the images it made were kept (1)")
    expect(card.locator(".in-flight")).to_have_count(0)
    assert still_on_this_page(page)


def test_the_attempts_table_grows_without_a_reload(page):
    sign_up(page, f"nia{secrets.token_hex(2)}")
    generate(page, "a busy day [fault:503]")
    page.locator(".job-card header a").first.click()
    rows = page.locator("table.attempts tbody tr")
    expect(rows.first).to_be_visible(timeout=20_000)
    stays_on_this_page(page)
    expect(page.locator("table.attempts")).to_contain_text("Failed, will retry", timeout=20_000)
    expect(rows).to_have_count(2, timeout=20_000)
    assert still_on_this_page(page)


NOTIFICATION_SPY = """
window.__notified = [];
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notified.push([title, options.body]);
    }
  };
}
"""


def test_the_tab_title_and_an_opt_in_notification_say_when_a_job_finished(page, stack):
    page.context.grant_permissions(["notifications"], origin=stack.url)
    page.context.add_init_script(NOTIFICATION_SPY)
    sign_up(page, f"ora{secrets.token_hex(2)}")
    notify = page.get_by_role("button", name="Notify me when jobs finish")
    expect(notify).to_have_attribute("aria-pressed", "false")  # nothing asked on load
    generate(page, "a paper boat on a pond")
    page.locator(".job-card header a").first.click()
    expect(page).to_have_title(re.compile(r"^Job \d+ · Studio$"))
    page.get_by_role("button", name="Notify me when jobs finish").click()
    expect(page.get_by_role("button", name="Notifications on")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page).to_have_title("✓ Done — a paper boat on a pond · Studio", timeout=30_000)
    assert page.evaluate("window.__notified") == [["✓ Done", "a paper boat on a pond"]]


def test_a_failed_job_changes_the_title_and_notifies_only_when_asked(page):
    page.context.add_init_script(NOTIFICATION_SPY)
    sign_up(page, f"pia{secrets.token_hex(2)}")
    expect(page).to_have_title("Create · Studio")
    generate(page, "refused [fault:moderation]")
    expect(page).to_have_title("✗ Failed — refused [fault:moderation] · Studio", timeout=20_000)
    assert page.evaluate("window.__notified") == []


def test_the_queue_page_follows_jobs_without_a_reload(page):
    sign_up(page, f"quin{secrets.token_hex(2)}")
    generate(page, "a heron in fog")
    page.get_by_role("link", name="Queue").click()
    running = page.locator("#active-jobs .job-card", has_text="a heron in fog")
    expect(running).to_be_visible()
    stays_on_this_page(page)
    finished = page.locator("section", has=page.get_by_role("heading", name="Recently finished"))
    done = finished.locator(".job-card", has_text="a heron in fog")
    expect(done.locator(".status")).to_have_text("Done", timeout=30_000)
    expect(done.locator(".thumbs img")).to_have_count(1)
    expect(running).to_have_count(0)
    assert still_on_this_page(page)
