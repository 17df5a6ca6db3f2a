"""Deactivating a person: they cannot sign in, nothing they made is lost, their shared images
stay in the gallery, and the API key spends nothing more for them."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from gallery import jobs
from gallery.models import Image, Job, Visibility
from gallery.provenance import verification

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    staff = django_user_model.objects.create_user("stella", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client = Client()
    client.force_login(staff)
    return client


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (20, 20), (5, 5, 5)).save(buffer, "PNG")
    return buffer.getvalue()


def test_admin_deactivates_a_person_who_keeps_their_images(staff_client, alice, bob):
    alices_client = Client()
    alices_client.force_login(alice)
    image = verification.add_to_gallery(owner=alice, data=png(), visibility=Visibility.SHARED)
    queued = jobs.create_job(owner=alice, prompt="later", model="gpt-image-1")
    response = staff_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate", "_selected_action": [alice.pk]},
        follow=True,
    )
    assert "1 deactivated" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.is_active
    # Her running session ends, and she cannot sign in again.
    assert alices_client.get(reverse("gallery:gallery")).status_code == 302
    again = Client()
    login = again.post(reverse("login"), {"username": "alice", "password": "alice-pass-phrase-1"})
    assert login.status_code == 200 and "_auth_user_id" not in again.session
    # Her shared image is still there for everyone; her queued job will not spend money.
    bobs = Client()
    bobs.force_login(bob)
    assert bobs.get(image.get_absolute_url()).status_code == 200
    assert Image.objects.filter(owner=alice).count() == 1
    assert Job.objects.get(pk=queued.pk).status == Job.Status.CANCELED


def test_staff_cannot_deactivate_themselves_by_accident(staff_client, django_user_model):
    stella = django_user_model.objects.get(username="stella")
    staff_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate", "_selected_action": [stella.pk]},
    )
    stella.refresh_from_db()
    assert stella.is_active


def test_admin_actions_change_a_jobs_visibility_with_its_images(staff_client, alice, standin):
    job = jobs.create_job(owner=alice, prompt="a fox", model="gpt-image-1", n=2)
    jobs.run_job(jobs.claim_job(job.pk))
    staff_client.post(
        reverse("admin:gallery_job_changelist"),
        {"action": "make_private", "_selected_action": [job.pk]},
    )
    assert set(job.images.values_list("visibility", flat=True)) == {"private"}
