"""An edit through every real part: gunicorn, a Celery worker process and the stand-in API,
on the embedded default and on PostgreSQL + Redis. The form is posted the way a browser
without JavaScript posts it: files and mask in one multipart request."""

import io
import re
import secrets
import time

import PIL.Image
import pytest

from tests.integration.test_integration import wait_for_job
from tests.stack import Browser, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["embedded", "postgresql+redis"])
def stack(request, tmp_path_factory):
    with running_stack(
        request.param,
        tmp_path_factory.mktemp(f"edits-{request.param}"),
        concurrency=2,
    ) as stack:
        yield stack


def encoded(image: PIL.Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def test_edit_with_mask_and_keep_unmasked_through_the_worker(stack):
    browser = Browser(stack.url)
    browser.signup(f"ivy{secrets.token_hex(2)}")
    original = encoded(PIL.Image.new("RGB", (320, 200), (40, 80, 120)))
    second = encoded(PIL.Image.new("RGB", (100, 100), (250, 250, 0)), "JPEG")
    mask = PIL.Image.new("RGBA", (320, 200), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (200, 50, 300, 150))
    token = browser.csrf("/edit/")
    response = browser.client.post(
        "/edit/",
        data={
            "prompt": "a lighthouse",
            "model": "gpt-image-1",
            "n": "1",
            "size": "1536x1024",
            "quality": "low",
            "background": "auto",
            "output_format": "png",
            "input_fidelity": "high",
            "keep_unmasked": "on",
            "csrfmiddlewaretoken": token,
        },
        files=[
            ("uploads", ("sea.png", original, "image/png")),
            ("uploads", ("sun.jpg", second, "image/jpeg")),
            ("mask", ("mask.png", encoded(mask), "image/png")),
        ],
    )
    assert response.status_code == 200, response.text[:1000]
    assert re.search(r"/jobs/\d+/$", str(response.url)), response.url
    card = wait_for_job(browser, str(response.url))
    assert 'data-status="succeeded"' in card, card
    links = re.findall(r'href="(/images/\d+/)"', card)
    assert len(links) == 2  # the model's output and the composite

    sources = {}
    for link in links:
        page = browser.client.get(link).text
        original_bytes = browser.client.get(f"{link}original").content
        sources["edited" if "uses it as model output" in page else "composite"] = (
            link,
            page,
            original_bytes,
        )
    link, page, composite = sources["composite"]
    assert "Original" in page and "Model output" in page
    before = PIL.Image.open(io.BytesIO(original)).convert("RGB")
    after = PIL.Image.open(io.BytesIO(composite)).convert("RGB")
    assert after.size == before.size
    outside = [
        (x, y)
        for x in range(0, 320, 7)
        for y in range(0, 200, 7)
        if not (200 <= x < 300 and 50 <= y < 150)
    ]
    assert all(after.getpixel(p) == before.getpixel(p) for p in outside)
    assert after.getpixel((250, 100)) != before.getpixel((250, 100))

    link, page, edited = sources["edited"]
    assert "Input (masked)" in page and page.count('class="lineage-node"') >= 2
    assert 'data-state="valid"' in page or "Valid signature" in page


def test_an_upload_is_stored_at_once_and_finished_by_the_worker(stack):
    browser = Browser(stack.url)
    browser.signup(f"uma{secrets.token_hex(2)}")
    token = browser.csrf("/edit/")
    picture = encoded(PIL.Image.new("RGB", (900, 300), (10, 160, 90)))
    response = browser.client.post(
        "/edit/upload",
        data={"csrfmiddlewaretoken": token},
        files=[("file", ("field.png", picture, "image/png"))],
    )
    assert response.status_code == 200, response.text[:1000]
    answer = response.json()
    assert browser.client.get(answer["original"]).content == picture
    deadline = time.monotonic() + 60
    while True:
        thumbnail = browser.client.get(answer["thumbnail"])
        if thumbnail.headers["content-type"] == "image/webp":
            break
        assert thumbnail.headers["content-type"].startswith("image/svg"), thumbnail.headers
        assert time.monotonic() < deadline, "the worker never processed the upload"
        time.sleep(0.2)
    assert PIL.Image.open(io.BytesIO(thumbnail.content)).width == 256
    page = browser.client.get(f"/images/{answer['id']}/").text
    assert "Processing:" not in page and "No Content Credentials" in page
