"""How long from clicking Generate to the image being in the gallery, in a real browser.

Starts the real studio (gunicorn, a Celery worker, the stand-in API at zero latency) in a
temporary folder, signs up in headless Chromium, then N times: types a unique prompt, clicks
Generate, and waits until the gallery page lists an image for that prompt (the gallery is
reloaded as fast as the server answers, so the figure is not quantised by the job card's
polling). Also prints when the job card itself showed the result.

    .venv/bin/python devtools/scripts/bench_roundtrip.py --runs 20
"""

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.chromium import launch  # noqa: E402
from tests.stack import Stack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument(
        "--previews", type=int, default=None, help="streamed previews per image (form default: 2)"
    )
    args = parser.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-roundtrip-")), standin_latency=args.latency)
    stack.start()
    to_gallery, to_card = [], []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_context(base_url=stack.url).new_page()
            gallery = browser.new_context(base_url=stack.url).new_page()
            page.goto("/accounts/signup/")
            page.get_by_label("Username").fill("bench")
            page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
            page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
            page.get_by_role("button", name="Sign up").click()
            gallery.context.add_cookies(page.context.cookies())
            for run in range(args.runs):
                word = f"bench{secrets.token_hex(4)}"
                page.get_by_label("Prompt").fill(f"round trip {word}")
                page.get_by_label("Quality").select_option("low")
                if args.previews is not None:
                    page.get_by_label("Previews").fill(str(args.previews))
                started = time.perf_counter()
                page.get_by_role("button", name="Generate").click()
                while True:
                    gallery.goto(f"/?q={word}")
                    if gallery.locator(".grid .tile").count():
                        break
                to_gallery.append(time.perf_counter() - started)
                card = page.locator(".job-card").first
                expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
                to_card.append(time.perf_counter() - started)
                print(
                    f"run {run + 1}: gallery {to_gallery[-1] * 1000:.0f} ms,"
                    f" card {to_card[-1] * 1000:.0f} ms"
                )
            browser.close()
    finally:
        stack.stop()
    summary = {
        "runs": args.runs,
        "standin_latency_s": args.latency,
        "to_gallery_ms": {
            "median": round(statistics.median(to_gallery) * 1000),
            "p95": round(sorted(to_gallery)[int(0.95 * (len(to_gallery) - 1))] * 1000),
        },
        "to_job_card_ms": {"median": round(statistics.median(to_card) * 1000)},
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
