"""The edit journey in headless Chromium against the real studio (stand-in API, Celery
worker, gunicorn): upload two images, paint a mask with the mouse, submit, see the result
and its lineage; an error keeps the uploads and the painted mask."""

import io
import secrets

import httpx
import PIL.Image
import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import sign_up
from tests.chromium import ARTIFACTS, browser_page

pytestmark = pytest.mark.browser


@pytest.fixture
def page(stack, request):
    with browser_page(stack.url, request, height=1000) as page:
        yield page


def picture(path, size, colour):
    PIL.Image.new("RGB", size, colour).save(path, "PNG")
    return path


def paint(page, fractions):
    """Drag the mouse across the mask canvas through points given as fractions of its box."""
    box = page.locator("#mask-canvas").bounding_box()
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in fractions]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=8)
    page.mouse.up()


def test_upload_two_images_paint_a_mask_edit_and_see_the_lineage(page, tmp_path):
    sign_up(page, f"gwen{secrets.token_hex(2)}")
    first = picture(tmp_path / "harbour.png", (600, 400), (30, 110, 170))
    second = picture(tmp_path / "boat.png", (300, 300), (220, 180, 40))
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Add images (PNG, JPEG or WebP)").set_input_files([first, second])
    expect(page.locator("#edit-inputs li")).to_have_count(2)
    expect(page.locator("#mask-canvas")).to_be_visible()
    expect(page.locator("#mask-canvas")).to_have_attribute("width", "600")

    paint(page, [(0.1, 0.2), (0.4, 0.2), (0.4, 0.5), (0.1, 0.5)])
    page.get_by_role("button", name="Undo").click()
    paint(page, [(0.1, 0.2), (0.4, 0.2), (0.4, 0.5), (0.1, 0.5)])
    page.get_by_label("Prompt").fill("a red boat in the harbour")
    page.get_by_label("Quality").select_option("low")
    page.get_by_label("Keep unmasked pixels").check()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "edit-page.png"), full_page=True)
    page.get_by_role("button", name="Edit", exact=True).click()

    card = page.locator(".job-card").first
    expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
    expect(card.locator(".thumbs img")).to_have_count(2)  # model output + composite
    hrefs = [a.get_attribute("href") for a in card.locator(".thumbs a").all()]
    pages = {}
    for href in hrefs:
        page.goto(href)
        text = page.locator(".lineage-panel").inner_text()
        pages["output" if "Input (masked)" in text else "composite"] = href
    assert set(pages) == {"output", "composite"}

    page.goto(pages["output"])
    lineage = page.locator(".lineage-panel")
    expect(lineage.get_by_text("Made from")).to_be_visible()
    expect(lineage.locator("ul").first.locator("a.lineage-node")).to_have_count(2)  # both inputs
    page.screenshot(path=str(ARTIFACTS / "edit-result.png"), full_page=True)
    lineage.get_by_role("link", name="Whole lineage tree").click()
    expect(page.get_by_role("heading", name="Made from")).to_be_visible()
    expect(page.locator(".lineage-tree a.lineage-node")).to_have_count(
        4
    )  # 2 inputs, composite, self
    page.screenshot(path=str(ARTIFACTS / "edit-lineage.png"), full_page=True)

    # The composite: the original exactly, outside the painted rectangle.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    original = httpx.get(
        f"{page.url.split('/images/')[0]}{pages['composite']}original", cookies=cookies
    )
    assert original.status_code == 200
    result = PIL.Image.open(io.BytesIO(original.content)).convert("RGB")
    assert result.size == (600, 400)
    assert result.getpixel((550, 350)) == (30, 110, 170)  # far outside the mask
    assert result.getpixel((5, 5)) == (30, 110, 170)
    assert result.getpixel((150, 80)) != (30, 110, 170)  # on the painted stroke


def test_a_refused_edit_keeps_the_uploads_and_the_mask(page, tmp_path):
    sign_up(page, f"hana{secrets.token_hex(2)}")
    page.goto("/edit/")
    page.get_by_label("Add images (PNG, JPEG or WebP)").set_input_files(
        [picture(tmp_path / "a.png", (200, 200), (0, 0, 0))]
    )
    svg = tmp_path / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    page.get_by_label("Add images (PNG, JPEG or WebP)").set_input_files([svg])
    expect(page.get_by_role("alert")).to_contain_text("SVG images are not supported")
    expect(page.locator("#mask-canvas")).to_have_attribute("width", "200")
    paint(page, [(0.2, 0.2), (0.8, 0.8)])
    page.get_by_label("Prompt").fill("   ")
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Write a prompt", timeout=20_000)
    expect(page.locator("#edit-inputs li")).to_have_count(1)
    painted = page.evaluate(
        "() => { const c = document.getElementById('mask-canvas');"
        " return c.getContext('2d').getImageData(100, 100, 1, 1).data[3]; }"
    )
    assert painted == 255
    expect(page.locator(".job-card")).to_have_count(0)
