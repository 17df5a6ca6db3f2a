"""A stopped worker is visible to people, in headless Chromium: the create page and the job
card say the job waits for a worker, staff see it in the header, and when a worker is back the
card loses the notice by itself and the job finishes."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.stack import running_stack

pytestmark = pytest.mark.browser

NOTICE = "No worker is running; your job will start when one is back."


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("embedded", tmp_path_factory.mktemp("browser-workers")) as running:
        yield running


def stop_every_worker(stack) -> None:
    worker = stack.processes.pop("worker")
    worker.terminate()
    worker.wait(timeout=30)
    # The heartbeat of a stopped worker stays fresh for a minute; forget it instead of waiting.
    stack.manage(
        "shell", "-c", "from gallery.models import WorkerHeartbeat as W; W.objects.all().delete()"
    )


def test_a_job_waiting_for_a_stopped_worker_says_so_until_one_is_back(page, stack):
    name = f"wren{secrets.token_hex(2)}"
    sign_up(page, name)
    stack.manage(
        "shell",
        "-c",
        f"from django.contrib.auth.models import User; "
        f"User.objects.filter(username='{name}').update(is_staff=True)",
    )
    stop_every_worker(stack)

    page.goto("/create/")
    expect(page.locator(".create-layout > section > .worker-down")).to_have_text(NOTICE)
    expect(page.locator("header .worker-alert")).to_have_text("No worker running")
    page.get_by_label("Prompt").fill("a lighthouse in fog")
    page.get_by_role("button", name="Generate").click()
    card = page.locator("article.job-card").first
    expect(card.locator('[data-status="queued"]')).to_be_visible()
    expect(card.locator(".worker-down")).to_have_text(NOTICE)

    stack.start_worker()
    # The card polls itself: the notice goes and the job runs without a reload.
    expect(card.locator('[data-status="succeeded"]')).to_be_visible(timeout=60_000)
    expect(page.locator("article.job-card .worker-down")).to_have_count(0)
