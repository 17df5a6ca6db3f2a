"""The Verify page and "Use these settings" on an edit, in headless Chromium against the real
studio (gunicorn, Celery worker, stand-in API): a file dropped anywhere on the page gets its
headline without a reload (signed, tampered, unsigned), the compare slider, the same page
without JavaScript; an edit remixed with its inputs, mask and options, then run again.

With STUDIO_SHOTS=<folder> every screen is also saved at 1280 and 390 px, light and dark."""

import base64
import os
import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_browser import sign_up
from tests.browser.test_browser_edits import paint, picture
from tests.chromium import launch, screenshot_on_failure
from tests.helpers import C2PA_FIXTURES

pytestmark = pytest.mark.browser

CAPE_BEAR = C2PA_FIXTURES / "tebs-lab_openai-dalle3-chatgpt_cape-bear.webp"
TAMPERED = C2PA_FIXTURES / "c2pa-rs_XCA.jpg"
UNSIGNED = C2PA_FIXTURES / "c2pa-rs_no_manifest.jpg"
EDITED = C2PA_FIXTURES / "c2pa-rs_CACA.jpg"
NOT_ON_LIST = "signature valid · signer not on the trust list: we cannot confirm who signed it"
SHOTS = os.environ.get("STUDIO_SHOTS")


def shoot(page, name: str) -> None:
    """The current screen at 1280 and 390 px, light and dark, when STUDIO_SHOTS is set."""
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(folder / f"{name}-{width}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(size)


def drop(page, path: Path, target: str = "main") -> None:
    """Drag a file from the desktop and let go of it over `target`."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            return transfer;
        }""",
        [data, path.name],
    )
    page.dispatch_event(target, "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#drop-overlay")).to_be_visible()
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def open_verify(page, who: str) -> None:
    sign_up(page, f"{who}{secrets.token_hex(2)}")
    page.get_by_role("link", name="Verify").click()
    expect(page.get_by_role("heading", name="Verify Content Credentials")).to_be_visible()
    # Set on this document only: still there after a check means the page never reloaded.
    page.evaluate("window.sameDocument = true")


def test_drop_a_signed_image_anywhere_and_read_the_verdict(page):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda error: problems.append(str(error)))
    open_verify(page, "vera")
    drop(page, CAPE_BEAR, target=".topbar")

    verdict = page.locator("#verdict")
    expect(verdict).to_have_text(f"Made by OpenAI's image model · {NOT_ON_LIST}")
    expect(verdict).to_be_focused()
    assert page.evaluate("window.sameDocument") is True
    expect(page.locator("#drop-overlay")).to_be_hidden()
    preview = page.get_by_role("img", name=f"The checked image, {CAPE_BEAR.name}")
    expect(preview).to_be_visible()
    assert preview.get_attribute("src").startswith("data:image/webp;base64,")
    expect(page.locator(".verify-summary")).to_contain_text("older interim trust list")

    # The technical details wait below, collapsed.
    panel = page.locator("#content-credentials")
    expect(panel).to_be_hidden()
    page.get_by_text("Technical details").click()
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Truepic Lens CLI in ChatGPT")
    assert problems == []  # no script refused by the CSP, no htmx warning
    shoot(page, "verify-signed")


def test_a_tampered_image_picked_with_the_file_picker(page):
    open_verify(page, "tamsin")
    page.get_by_label("Image file").set_input_files(str(TAMPERED))  # no button press needed
    expect(page.locator("#verdict")).to_have_text("Changed after signing")
    expect(page.locator("#verdict")).to_have_attribute("data-tone", "bad")
    assert page.evaluate("window.sameDocument") is True
    shoot(page, "verify-tampered")


def test_an_unsigned_image_says_it_has_no_credentials(page):
    open_verify(page, "una")
    drop(page, UNSIGNED)
    expect(page.locator("#verdict")).to_have_text("No Content Credentials")
    expect(page.locator(".verify-trust")).to_contain_text("nothing is known about its origin")
    shoot(page, "verify-unsigned")


