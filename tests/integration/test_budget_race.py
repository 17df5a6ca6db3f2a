"""Many jobs submitted at once against one monthly budget: the estimates held for queued
jobs mean exactly as many are accepted as the budget covers, on the embedded default and on
PostgreSQL, with the real web server's threads racing each other."""

import re
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from gallery.imagesapi import registry
from tests.helpers import postgres_url
from tests.stack import Browser, Stack

pytestmark = pytest.mark.integration

PROMPT = "a paper boat on a pond"


@pytest.fixture(scope="module", params=["embedded", "postgresql"])
def stack(request, tmp_path_factory):
    database_url, database = "", None
    if request.param == "postgresql":
        if not postgres_url():
            pytest.skip("PostgreSQL (127.0.0.1:5432) is not running")
        database = f"studio_live_{secrets.token_hex(4)}"
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
        database_url = f"{postgres_url()}{database}"
    # A slow stand-in keeps the accepted jobs unfinished, so only their held estimates count.
    running = Stack(
        tmp_path_factory.mktemp(f"race-{request.param}"),
        database_url=database_url,
        standin_latency=30,
        extra_env={"STUDIO_JOBS_PER_MINUTE": "0"},
    )
    try:
        yield running.start()
    finally:
        running.stop()
        if database:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", database])


# A large free size is priced by its pixels: 3840x2160 costs about 8x 1024x1024 (the studio
# once held $0.0082 for it, and a budget for three let through every one of the twelve).
@pytest.mark.parametrize(
    ("model", "size"), [("gpt-image-1", "1024x1024"), ("gpt-image-2", "3840x2160")]
)
def test_parallel_jobs_cannot_overspend_a_budget(stack, model, size):
    username = f"kim{secrets.token_hex(2)}"
    browser = Browser(stack.url)
    browser.signup(username)
    request = registry.Request(prompt=PROMPT, size=size, quality="low", n=1)
    estimate = registry.get(model).worst_case(request)
    limit = (estimate * Decimal("3.5")).quantize(Decimal("0.01"))
    assert 3 * estimate <= limit < 4 * estimate
    stack.manage(
        "shell",
        "-c",
        "from gallery.jobs import budgets; from django.contrib.auth import get_user_model; "
        f"budgets.set_person_limit(get_user_model().objects.get(username='{username}'), "
        f"'{limit}')",
    )
    token = browser.csrf("/create/")
    data = {
        "prompt": PROMPT,
        "model": model,
        "n": "1",
        "size": size,
        "quality": "low",
        "background": "auto",
        "output_format": "png",
        "moderation": "auto",
        "partial_images": "0",
        "csrfmiddlewaretoken": token,
    }

    def submit(_):
        response = browser.client.post("/create/", data=data, follow_redirects=False)
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(submit, range(12)))
    accepted = [status for status, _ in answers if status == 302]
    refused = [text for status, text in answers if status == 400]
    assert len(accepted) == 3, [status for status, _ in answers]
    assert len(refused) == 9
    assert all("Your monthly budget would be exceeded" in text for text in refused)
    queue = browser.client.get("/queue/?who=me").text
    assert len(re.findall(r'class="job-card', queue)) == 3
