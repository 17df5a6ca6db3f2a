"""Per-minute limits and the sign-in throttle under parallel requests (issue 14, items 2 and 3):
the real web server (two gunicorn processes of 24 threads each) answers requests that all
start at once, on the embedded default (SQLite) and on PostgreSQL + Redis. The check and the
count are one step, so exactly the limit gets through, never more (and never fewer).

Each test prints its figures (pytest -s shows them)."""

import io
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image as PILImage

from tests.stack import Browser, running_stack

pytestmark = pytest.mark.integration

JOBS_PER_MINUTE, UPLOADS_PER_MINUTE, LOGIN_MAX_FAILURES = 20, 30, 5
FORM = {
    "prompt": "a paper boat on a pond",
    "model": "gpt-image-1",
    "n": "1",
    "size": "1024x1024",
    "quality": "low",
    "background": "auto",
    "output_format": "png",
    "output_compression": "",
    "moderation": "auto",
}


@pytest.fixture(scope="module", params=["embedded", "postgresql+redis"])
def stack(request, tmp_path_factory):
    with running_stack(
        request.param,
        tmp_path_factory.mktemp(f"limits-{request.param.replace('+', '-')}"),
        web_workers=2,
        web_threads=24,
        # A slow stand-in: the accepted jobs wait on the API, not on the web server.
        standin_latency=30,
        extra_env={
            "STUDIO_JOBS_PER_MINUTE": str(JOBS_PER_MINUTE),
            "STUDIO_UPLOADS_PER_MINUTE": str(UPLOADS_PER_MINUTE),
            "STUDIO_LOGIN_MAX_FAILURES": str(LOGIN_MAX_FAILURES),
        },
    ) as running:
        running.kind = request.param
        yield running


def all_at_once(count: int, send) -> list[httpx.Response]:
    """`send(client)` from `count` threads released together, each with its own connection."""
    start = threading.Barrier(count)

    def one(_):
        with httpx.Client(timeout=120) as client:
            start.wait()
            return send(client)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def signed_in(stack) -> tuple[Browser, str]:
    browser, username = Browser(stack.url), f"par{secrets.token_hex(3)}"
    browser.signup(username)
    return browser, username


def count_rows(stack, model: str, username: str) -> int:
    found = stack.manage(
        "shell",
        "-c",
        f"from gallery.models import {model}; "
        f"print({model}.objects.filter(owner__username='{username}').count())",
    )
    return int(found.stdout.split()[-1])


def test_parallel_creates_accept_exactly_the_per_minute_limit(stack):
    browser, username = signed_in(stack)
    token = browser.csrf("/create/")
    cookies = dict(browser.client.cookies)

    def create(client):
        return client.post(
            f"{stack.url}/create/",
            data={**FORM, "csrfmiddlewaretoken": token},
            cookies=cookies,
            headers={"Referer": f"{stack.url}/create/"},
        )

    answers = all_at_once(40, create)
    statuses = sorted(r.status_code for r in answers)
    accepted = statuses.count(302)
    print(f"\n{stack.kind}: 40 parallel creates, limit {JOBS_PER_MINUTE}: {accepted} accepted")
    assert accepted == JOBS_PER_MINUTE, statuses
    assert statuses.count(429) == 40 - JOBS_PER_MINUTE, statuses
    assert count_rows(stack, "Job", username) == JOBS_PER_MINUTE


def test_parallel_uploads_accept_exactly_the_per_minute_limit(stack):
    browser, username = signed_in(stack)
    token = browser.csrf("/edit/")
    cookies = dict(browser.client.cookies)
    counter = iter(range(1000))
    lock = threading.Lock()

    def upload(client):
        with lock:
            shade = next(counter)
        buffer = io.BytesIO()
        PILImage.new("RGB", (16, 16), (shade, 7, 7)).save(buffer, "PNG")
        return client.post(
            f"{stack.url}/edit/upload",
            files={"file": (f"f{shade}.png", buffer.getvalue(), "image/png")},
            cookies=cookies,
            headers={"X-CSRFToken": token, "Referer": f"{stack.url}/edit/"},
        )

    answers = all_at_once(60, upload)
    statuses = sorted(r.status_code for r in answers)
    accepted = statuses.count(200)
    print(f"\n{stack.kind}: 60 parallel uploads, limit {UPLOADS_PER_MINUTE}: {accepted} accepted")
    assert accepted == UPLOADS_PER_MINUTE, statuses
    assert statuses.count(429) == 60 - UPLOADS_PER_MINUTE, statuses
    assert count_rows(stack, "Image", username) == UPLOADS_PER_MINUTE


@pytest.mark.parametrize("page", ["/accounts/login/", "/admin/login/"])
def test_parallel_password_guesses_get_only_the_allowed_tries(stack, page):
    _, username = signed_in(stack)
    guesser = Browser(stack.url)
    token = guesser.csrf(page)
    cookies = dict(guesser.client.cookies)

    def guess(client):
        # Spelled differently each time: the throttle counts one name however it is written.
        spelling = secrets.choice([username, username.upper(), f" {username} "])
        return client.post(
            f"{stack.url}{page}",
            data={"username": spelling, "password": "wrong", "csrfmiddlewaretoken": token},
            cookies=cookies,
            headers={"Referer": f"{stack.url}{page}"},
        )

    answers = all_at_once(30, guess)
    throttled = sum("Too many failed sign-ins" in r.text for r in answers)
    checked = sum("correct username and password" in r.text for r in answers)
    print(f"\n{stack.kind} {page}: 30 parallel wrong passwords: {checked} checked, {throttled} not")
    assert checked == LOGIN_MAX_FAILURES and throttled == 30 - LOGIN_MAX_FAILURES
