"""Crashes with every part real: a Celery worker process is killed with SIGKILL in the middle
of an API call (the stand-in is slow on purpose), and the job still finishes, on another
worker, with exactly one set of images. Once on the embedded default, once on PostgreSQL +
Redis."""

import json
import os
import secrets
import signal
import time

import httpx
import pytest

from tests.integration.test_integration import generate, wait_for_job
from tests.stack import Browser, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["embedded", "postgresql+redis"])
def stack(request, tmp_path_factory):
    with running_stack(
        request.param,
        tmp_path_factory.mktemp(request.param),
        standin_latency=4.0,
        # A short lease and doorbell so the test waits seconds, not minutes.
        extra_env={"STUDIO_JOB_LEASE_SECONDS": "3", "STUDIO_DOORBELL_SECONDS": "1"},
    ) as stack:
        yield stack


def api_calls(stack, word: str) -> int:
    log = httpx.get(f"{stack.standin_url}/_standin/requests").json()["requests"]
    return sum(1 for entry in log if word in json.dumps(entry))


def job_facts(stack, job_url: str) -> dict:
    pk = int(job_url.rstrip("/").rsplit("/", 1)[1])
    script = (
        f"import json; from gallery.models import Job; j = Job.objects.get(pk={pk}); "
        "print(json.dumps({'images': j.images.count(), 'losses': j.losses, "
        "'outcomes': [a.outcome for a in j.attempt_log.all()]}))"
    )
    return json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])


def test_a_worker_killed_mid_call_leaves_exactly_one_set_of_images(stack):
    browser = Browser(stack.url)
    browser.signup(f"erin{secrets.token_hex(2)}")
    word = f"lighthouse{secrets.token_hex(3)}"
    job_url = generate(browser, f"a {word} in a gale", n="2")

    deadline = time.monotonic() + 30
    while api_calls(stack, word) == 0:
        assert time.monotonic() < deadline, stack.tail()
        time.sleep(0.1)
    # The API call is in flight (the stand-in takes 4 s): kill the worker outright.
    assert 'data-status="running"' in browser.client.get(job_url).text
    os.killpg(stack.processes["worker"].pid, signal.SIGKILL)
    stack.processes["worker"].wait()
    stack.start_worker("worker2")

    card = wait_for_job(browser, job_url, timeout=90)
    assert 'data-status="succeeded"' in card, card
    facts = job_facts(stack, job_url)
    assert facts["images"] == 2
    assert facts["losses"] == 1
    assert facts["outcomes"] == ["worker_lost", "succeeded"]
    assert api_calls(stack, word) >= 2  # the first call was really cut off and made again
    page = browser.client.get(job_url).text
    assert "Worker stopped mid-call" in page
