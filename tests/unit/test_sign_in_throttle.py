"""The sign-in throttle (issue 14, item 2): one counter per name however it is spelled, the
same for the admin's sign-in page, and a success gives its attempt back. That parallel guesses
get no more tries than sequential ones is shown against the real server in
tests/integration/test_parallel_limits.py."""

import pytest
from django.urls import reverse

from studio.security import normalise_username

pytestmark = pytest.mark.django_db

WRONG = "Please enter"
THROTTLED = "Too many failed sign-ins"


@pytest.fixture
def three_tries(settings):
    settings.STUDIO_LOGIN_MAX_FAILURES = 3


def sign_in(client, username, password, page="login"):
    url = reverse(page) if page == "login" else "/admin/login/"
    return client.post(url, {"username": username, "password": password}).content.decode()


def test_names_are_normalised_with_nfkc_strip_and_casefold():
    for spelling in ("alice", "ALICE", "  Alice\t", "ａｌｉｃｅ", "Ａｌｉｃｅ"):
        assert normalise_username(spelling) == "alice"
    assert normalise_username("STRASSE") == normalise_username("straße")


def test_failures_count_against_one_name_however_it_is_spelled(client, alice, three_tries):
    for spelling in ("ａｌｉｃｅ", " alice ", "ALICE"):
        assert WRONG in sign_in(client, spelling, "wrong")
    assert THROTTLED in sign_in(client, "alice", "alice-pass-phrase-1")
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_is_throttled_by_the_same_counter(client, alice, three_tries):
    alice.is_staff = True
    alice.save()
    assert WRONG in sign_in(client, "alice", "wrong", page="admin")
    assert WRONG in sign_in(client, "Alice", "wrong")
    assert WRONG in sign_in(client, "alice", "wrong", page="admin")
    assert THROTTLED in sign_in(client, "alice", "alice-pass-phrase-1", page="admin")
    assert THROTTLED in sign_in(client, "alice", "alice-pass-phrase-1")
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_gives_its_attempt_back(client, alice, three_tries):
    for _ in range(2):
        assert WRONG in sign_in(client, "alice", "wrong")
    for _ in range(3):
        client.post(reverse("login"), {"username": "alice", "password": "alice-pass-phrase-1"})
        assert client.session.get("_auth_user_id") == str(alice.pk)
        client.logout()
    assert WRONG in sign_in(client, "alice", "wrong")  # the third failure is still checked
    assert THROTTLED in sign_in(client, "alice", "alice-pass-phrase-1")
