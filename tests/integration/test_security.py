"""Security properties: headers, login throttling, production settings, and the API key
appearing nowhere."""

import re
import secrets
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.stack import ROOT, Browser, Stack


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(alice_client):
    response = alice_client.get(reverse("gallery:create"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.content.decode()  # no inline scripts to allow


@pytest.mark.django_db
def test_login_is_throttled_after_repeated_failures(client, alice, settings, tmp_path):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }
    settings.STUDIO_LOGIN_MAX_FAILURES = 3
    url = reverse("login")
    for _ in range(3):
        response = client.post(url, {"username": "alice", "password": "wrong"})
        assert "Please enter a correct username and password" in response.content.decode()
    response = client.post(url, {"username": "alice", "password": "alice-pass-phrase-1"})
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    response = client.post(url, {"username": "bob", "password": "wrong"})
    assert "Too many failed sign-ins" not in response.content.decode()


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "STUDIO_HTTPS": "true",
        "DJANGO_ALLOWED_HOSTS": "studio.example.com",
        "STUDIO_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.integration
def test_the_api_key_appears_in_no_page_log_or_database_row(tmp_path):
    canary = f"sk-canary-{secrets.token_hex(16)}"
    # The stand-in accepts only this key, so a finished job proves the key was really used.
    stack = Stack(tmp_path, extra_env={"OPENAI_API_KEY": canary}, standin_args=("--key", canary))
    stack.env["OPENAI_BASE_URL"] = f"{stack.standin_url}/v1"
    stack.start()
    try:
        browser = Browser(stack.url)
        browser.signup("keeper")
        token = browser.csrf("/create/")
        job_page = browser.client.post(
            "/create/",
            data={
                "prompt": "a key-shaped cloud",
                "model": "gpt-image-1",
                "n": "1",
                "size": "1024x1024",
                "quality": "low",
                "background": "auto",
                "output_format": "png",
                "output_compression": "",
                "moderation": "auto",
                "csrfmiddlewaretoken": token,
            },
        )
        pages = [job_page.text]
        for _ in range(150):
            card = browser.client.get(str(job_page.url), headers={"HX-Request": "true"}).text
            if 'data-status="succeeded"' in card:
                break
        assert 'data-status="succeeded"' in card, card
        image_url = re.search(r'href="(/images/\d+/)"', card).group(1)
        for path in [
            "/",
            "/create/",
            str(job_page.url),
            image_url,
            "/healthz",
            f"{image_url}?q={canary[:12]}",
            f"{image_url}manifest.json",
            "/accounts/settings/",
            "/verify/",
        ]:
            pages.append(browser.client.get(path).text)
        # A failing call too: its error message must not carry the key either.
        stack.manage("generate", "refused [fault:401]", "--wait", check=False)
        # The admin shows every job with its attempts' errors: look there as staff.
        stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.filter(username='keeper').update(is_staff=True, is_superuser=True)",
        )
        jobs = browser.client.get("/admin/gallery/job/").text
        pages.append(jobs)
        for job_id in set(re.findall(r"/admin/gallery/job/(\d+)/change/", jobs)):
            pages.append(browser.client.get(f"/admin/gallery/job/{job_id}/change/").text)
        assert "refused [fault:401]" in "\n".join(pages)  # the failed job's page was seen
        dump = stack.manage("dumpdata", "--all").stdout
    finally:
        stack.stop()
    logs = "\n".join(log.read_text() for log in stack.logs.values())
    assert "a key-shaped cloud" in dump  # the dump is real
    for text, where in [("\n".join(pages), "pages"), (logs, "logs"), (dump, "database")]:
        assert canary not in text, f"the API key leaked into the {where}"
        assert canary[-12:] not in text, f"part of the API key leaked into the {where}"
