"""How long from the stand-in sending a partial image to the browser showing it.

Starts the real studio (gunicorn, a Celery worker, the stand-in API with some latency so
the streamed events are spread out) in a temporary folder, signs up in headless Chromium
and generates RUNS jobs one after another, each streaming PARTIALS previews. Both ends
write wall-clock times of the one machine:

- the stand-in logs "<request id> sent partial image <i> at <epoch seconds>" as it writes
  each `image_generation.partial_image` event to the socket;
- in the page, a MutationObserver notes each new preview <img> (by its file name) and the
  moment it has loaded and is on screen (Date.now() after the load event).

The k-th preview a job shows is matched to the k-th partial its request sent.

    .venv/bin/python devtools/scripts/bench_partial_latency.py --runs 8 --partials 3
"""

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.chromium import launch  # noqa: E402
from tests.stack import Stack  # noqa: E402

OBSERVER = """
window.__previews = {};
const note = (img) => {
  const file = img.dataset.partialFile;
  if (!file || window.__previews[file]) return;
  window.__previews[file] = -1;
  const seen = () => { window.__previews[file] = Date.now(); };
  if (img.complete && img.naturalWidth) seen();
  else img.addEventListener("load", seen, { once: true });
};
new MutationObserver(() => document.querySelectorAll("img[data-partial-file]").forEach(note))
  .observe(document, { childList: true, subtree: true });
"""
SENT = re.compile(r"(req_[0-9a-f]+) sent partial image (\d+) at ([0-9.]+)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--partials", type=int, default=3)
    parser.add_argument("--latency", type=float, default=6.0)
    args = parser.parse_args()
    stack = Stack(Path(tempfile.mkdtemp(prefix="bench-partials-")), standin_latency=args.latency)
    stack.start()
    shown: list[dict[int, float]] = []  # per job: preview number -> epoch seconds
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(base_url=stack.url)
            context.add_init_script(OBSERVER)
            page = context.new_page()
            page.goto("/accounts/signup/")
            page.get_by_label("Username").fill(f"bench{secrets.token_hex(3)}")
            page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
            page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
            page.get_by_role("button", name="Sign up").click()
            for run in range(args.runs):
                page.get_by_label("Prompt").fill(f"benchmark preview {run} {secrets.token_hex(3)}")
                page.get_by_label("Quality").select_option("low")
                page.get_by_label("Previews").fill(str(args.partials))
                page.get_by_role("button", name="Generate").click()
                expect(page.locator(".job-card")).to_have_count(run + 1)
                card = page.locator(".job-card").first
                expect(card.locator(".status")).to_have_text("Done", timeout=120_000)
                job = card.get_attribute("id").removeprefix("job-")
                previews = page.evaluate("window.__previews")
                mine = {}
                for file, at in previews.items():
                    match = re.fullmatch(rf"partials/{job}/\d+-(\d+)\.\w+", file)
                    if match and at > 0:
                        mine[int(match.group(1))] = at / 1000
                shown.append(mine)
            browser.close()
    finally:
        stack.stop()

    sent: dict[str, list[float]] = {}
    for line in stack.logs["standin"].read_text().splitlines():
        if found := SENT.search(line):
            sent.setdefault(found.group(1), []).append(float(found.group(3)))
    requests = list(sent.values())  # one request per job, in order: jobs ran one at a time
    delays, missed = [], 0
    for job_shown, job_sent in zip(shown, requests, strict=True):
        for number, sent_at in enumerate(job_sent):
            if number in job_shown:
                delays.append((job_shown[number] - sent_at) * 1000)
            else:
                missed += 1  # replaced by the next preview before a poll picked it up
    delays.sort()
    print(f"jobs {args.runs}, partials per job {args.partials}, stand-in latency {args.latency}s")
    print(f"previews matched {len(delays)}, missed {missed}")
    print(
        "stand-in sent -> shown in Chromium (ms): "
        f"median {statistics.median(delays):.0f}, "
        f"p90 {delays[int(len(delays) * 0.9) - 1]:.0f}, "
        f"min {delays[0]:.0f}, max {delays[-1]:.0f}"
    )
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
