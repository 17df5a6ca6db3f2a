import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores files in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-phrase-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-phrase-1")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture(scope="session")
def standin_server():
    from gallery.imagesapi.standin.server import StandinServer

    server = StandinServer(host="127.0.0.1", port=0, latency=0.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def standin(standin_server, settings):
    """The real stand-in HTTP server, reset to a clean configuration, as the image API."""
    settings.OPENAI_BASE_URL = standin_server.url
    settings.STUDIO_RETRY_BASE_DELAY = 0.01
    standin_server.configure(
        latency=0.0,
        faults=[],
        fault_rate=0.0,
        retired_models=[],
        listed_models=[],
        list_models=True,
    )
    return standin_server


@pytest.fixture
def page(stack, request):
    """A fresh Chromium page on the test module's `stack` (browser tests define it); a failed
    test leaves its screenshot behind."""
    from tests.chromium import browser_page

    with browser_page(stack.url, request) as page:
        yield page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Make each phase's report available to fixtures (browser tests save a screenshot
    when the test body failed)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(autouse=True)
def private_cache(settings, request):
    """Every test counts rate limits and login failures in a cache of its own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 takes seconds per password on a busy machine; tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
