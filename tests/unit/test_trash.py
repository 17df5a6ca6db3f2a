"""Deleting (issue 18, item 1): the trash hides an image everywhere, Undo and Restore bring it
back, deleting forever (by hand, or after 30 days) removes its files from storage but keeps
its row for the lineage of others, and spending stays true."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from gallery import browse, media, trash
from gallery.jobs import spending
from gallery.models import Board, BoardImage, Favourite, Image, ImageParent, Job, Visibility
from gallery.provenance import manifests

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("sam", password="x", is_staff=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def png(shade: int) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (shade, 90, 150)).save(buffer, "PNG")
    return buffer.getvalue()


def finished_job(owner, prompt="a red fox in snow", cost="0.040000", **fields) -> Job:
    fields.setdefault("status", Job.Status.SUCCEEDED)
    return Job.objects.create(
        owner=owner,
        prompt=prompt,
        model="gpt-image-1",
        params={"n": 1, "size": "1024x1024", "quality": "low"},
        cost_usd=Decimal(cost),
        finished_at=timezone.now(),
        **fields,
    )


def output(owner, shade=1, *, job=None, index=0, visibility=Visibility.SHARED) -> Image:
    job = job or finished_job(owner)
    stored = media.store_output(png(shade))
    return Image.objects.create(
        owner=owner,
        job=job,
        index=index,
        **stored.image_fields(),
        prompt=job.prompt,
        model=job.model,
        visibility=visibility,
        cost_usd=Decimal("0.04"),
    )


def files_of(image: Image) -> list[str]:
    return [image.file.name, image.thumbnail.name, image.thumbnail_small.name]


def gallery_ids(user, **query) -> list[int]:
    return [tile.pk for tile in browse.browse(user, query).images]


def test_a_deleted_image_is_gone_from_gallery_search_boards_and_its_pages(alice, bob):
    image = output(alice)
    kept = output(alice, shade=2)
    board = Board.objects.create(owner=alice, name="Foxes")
    BoardImage.objects.create(board=board, image=image)
    response = client_for(alice).post(reverse("gallery:image-delete", args=[image.pk]))
    assert response.status_code == 302
    assert gallery_ids(bob) == [kept.pk]
    assert gallery_ids(alice, q="fox") == [kept.pk]
    assert gallery_ids(alice, board=str(board.pk)) == []
    for name in ("gallery:image-detail", "gallery:image-original", "gallery:image-lineage"):
        assert client_for(bob).get(reverse(name, args=[image.pk])).status_code == 404
        assert client_for(alice).get(reverse(name, args=[image.pk])).status_code == 404
    # Its owner finds it in the trash, with its thumbnail.
    page = client_for(alice).get(reverse("gallery:trash"))
    assert f'value="{image.pk}"'.encode() in page.content
    thumb = client_for(alice).get(reverse("gallery:trash-thumbnail", args=[image.pk]))
    assert thumb.status_code == 200
    assert (
        client_for(bob).get(reverse("gallery:trash-thumbnail", args=[image.pk])).status_code == 404
    )


def test_the_next_page_offers_undo_and_undo_brings_the_image_back(alice):
    image = output(alice)
    client = client_for(alice)
    detail = reverse("gallery:image-detail", args=[image.pk])
    response = client.post(reverse("gallery:image-delete", args=[image.pk]), {"next": detail})
    # The image's own page is gone, so the gallery is shown, with the Undo toast once.
    assert response["Location"] == reverse("gallery:gallery")
    page = client.get(response["Location"]).content.decode()
    assert "moved to the trash" in page and ">Undo</button>" in page
    assert ">Undo</button>" not in client.get(reverse("gallery:gallery")).content.decode()
    restored = client.post(reverse("gallery:trash-restore"), {"image": image.pk, "next": detail})
    assert restored["Location"] == detail
    assert client.get(detail).status_code == 200
    assert gallery_ids(alice) == [image.pk]


def test_deleting_forever_removes_the_files_but_keeps_the_chain_of_others(alice, bob):
    parent = output(alice, shade=3)
    child = output(bob, shade=4)  # Bob's edit of Alice's image
    ImageParent.objects.create(child=child, parent=parent, role=ImageParent.Role.INPUT)
    names = files_of(parent)
    assert all(default_storage.exists(name) for name in names)
    client = client_for(alice)
    client.post(reverse("gallery:image-delete", args=[parent.pk]))
    # In the trash the files stay (it can be restored) ...
    assert all(default_storage.exists(name) for name in names)
    lineage = client_for(bob).get(reverse("gallery:image-detail", args=[child.pk]))
    assert "a deleted image" in lineage.content.decode()
    # ... deleting forever removes them, and empties the row.
    response = client.post(reverse("gallery:trash-delete"), {"image": parent.pk})
    assert response.status_code == 302
    assert not any(default_storage.exists(name) for name in names)
    parent.refresh_from_db()
    assert parent.purged_at is not None and parent.prompt == "" and parent.file.name == ""
    # Bob's image and its link to where it came from are untouched.
    assert ImageParent.objects.filter(child=child, parent=parent).exists()
    page = client_for(bob).get(reverse("gallery:image-lineage", args=[child.pk]))
    assert page.status_code == 200 and "a deleted image" in page.content.decode()
    # Gone for good: it cannot be restored.
    assert client.post(reverse("gallery:trash-restore"), {"image": parent.pk}).status_code == 404


def test_deleting_forever_removes_the_extracted_ingredient_thumbnails(alice):
    image = output(alice, shade=5)
    index_name = f"{manifests.THUMBNAIL_FOLDER}/{image.sha256[:2]}/{image.sha256}.json"
    blob = media.store_derived(b"thumb", folder=manifests.THUMBNAIL_FOLDER, extension="bin")
    media.store_derived_as(index_name, f'{{"0": ["{blob}", "image/jpeg"]}}'.encode())
    trash.trash_images([image.pk])
    trash.delete_forever([image.pk])
    assert not default_storage.exists(index_name)
    assert not default_storage.exists(blob)
    assert cache.get(f"c2pa-thumbnails:v1:{image.sha256}") is None


def test_files_another_image_still_uses_stay(alice, bob):
    mine = output(alice, shade=6)
    theirs = output(bob, shade=6)  # the same bytes: the same content-addressed files
    assert files_of(mine) == files_of(theirs)
    trash.trash_images([mine.pk])
    trash.delete_forever([mine.pk])
    assert all(default_storage.exists(name) for name in files_of(theirs))
    assert (
        client_for(bob).get(reverse("gallery:image-original", args=[theirs.pk])).status_code == 200
    )


def test_empty_trash_deletes_forever_only_what_waited_thirty_days(alice):
    old, recent = output(alice, shade=7), output(alice, shade=8)
    trash.trash_images([old.pk, recent.pk])
    Image.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    out = io.StringIO()
    call_command("empty_trash", stdout=out)
    assert "Deleted 1 images forever" in out.getvalue()
    assert not default_storage.exists(old.file.name)
    assert all(default_storage.exists(name) for name in files_of(recent))
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.purged_at is not None and recent.purged_at is None


def test_the_hourly_tidy_up_of_every_worker_empties_the_trash(alice):
    from gallery.worker import Heartbeat

    image = output(alice, shade=9)
    trash.trash_images([image.pk])
    Image.objects.filter(pk=image.pk).update(trashed_at=timezone.now() - timedelta(days=40))
    Heartbeat.tidy(None)
    assert not default_storage.exists(image.file.name)


def test_deleting_a_job_trashes_its_images_and_its_cost_still_counts(alice, settings):
    job = finished_job(alice, cost="0.080000")
    images = [output(alice, shade=10 + i, job=job, index=i) for i in range(2)]
    spent_before = spending.per_person(spending.jobs_for(alice))
    response = client_for(alice).post(reverse("gallery:job-delete", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.trashed_at is not None
    assert all(Image.objects.get(pk=i.pk).trashed_at is not None for i in images)
    assert client_for(alice).get(job.get_absolute_url()).status_code == 404
    assert spending.per_person(spending.jobs_for(alice)) == spent_before
    # Restoring the job restores its images.
    client_for(alice).post(reverse("gallery:trash-restore"), {"job": job.pk})
    assert sorted(gallery_ids(alice)) == sorted(i.pk for i in images)


def test_a_job_still_running_is_not_deleted_and_the_person_is_told_why(alice):
    job = finished_job(alice, status=Job.Status.RUNNING)
    client = client_for(alice)
    response = client.post(reverse("gallery:job-delete", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.trashed_at is None
    assert "Cancel it first" in client.get(response["Location"]).content.decode()


def test_staff_may_delete_anyones_image_and_others_may_not(alice, bob, staff_user):
    image = output(alice)
    url = reverse("gallery:image-delete", args=[image.pk])
    assert client_for(bob).post(url).status_code == 404
    assert Image.objects.get(pk=image.pk).trashed_at is None
    assert client_for(staff_user).post(url).status_code == 302
    assert Image.objects.get(pk=image.pk).trashed_at is not None
    # It is in Alice's trash, and only she (or staff) may restore it.
    assert (
        client_for(bob).post(reverse("gallery:trash-restore"), {"image": image.pk}).status_code
        == 404
    )
    assert (
        client_for(alice).post(reverse("gallery:trash-restore"), {"image": image.pk}).status_code
        == 302
    )


def test_stars_and_board_entries_of_an_image_deleted_forever_go_with_it(alice, bob):
    image = output(alice)
    board = Board.objects.create(owner=bob, name="Bob's", cover=image)
    BoardImage.objects.create(board=board, image=image)
    Favourite.objects.create(user=bob, image=image)
    trash.trash_images([image.pk])
    trash.delete_forever([image.pk])
    assert not BoardImage.objects.filter(image=image).exists()
    assert not Favourite.objects.filter(image=image).exists()
    assert Board.objects.get(pk=board.pk).cover_id is None


def test_what_was_derived_from_an_image_deleted_forever_goes_with_it(alice):
    from gallery.browse import features
    from gallery.models import PerceptualHash, PromptEmbedding

    image = output(alice, shade=13)
    features.describe([image.pk])
    assert PromptEmbedding.objects.filter(image=image).exists()
    assert PerceptualHash.objects.filter(image=image).exists()
    trash.trash_images([image.pk])
    trash.delete_forever([image.pk])
    assert not PromptEmbedding.objects.filter(image=image).exists()
    assert not PerceptualHash.objects.filter(image=image).exists()
    features.describe([image.pk])  # a late task does not describe it again
    assert not PromptEmbedding.objects.filter(image=image).exists()


def test_the_same_file_uploaded_after_deleting_it_is_a_new_image(alice):
    from gallery.jobs import uploads

    data = png(11)
    first = uploads.store_unprocessed(owner=alice, data=data)
    trash.trash_images([first.pk])
    again = uploads.store_upload(owner=alice, upload=uploads.check(data))
    assert again.pk != first.pk and again.file.name == first.file.name
    trash.delete_forever([first.pk])
    assert default_storage.exists(again.file.name)


def test_an_edit_whose_input_was_deleted_is_not_retried_and_says_why(alice, bob):
    from gallery.models import JobInput

    source = output(alice, shade=12)
    edit = finished_job(bob, kind=Job.Kind.EDIT, status=Job.Status.FAILED)
    JobInput.objects.create(job=edit, position=0, image=source)
    trash.trash_images([source.pk])
    response = client_for(bob).post(reverse("gallery:job-retry", args=[edit.pk]))
    assert response.status_code == 400
    assert "input image of this edit has been deleted" in response.content.decode()
    assert Job.objects.count() == 2  # the source's job and the edit: no retry stored


def test_a_job_deleted_forever_leaves_the_trash_page_and_cannot_be_restored(alice):
    job = finished_job(alice, status=Job.Status.FAILED)
    client = client_for(alice)
    client.post(reverse("gallery:job-delete", args=[job.pk]))
    assert f"Job {job.pk}</strong>" in client.get(reverse("gallery:trash")).content.decode()
    client.post(reverse("gallery:trash-delete"), {"job": job.pk})
    assert f"Job {job.pk}</strong>" not in client.get(reverse("gallery:trash")).content.decode()
    assert client.post(reverse("gallery:trash-restore"), {"job": job.pk}).status_code == 404
    assert spending.per_person(spending.jobs_for(alice))  # what it cost still counts
