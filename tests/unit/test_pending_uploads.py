"""Privacy of files picked on the edit page (issue 14, item 10): private to their owner until
an edit using them is submitted, then as the form says; deleted a day later if never
submitted. And the live estimate is a POST, so prompts stay out of URLs and access logs."""

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from gallery import media
from gallery.jobs import uploads
from gallery.models import Image, Job, Visibility
from tests.helpers import finished
from tests.unit.test_edits import _post_edit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("sam", password="x", is_staff=True)


def png(shade: int = 1) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 24), (shade, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def pick(client, data: bytes) -> Image:
    """What edit.js does when a file is picked or dropped."""
    response = client.post(reverse("gallery:edit-upload"), {"file": io.BytesIO(data)})
    assert response.status_code == 200, response.content
    return Image.objects.get(pk=response.json()["id"])


def test_a_picked_file_is_private_to_its_owner_until_an_edit_is_submitted(
    client, alice, bob, settings
):
    settings.STUDIO_DEFAULT_VISIBILITY = Visibility.SHARED
    client.force_login(alice)
    image = pick(client, png())
    assert image.visibility == Visibility.PRIVATE and image.pending_since is not None
    assert client.get(reverse("gallery:image-original", args=[image.pk])).status_code == 200
    client.force_login(bob)
    for name in ("gallery:image-original", "gallery:image-detail"):
        assert client.get(reverse(name, args=[image.pk])).status_code == 404


@pytest.mark.parametrize("chosen", [Visibility.PRIVATE, Visibility.SHARED])
def test_submitting_an_edit_gives_its_picked_files_the_visibility_on_the_form(
    alice_client, settings, chosen
):
    # The account default is the opposite of what the form says.
    other = Visibility.SHARED if chosen == Visibility.PRIVATE else Visibility.PRIVATE
    settings.STUDIO_DEFAULT_VISIBILITY = other
    image = pick(alice_client, png())
    assert _post_edit(alice_client, image_ids=[image.pk], visibility=chosen).status_code == 200
    image.refresh_from_db()
    job = Job.objects.get()
    assert job.visibility == chosen and image.visibility == chosen
    assert image.pending_since is None


def test_an_edit_by_staff_leaves_someone_elses_picked_file_as_it_was(client, alice, staff_user):
    client.force_login(alice)
    image = pick(client, png())
    client.force_login(staff_user)
    assert _post_edit(client, image_ids=[image.pk], visibility="shared").status_code == 200
    image.refresh_from_db()
    assert image.visibility == Visibility.PRIVATE and image.pending_since is not None


def test_picked_files_never_submitted_are_deleted_after_a_day_with_their_files(
    alice_client, alice, bob
):
    old, recent, shared_bytes = pick(alice_client, png(1)), pick(alice_client, png(2)), png(3)
    old = finished(old)  # the worker made its thumbnails: they go too
    shared = pick(alice_client, shared_bytes)
    # Bob stored the same bytes himself: the file stays for him.
    bobs = uploads.store_upload(owner=bob, upload=uploads.check(shared_bytes))
    day_ago = timezone.now() - timedelta(hours=25)
    Image.objects.filter(pk__in=[old.pk, shared.pk]).update(pending_since=day_ago)
    out = io.StringIO()
    call_command("delete_pending_uploads", stdout=out)
    assert "Deleted 2 pending uploads" in out.getvalue()
    assert set(Image.objects.values_list("pk", flat=True)) == {recent.pk, bobs.pk}
    assert not default_storage.exists(old.file.name)
    assert not default_storage.exists(old.thumbnail.name)
    assert media.read(bobs.file.name) == shared_bytes
    assert media.read(recent.file.name) == png(2)


def test_a_submitted_pick_is_never_deleted(alice_client):
    image = pick(alice_client, png())
    _post_edit(alice_client, image_ids=[image.pk])
    Image.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(days=3))
    call_command("delete_pending_uploads", stdout=io.StringIO())
    assert Image.objects.filter(pk=image.pk).exists()


def test_the_live_estimate_is_a_post_and_takes_a_long_prompt(alice_client):
    url = reverse("gallery:estimate")
    assert alice_client.get(url, {"prompt": "a secret plan", "n": "1"}).status_code == 405
    response = alice_client.post(url, {"prompt": "a secret plan " * 2000, "n": "1"})
    assert response.status_code == 200 and "Estimated" in response.content.decode()
    page = alice_client.get(reverse("gallery:create")).content.decode()
    assert f'hx-post="{url}"' in page and f'hx-get="{url}"' not in page
