"""No console errors, failed requests or Content Security Policy violations on any page a
signed-in person, a staff member or an anonymous visitor can reach. Headless Chromium against
the shared session stack."""

import re
import secrets
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.test_browser import sign_up
from tests.browser.test_browser_live import generate
from tests.chromium import launch

pytestmark = pytest.mark.browser

# Collected in the page itself, so each page's own violations are read before it is left.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

MISSING = "/no-such-page/"


class Watcher:
    """Everything that went wrong on the current page: console errors and warnings from
    htmx, uncaught exceptions, requests that failed or answered an error status."""

    def __init__(self, page):
        self.problems: list[str] = []
        self.expected_status: dict[str, int] = {}
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"exception: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        text = message.text
        if message.type == "error" and text.startswith("Failed to load resource: the server "):
            return  # the response handler judges statuses (a 404 page is meant to be 404)
        if message.type == "error" or (message.type == "warning" and "htmx" in text.lower()):
            self.problems.append(f"console {message.type}: {text}")

    def _failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure and request.resource_type in {"xhr", "fetch"}:
            return  # a poll cut short by leaving the page
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    def _response(self, response) -> None:
        path = re.sub(r"^https?://[^/]+", "", response.url)
        if response.status >= 400 and self.expected_status.get(path) != response.status:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {path}")


@contextmanager
def watched_page(stack):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        try:
            yield page, Watcher(page)
        finally:
            browser.close()


def visit_all(page, watcher, paths: list[str]) -> dict[str, list[str]]:
    """Open each page, let it settle (its first polls included), and list what went wrong."""
    found = {}
    for path in paths:
        watcher.problems.clear()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp")
        problems = watcher.problems + [f"CSP: {v}" for v in violations]
        if problems:
            found[path] = problems
    return found


def test_no_console_errors_on_any_page(stack):
    with watched_page(stack) as (page, watcher):
        # Anonymous: sign-in, sign-up, password reset, what a signed-out link leads to, 404.
        watcher.expected_status[MISSING] = 404
        anonymous = ["/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"]
        problems = visit_all(page, watcher, [*anonymous, "/", "/queue/", MISSING])

        username = f"uma{secrets.token_hex(2)}"
        sign_up(page, username)
        generate(page, "a quiet harbour at dawn")
        card = page.locator(".job-card").first
        expect(card.locator(".status")).to_have_text("Done", timeout=30_000)
        job = card.get_attribute("id").removeprefix("job-")
        image = card.locator(".thumbs a").first.get_attribute("href").strip("/").split("/")[-1]
        watcher.expected_status[f"/images/{int(image) + 10_000}/"] = 404
        signed_in = [
            "/",
            "/?q=harbour",
            "/create/",
            f"/jobs/{job}/",
            f"/images/{image}/",
            f"/images/{image}/lineage/",
            f"/edit/?image={image}",
            "/edit/",
            "/verify/",
            "/queue/",
            "/spending/",
            "/boards/",
            "/accounts/settings/",
            "/accounts/tokens/",
            "/accounts/password_change/",
            MISSING,
            f"/images/{int(image) + 10_000}/",
        ]
        problems |= visit_all(page, watcher, signed_in)

        # The lightbox and the phone menu run scripts of their own.
        watcher.problems.clear()
        page.goto("/")
        page.locator(".tile-zoom").first.click()
        expect(page.get_by_role("dialog", name="Image viewer")).to_be_visible()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Escape")
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("button", name="Menu").click()
        page.wait_for_load_state("networkidle")
        if watcher.problems or page.evaluate("window.__csp"):
            problems["lightbox and menu"] = watcher.problems + page.evaluate("window.__csp")
        page.set_viewport_size({"width": 1280, "height": 900})

        # Staff: everyone's queue, invites.
        stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.filter(username='{username}').update(is_staff=True)",
        )
        problems |= {
            f"staff {path}": found
            for path, found in visit_all(page, watcher, ["/queue/", "/accounts/invites/"]).items()
        }
    assert problems == {}
