"""The 404 and 500 pages look like the rest of the studio and keep its navigation."""

import pytest
from django.test import RequestFactory
from django.views import defaults


@pytest.mark.django_db
def test_missing_page_is_a_styled_404_with_the_navigation(alice_client, settings):
    settings.DEBUG = False
    response = alice_client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "studio.css" in html
    assert 'aria-label="Main"' in html and 'href="/create/"' in html
    assert ">alice</a>" in html  # the request context is there: who is signed in


def test_server_error_page_has_the_navigation_without_a_database(settings):
    # No django_db mark: any query this page made would fail the test.
    settings.DEBUG = False
    response = defaults.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and "studio.css" in html
    assert 'aria-label="Main"' in html and 'href="/verify/"' in html
