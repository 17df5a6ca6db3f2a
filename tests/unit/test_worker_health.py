"""People see when no worker is running: job cards, the create page and the queue say so, and
staff see it in the header. A fresh heartbeat makes the notices go away."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery import jobs
from gallery.models import WorkerHeartbeat
from studio.health import WORKER_FRESH_SECONDS

NOTICE = "No worker is running; your job will start when one is back."
STAFF_ALERT = "No worker running"

pytestmark = pytest.mark.django_db


def queued_job(owner):
    return jobs.create_job(
        owner=owner, prompt="a red kite over hills", model="gpt-image-1", size="1024x1024"
    )


def beat(seconds_ago: float) -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname="celery@host-a",
        defaults={"seen_at": timezone.now() - timedelta(seconds=seconds_ago)},
    )


@pytest.fixture
def staff_client(client, django_user_model):
    staff = django_user_model.objects.create_user("sam", password="x", is_staff=True)
    client.force_login(staff)
    return client


def pages_for(job):
    return {
        "job card": reverse("gallery:job-detail", args=[job.pk]),
        "create page": reverse("gallery:create"),
        "queue": reverse("gallery:queue"),
    }


@pytest.mark.parametrize("page", ["job card", "create page", "queue"])
def test_without_a_worker_the_page_says_the_job_waits_for_one(alice_client, alice, page):
    job = queued_job(alice)
    response = alice_client.get(pages_for(job)[page])
    assert response.status_code == 200
    assert NOTICE in response.content.decode()


def test_a_stale_heartbeat_counts_as_no_worker(alice_client, alice):
    beat(WORKER_FRESH_SECONDS + 5)
    job = queued_job(alice)
    assert NOTICE in alice_client.get(pages_for(job)["job card"]).content.decode()


@pytest.mark.parametrize("page", ["job card", "create page", "queue"])
def test_with_a_fresh_heartbeat_no_notice_is_shown(alice_client, alice, page):
    beat(1)
    job = queued_job(alice)
    response = alice_client.get(pages_for(job)[page])
    assert response.status_code == 200
    assert NOTICE not in response.content.decode()


def test_the_polled_job_card_partial_carries_the_notice(alice_client, alice):
    job = queued_job(alice)
    response = alice_client.get(pages_for(job)["job card"], headers={"HX-Request": "true"})
    assert NOTICE in response.content.decode()


def test_staff_see_the_missing_worker_in_the_header_on_every_page(staff_client):
    html = staff_client.get(reverse("gallery:gallery")).content.decode()
    assert STAFF_ALERT in html
    beat(1)
    html = staff_client.get(reverse("gallery:gallery")).content.decode()
    assert STAFF_ALERT not in html


def test_people_who_are_not_staff_get_no_header_alert(alice_client):
    assert STAFF_ALERT not in alice_client.get(reverse("gallery:gallery")).content.decode()


def test_the_check_is_one_query_per_page_however_many_cards(alice_client, alice):
    """The queue renders a card per job; the heartbeat is asked once, not once per card."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        queued_job(alice)
    with CaptureQueriesContext(connection) as queries:
        html = alice_client.get(reverse("gallery:queue")).content.decode()
    assert html.count(NOTICE) == 6  # the page notice and one per queued card
    heartbeat_queries = [q for q in queries if "gallery_workerheartbeat" in q["sql"]]
    assert len(heartbeat_queries) == 1
