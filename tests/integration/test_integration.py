"""The whole path with every part real: the web server (gunicorn), a Celery worker process
and the stand-in image API, once on the embedded default (SQLite + filesystem broker) and
once on PostgreSQL + Redis."""

import hashlib
import re
import secrets
import time

import httpx
import PIL.Image
import pytest

from tests.stack import HEALTH_HEADERS, Browser, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["embedded", "postgresql+redis"])
def stack(request, tmp_path_factory):
    with running_stack(
        request.param,
        tmp_path_factory.mktemp(request.param),
    ) as stack:
        yield stack


def wait_for_job(browser: Browser, job_url: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        card = browser.client.get(job_url, headers={"HX-Request": "true"}).text
        status = re.search(r'data-status="(\w+)"', card).group(1)
        if status in ("succeeded", "failed", "canceled"):
            return card
        time.sleep(0.2)
    raise AssertionError(f"job at {job_url} still {status} after {timeout} s")


def generate(browser: Browser, prompt: str, **fields) -> str:
    token = browser.csrf("/create/")
    data = {
        "prompt": prompt,
        "model": "gpt-image-1",
        "n": "1",
        "size": "1024x1024",
        "quality": "low",
        "background": "auto",
        "output_format": "png",
        "output_compression": "",
        "moderation": "auto",
        "csrfmiddlewaretoken": token,
        **fields,
    }
    response = browser.client.post("/create/", data=data)
    assert response.status_code == 200, response.text[:1000]
    assert re.search(r"/jobs/\d+/$", str(response.url)), response.url
    return str(response.url)


def test_signup_generate_find_and_download(stack):
    browser = Browser(stack.url)
    browser.signup(f"alice{secrets.token_hex(2)}")
    word = f"zebra{secrets.token_hex(3)}"
    card = wait_for_job(browser, generate(browser, f"a striped {word} at noon", n="2"))
    assert 'data-status="succeeded"' in card, card
    image_ids = re.findall(r'href="/images/(\d+)/"', card)
    assert len(image_ids) == 2

    gallery = browser.client.get("/").text
    assert all(f'href="/images/{pk}/"' in gallery for pk in image_ids)
    found = browser.client.get("/", params={"q": word}).text
    assert all(f'href="/images/{pk}/"' in found for pk in image_ids)
    assert 'href="/images/' not in browser.client.get("/", params={"q": "nothingmatchesthis"}).text

    detail = browser.client.get(f"/images/{image_ids[0]}/").text
    assert word in detail and "gpt-image-1" in detail and "1024×1024 px" in detail
    sha = re.search(r'<code class="hash">([0-9a-f]{64})</code>', detail).group(1)
    original = browser.client.get(f"/images/{image_ids[0]}/original?download")
    assert original.headers["content-type"] == "image/png"
    assert "attachment" in original.headers["content-disposition"]
    assert hashlib.sha256(original.content).hexdigest() == sha  # the exact bytes stored
    thumb = browser.client.get(f"/images/{image_ids[0]}/thumbnail/256.webp")
    assert thumb.headers["content-type"] == "image/webp"
    assert PIL.Image.open(__import__("io").BytesIO(thumb.content)).width == 256


def test_moderation_refusal_fails_at_once_with_the_reason(stack):
    browser = Browser(stack.url)
    browser.signup(f"bob{secrets.token_hex(2)}")
    card = wait_for_job(browser, generate(browser, "something refused [fault:moderation]"))
    assert 'data-status="failed"' in card
    assert "safety system" in card
    page = browser.client.get(re.search(r'href="(/jobs/\d+/)"', card).group(1)).text
    assert page.count("<td>Failed</td>") == 1  # one attempt: never retried


def test_transient_faults_retry_then_fail_with_a_readable_reason(stack):
    browser = Browser(stack.url)
    browser.signup(f"carol{secrets.token_hex(2)}")
    card = wait_for_job(browser, generate(browser, "always busy [fault:503]"))
    assert 'data-status="failed"' in card
    assert "Gave up after 4 attempts" in card and "HTTP 503" in card


def test_undecodable_image_stores_nothing(stack):
    browser = Browser(stack.url)
    browser.signup(f"dave{secrets.token_hex(2)}")
    word = f"broken{secrets.token_hex(3)}"
    card = wait_for_job(browser, generate(browser, f"{word} [fault:bad_image]"))
    assert 'data-status="failed"' in card and "does not decode" in card
    assert 'href="/images/' not in browser.client.get("/", params={"q": word}).text


def test_generate_command_waits_and_prints_the_files(stack):
    result = stack.manage(
        "generate",
        "a quiet harbour",
        "--n",
        "2",
        "--quality",
        "low",
        "--wait",
        "--timeout",
        "60",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    paths = re.findall(r"^image \d+ (\S+)$", result.stdout, re.M)
    assert len(paths) == 2
    for path in paths:
        with PIL.Image.open(path) as image:
            assert image.size == (1024, 1024)


def test_generate_command_exits_non_zero_on_failure_or_bad_input(stack):
    failed = stack.manage("generate", "no [fault:org_verification]", "--wait", check=False)
    assert failed.returncode != 0 and "verified" in failed.stderr
    refused = stack.manage("generate", "x", "--size", "999x999", check=False)
    assert refused.returncode != 0 and "Nothing queued" in refused.stderr


def test_healthz_sees_every_part(stack):
    report = httpx.get(f"{stack.url}/healthz", headers=HEALTH_HEADERS).json()
    assert report["ok"], report
    assert report["worker"]["detail"]["workers"]
