"""How many requests an open page sends while it waits, per minute: the job page while its
job runs, after it finished and after a cancel while its call is in flight, the create page
with one and with five running jobs, and the queue page with a running job and with none.

Starts the real studio (gunicorn, a Celery worker, the stand-in API slow enough that the
job keeps running for the whole window) in a temporary folder, signs up in headless
Chromium, and counts the page's background (htmx) requests over SECONDS per scenario.

    .venv/bin/python devtools/scripts/bench_polling.py --seconds 20
"""

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.chromium import launch  # noqa: E402
from tests.stack import Stack  # noqa: E402


def count_requests(page, seconds: float) -> int:
    """Background requests the page sends in `seconds` (the page is left alone meanwhile)."""
    sent = []
    listener = lambda request: sent.append(request.url)  # noqa: E731
    page.on("request", listener)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", listener)
    return len(sent)


def sign_up(page) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(f"bench{secrets.token_hex(3)}")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Prompt")).to_be_visible()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    window = args.seconds
    # Every scenario with a running job must fit inside one call.
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-polling-")), standin_latency=window * 10)
    stack.start()
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(base_url=stack.url)
            page = context.new_page()
            sign_up(page)
            page.get_by_label("Prompt").fill("a lighthouse that takes its time")
            page.get_by_role("button", name="Generate").click()
            card = page.locator(".job-card").first
            expect(card.locator(".status")).to_have_text("Running", timeout=30_000)
            job_url = card.locator("header a").get_attribute("href")

            rows.append(("create page, 1 running job", count_requests(page, window)))
            for number in range(2, 6):
                page.get_by_label("Prompt").fill(f"lighthouse number {number}")
                page.get_by_role("button", name="Generate").click()
                expect(page.locator(".job-card")).to_have_count(number)
            expect(page.locator(".job-card .status", has_text="Running")).to_have_count(5)
            rows.append(("create page, 5 running jobs", count_requests(page, window)))
            page.goto(job_url)
            rows.append(("job page, job running", count_requests(page, window)))
            page.goto("/queue/")
            rows.append(("queue page, 1 running job", count_requests(page, window)))

            page.goto("/create/")
            page.get_by_label("Prompt").fill("refused at once [fault:moderation]")
            page.get_by_role("button", name="Generate").click()
            refused = page.locator(".job-card", has_text="refused at once").locator("header a")
            expect(page.locator(".job-card .status").first).to_have_text("Failed")
            page.goto(refused.get_attribute("href"))
            rows.append(("job page, job finished", count_requests(page, window)))
            page.goto(job_url)
            page.get_by_role("button", name="Cancel").click()
            expect(page.locator(".job-card .status")).to_have_text("Canceled")
            rows.append(("job page, canceled, its call in flight", count_requests(page, window)))
            page.goto("/queue/")
            rows.append(("queue page, canceled call in flight", count_requests(page, window)))
            idle = browser.new_context(base_url=stack.url).new_page()
            sign_up(idle)
            idle.goto("/queue/")
            rows.append(("queue page, nothing running", count_requests(idle, window)))
            browser.close()
    finally:
        stack.stop()
    print(f"Background requests per open page ({window:.0f} s each, as requests per minute):")
    for name, count in rows:
        print(f"  {name:<44} {count:>4} in {window:.0f} s = {count * 60 / window:6.1f} per minute")


if __name__ == "__main__":
    main()
