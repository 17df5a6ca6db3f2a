"""static/studio.js keyboard shortcuts, run in headless Chromium on a bare page (no server)."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = Path(__file__).resolve().parents[2] / "static" / "studio.js"
PAGE = """<!doctype html><body>
<input id="search-box" type="search" value="fox">
<textarea id="notes"></textarea>
</body>"""


@pytest.fixture
def page():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium (make chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.set_content(PAGE)
        page.add_script_tag(path=str(SCRIPT))
        yield page
        browser.close()


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_slash_focuses_the_gallery_search_box(page):
    page.keyboard.press("/")
    assert focused(page) == "search-box"
    assert page.input_value("#search-box") == "fox"  # the slash is not typed into it


def test_slash_is_typed_as_usual_in_a_text_box(page):
    page.focus("#notes")
    page.keyboard.type("a/b")
    assert focused(page) == "notes"
    assert page.input_value("#notes") == "a/b"
