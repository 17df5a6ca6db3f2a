"""Shared and private jobs and images: who sees what, and who may change it."""

import io

import pytest
from django.http import Http404
from django.urls import reverse
from PIL import Image as PILImage

from gallery import access, accounts, jobs
from gallery.models import Image, Job, Profile, Visibility
from gallery.provenance import verification

pytestmark = pytest.mark.django_db


def png(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


def upload(owner, visibility, colour=(200, 30, 30)) -> Image:
    return verification.add_to_gallery(owner=owner, data=png(colour), visibility=visibility)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("stella", password="x", is_staff=True)


@pytest.fixture
def alices(alice):
    """One shared and one private image of Alice's."""
    return {
        "shared": upload(alice, Visibility.SHARED, (10, 200, 10)),
        "private": upload(alice, Visibility.PRIVATE, (10, 10, 200)),
    }


def test_visible_images_are_shared_and_own_staff_all_anonymous_none(
    alice, bob, staff, alices, django_user_model
):
    from django.contrib.auth.models import AnonymousUser

    shared, private = alices["shared"], alices["private"]
    assert set(access.visible_images(alice)) == {shared, private}
    assert set(access.visible_images(bob)) == {shared}
    assert set(access.visible_images(staff)) == {shared, private}
    assert list(access.visible_images(AnonymousUser())) == []


def test_viewer_and_owner_lookups_answer_404_not_403(alice, bob, staff, alices):
    shared, private = alices["shared"], alices["private"]
    assert access.image_for_viewer(bob, shared.pk) == shared
    with pytest.raises(Http404):
        access.image_for_viewer(bob, private.pk)
    with pytest.raises(Http404):
        access.image_for_owner(bob, shared.pk)
    assert access.image_for_owner(alice, private.pk) == private
    assert access.image_for_owner(staff, private.pk) == private
    with pytest.raises(Http404):
        access.image_for_viewer(alice, "not-a-number")


def test_new_jobs_follow_the_persons_preference_then_the_site_default(alice, settings):
    settings.STUDIO_DEFAULT_VISIBILITY = "private"
    job = jobs.create_job(owner=alice, prompt="p", model="gpt-image-1")
    assert job.visibility == Visibility.PRIVATE
    accounts.set_default_visibility(user=alice, visibility=Visibility.SHARED)
    assert jobs.create_job(owner=alice, prompt="p", model="gpt-image-1").visibility == "shared"
    chosen = jobs.create_job(owner=alice, prompt="p", model="gpt-image-1", visibility="private")
    assert chosen.visibility == "private"
    assert Profile.objects.filter(user=alice).count() == 1  # made when she chose, not before


def test_images_take_the_jobs_visibility_even_when_changed_while_running(alice, standin):
    job = jobs.create_job(owner=alice, prompt="a fox", model="gpt-image-1", n=2)
    claimed = jobs.claim_job(job.pk)
    access.set_visibility(target=job, visibility=Visibility.PRIVATE)
    jobs.run_job(claimed)  # the claimed copy still says "shared"
    assert set(job.images.values_list("visibility", flat=True)) == {"private"}


def test_changing_a_jobs_visibility_changes_its_images(alice, standin):
    job = jobs.create_job(owner=alice, prompt="a fox", model="gpt-image-1", n=2)
    jobs.run_job(jobs.claim_job(job.pk))
    access.set_visibility(target=job, visibility=Visibility.PRIVATE)
    assert Job.objects.get(pk=job.pk).visibility == "private"
    assert set(job.images.values_list("visibility", flat=True)) == {"private"}


def test_bob_never_sees_alices_private_image_anywhere(client, alice, bob, alices, standin):
    private, shared = alices["private"], alices["shared"]
    client.force_login(bob)
    gallery = client.get(reverse("gallery:gallery"), {"kind": "all"}).content.decode()
    assert reverse("gallery:image-detail", args=[shared.pk]) in gallery
    assert reverse("gallery:image-detail", args=[private.pk]) not in gallery
    for name, args in (
        ("gallery:image-detail", [private.pk]),
        ("gallery:image-original", [private.pk]),
        ("gallery:image-thumbnail", [private.pk, 512]),
        ("gallery:image-thumbnail", [private.pk, 256]),
        ("gallery:image-manifest", [private.pk]),
        ("gallery:image-ingredient-thumbnail", [private.pk, "0"]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client.get(reverse("gallery:image-detail", args=[shared.pk])).status_code == 200
    assert client.get(reverse("gallery:image-original", args=[shared.pk])).status_code == 200


def test_private_job_page_and_remix_are_hidden_from_others(client, alice, bob, standin):
    job = jobs.create_job(
        owner=alice, prompt="secret lighthouse", model="gpt-image-1", visibility="private"
    )
    jobs.run_job(jobs.claim_job(job.pk))
    image = job.images.get()
    client.force_login(bob)
    assert client.get(reverse("gallery:job-detail", args=[job.pk])).status_code == 404
    page = client.get(reverse("gallery:create"), {"remix": image.pk}).content.decode()
    assert "secret lighthouse" not in page
    client.force_login(alice)
    assert client.get(reverse("gallery:job-detail", args=[job.pk])).status_code == 200
    page = client.get(reverse("gallery:create"), {"remix": image.pk}).content.decode()
    assert "secret lighthouse" in page


def test_an_image_made_private_alone_leaves_the_shared_job_page(client, alice, bob, standin):
    job = jobs.create_job(owner=alice, prompt="two foxes", model="gpt-image-1", n=2)
    jobs.run_job(jobs.claim_job(job.pk))
    hidden, kept = job.images.order_by("index")
    access.set_visibility(target=hidden, visibility=Visibility.PRIVATE)
    client.force_login(bob)
    page = client.get(reverse("gallery:job-detail", args=[job.pk])).content.decode()
    assert reverse("gallery:image-detail", args=[kept.pk]) in page
    assert reverse("gallery:image-detail", args=[hidden.pk]) not in page


def test_owner_changes_an_images_visibility_with_a_post(client, alice, alices):
    shared = alices["shared"]
    client.force_login(alice)
    url = reverse("gallery:image-visibility", args=[shared.pk])
    response = client.post(url, {"visibility": "private"})
    assert response.status_code == 302 and response["Location"] == shared.get_absolute_url()
    assert Image.objects.get(pk=shared.pk).visibility == "private"
    htmx = client.post(url, {"visibility": "shared"}, HTTP_HX_REQUEST="true")
    assert "Saved." in htmx.content.decode() and "Make private" in htmx.content.decode()
    assert Image.objects.get(pk=shared.pk).visibility == "shared"
    assert client.post(url, {"visibility": "public"}).status_code == 400
    assert Image.objects.get(pk=shared.pk).visibility == "shared"


def test_others_changing_visibility_get_404_and_change_nothing(client, bob, alices, staff):
    shared = alices["shared"]
    client.force_login(bob)
    url = reverse("gallery:image-visibility", args=[shared.pk])
    assert client.post(url, {"visibility": "private"}).status_code == 404
    assert Image.objects.get(pk=shared.pk).visibility == "shared"
    page = client.get(shared.get_absolute_url()).content.decode()
    assert "Make private" not in page
    client.force_login(staff)
    assert client.post(url, {"visibility": "private"}).status_code == 302
    assert Image.objects.get(pk=shared.pk).visibility == "private"


def test_job_page_changes_the_job_and_all_its_images(client, alice, standin):
    job = jobs.create_job(owner=alice, prompt="a fox", model="gpt-image-1", n=2)
    jobs.run_job(jobs.claim_job(job.pk))
    client.force_login(alice)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Make private" in page
    client.post(reverse("gallery:job-visibility", args=[job.pk]), {"visibility": "private"})
    assert set(job.images.values_list("visibility", flat=True)) == {"private"}


def test_settings_page_sets_the_default_the_create_form_starts_with(client, alice):
    client.force_login(alice)
    page = client.get(reverse("account-settings")).content.decode()
    assert 'value="shared" id="id_default_visibility_0" required checked' in page
    response = client.post(reverse("account-settings"), {"default_visibility": "private"})
    assert response.status_code == 200 and "Saved." in response.content.decode()
    assert Profile.default_visibility_for(alice) == "private"
    form = client.get(reverse("gallery:create")).content.decode()
    assert '<option value="private" selected>' in form
    bad = client.post(reverse("account-settings"), {"default_visibility": "everyone"})
    assert bad.status_code == 400 and Profile.default_visibility_for(alice) == "private"


def test_create_form_visibility_choice_is_stored(client, alice, django_capture_on_commit_callbacks):
    from tests.unit.test_views import GOOD

    client.force_login(alice)
    with django_capture_on_commit_callbacks():
        client.post(reverse("gallery:create"), {**GOOD, "visibility": "private"})
    assert Job.objects.get().visibility == "private"


def test_verify_add_to_gallery_offers_the_visibility_defaulting_to_the_preference(client, alice):
    accounts.set_default_visibility(user=alice, visibility=Visibility.PRIVATE)
    client.force_login(alice)
    page = client.post(reverse("gallery:verify"), {"file": io.BytesIO(png())}).content.decode()
    assert '<option value="private" selected>' in page
    token = page.split('name="token" value="')[1].split('"')[0]
    client.post(reverse("gallery:verify-add"), {"token": token, "visibility": "shared"})
    assert Image.objects.get().visibility == "shared"
    page = client.post(reverse("gallery:verify"), {"file": io.BytesIO(png((1, 2, 3)))})
    token = page.content.decode().split('name="token" value="')[1].split('"')[0]
    client.post(reverse("gallery:verify-add"), {"token": token})
    assert Image.objects.latest("id").visibility == "private"