def test_an_edit_is_compared_with_its_ingredient_by_the_slider(page):
    open_verify(page, "cora")
    drop(page, EDITED)
    expect(page.locator("#verdict")).to_contain_text(NOT_ON_LIST)
    compare = page.locator(".compare")
    expect(compare.get_by_role("img", name="The ingredient “CA.jpg”")).to_be_visible()

    def seen_at(fraction: float) -> str:
        """Which picture the stage shows at `fraction` of its width (clip-path hides)."""
        return page.evaluate(
            """(fraction) => {
                const box = document.querySelector(".compare-stage").getBoundingClientRect();
                const x = box.left + fraction * box.width, y = box.top + box.height / 2;
                return document.elementFromPoint(x, y).className;
            }""",
            fraction,
        )

    compare.scroll_into_view_if_needed()
    assert (seen_at(0.3), seen_at(0.7)) == ("compare-before", "compare-after")
    slider = page.get_by_role("slider", name="How much of the ingredient covers the checked image")
    slider.focus()
    for _ in range(30):
        page.keyboard.press("ArrowRight")  # the keyboard alone moves it: 80 %
    assert (seen_at(0.7), seen_at(0.9)) == ("compare-before", "compare-after")
    slider.fill("10")
    assert (seen_at(0.05), seen_at(0.3)) == ("compare-before", "compare-after")
    shoot(page, "verify-compare")


def test_without_javascript_the_form_posts_and_the_page_answers(stack, request):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=stack.url, java_script_enabled=False)
        page = context.new_page()
        try:
            page.goto("/accounts/signup/")
            page.get_by_label("Username").fill(f"plain{secrets.token_hex(2)}")
            page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
            page.get_by_label("Password confirmation").fill("a-long-pass-phrase-9")
            page.get_by_role("button", name="Sign up").click()
            page.goto("/verify/")
            page.get_by_label("Image file").set_input_files(str(TAMPERED))
            page.get_by_role("button", name="Verify").click()
            expect(page.locator("#verdict")).to_have_text("Changed after signing")
            checked = page.get_by_role("img", name=f"The checked image, {TAMPERED.name}")
            expect(checked).to_be_visible()
            # The details are a <details> element: they open without JavaScript too.
            page.get_by_text("Technical details").click()
            expect(page.locator("#content-credentials")).to_be_visible()
        finally:
            screenshot_on_failure(page, request)
            browser.close()


# --- "Use these settings" on an edit -----------------------------------------------------------


def painted_pixels(page) -> int:
    return page.evaluate(
        """() => {
            const canvas = document.getElementById("mask-canvas");
            const { width, height } = canvas;
            const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            let count = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] >= 128) count += 1;
            return count;
        }"""
    )


def test_remix_an_edit_restores_inputs_mask_and_options_then_runs(page, tmp_path):
    sign_up(page, f"remy{secrets.token_hex(2)}")
    first = picture(tmp_path / "harbour.png", (400, 300), (30, 110, 170))
    second = picture(tmp_path / "boat.png", (200, 200), (220, 180, 40))
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Add images (PNG, JPEG or WebP)").set_input_files([first, second])
    expect(page.locator("#edit-inputs li")).to_have_count(2)
    expect(page.locator("#mask-canvas")).to_have_attribute("width", "400")
    paint(page, [(0.1, 0.2), (0.4, 0.2), (0.4, 0.5), (0.1, 0.5)])
    painted = painted_pixels(page)
    assert painted > 0
    page.get_by_label("Prompt").fill("a red boat in the harbour")
    page.get_by_label("Quality").select_option("low")
    page.get_by_label("Background").select_option("opaque")
    page.get_by_label("Keep unmasked pixels").check()
    page.get_by_role("button", name="Edit", exact=True).click()
    card = page.locator(".job-card").first
    expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
    ids = page.locator("#edit-inputs li").evaluate_all("items => items.map(i => i.dataset.id)")

    page.goto(card.locator(".thumbs a").first.get_attribute("href"))
    page.get_by_role("link", name="Use these settings").click()
    expect(page).to_have_url(re.compile(r"/edit/\?remix=\d+$"))
    expect(page.locator(".remix-notes")).to_contain_text("its images, mask and options")
    inputs = page.locator("#edit-inputs li")
    expect(inputs).to_have_count(2)
    assert inputs.evaluate_all("items => items.map(i => i.dataset.id)") == ids
    expect(page.locator("#mask-stage")).to_have_attribute("data-restored", "true")
    assert painted_pixels(page) == painted  # the same area, pixel for pixel
    expect(page.get_by_label("Prompt")).to_have_value("a red boat in the harbour")
    expect(page.get_by_label("Quality")).to_have_value("low")
    expect(page.get_by_label("Background")).to_have_value("opaque")
    expect(page.get_by_label("Keep unmasked pixels")).to_be_checked()
    shoot(page, "edit-remixed")

    page.get_by_role("button", name="Edit", exact=True).click()
    card = page.locator(".job-card").first
    expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
    # A composite comes only with a mask: the restored one was sent.
    expect(card.locator(".thumbs img")).to_have_count(2)
