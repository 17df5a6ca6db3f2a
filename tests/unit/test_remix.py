""" "Use these settings": an edit's result opens the edit page with its inputs, mask and
options (only what the viewer may see, saying what is left out); composites are inputs like
any image; the create form keeps the chosen Previews value."""

import io
import re

import PIL.Image
import pytest
from django.test import Client
from django.urls import reverse

from gallery import jobs, media
from gallery.jobs import edits, uploads
from gallery.models import Image, Job

pytestmark = pytest.mark.django_db

EDIT = reverse("gallery:edit")


def png(colour=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def mask_png(box=(0, 0, 32, 48)) -> bytes:
    mask = PIL.Image.new("RGBA", (64, 48), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def upload(owner, colour, visibility="shared") -> Image:
    checked = uploads.check(png(colour), name="photo.png")
    return uploads.store_upload(owner=owner, upload=checked, visibility=visibility)


def finished_edit(owner, images, **options) -> Job:
    job = edits.create_edit_job(owner=owner, model="gpt-image-1", images=images, **options)
    assert jobs.run_job(jobs.claim_job(job.pk)) is None
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def inputs_on(page: str) -> list[int]:
    found = re.findall(r'<input type="hidden" name="image_ids" value="(\d+)">', page)
    return [int(pk) for pk in found]


@pytest.fixture
def edit_job(alice, standin):
    first, second = upload(alice, (200, 30, 30)), upload(alice, (0, 200, 0))
    return finished_edit(
        alice,
        [first, second],
        prompt="a red boat at dawn",
        mask=mask_png(),
        keep_unmasked=True,
        size="1024x1024",
        quality="high",
        output_format="webp",
        output_compression=60,
        input_fidelity="high",
        n=1,
    )


def test_use_these_settings_on_an_edit_opens_the_edit_page(alice_client, edit_job):
    output = edit_job.images.get(source=Image.Source.EDITED)
    page = alice_client.get(output.get_absolute_url()).content.decode()
    assert f'href="{EDIT}?remix={output.pk}">Use these settings</a>' in page


def test_the_edit_page_restores_inputs_mask_and_options(alice_client, edit_job):
    output = edit_job.images.get(source=Image.Source.EDITED)
    page = alice_client.get(EDIT, {"remix": output.pk}).content.decode()
    first, second = edit_job.inputs.order_by("position").values_list("image_id", flat=True)
    assert inputs_on(page) == [first, second]
    assert f'data-layers-for="{first}"' in page
    assert f'data-mask-url="{reverse("gallery:job-mask", args=[edit_job.pk])}"' in page
    assert "a red boat at dawn</textarea>" in page
    assert '<option value="gpt-image-1" selected>' in page
    assert '<option value="high" selected>' in page  # quality and input fidelity
    assert '<option value="webp" selected>' in page and 'value="60"' in page
    assert re.search(r'<input type="checkbox" name="keep_unmasked"[^>]* checked', page)
    assert f"edit job {edit_job.pk}</a> are filled in: its images, mask and options" in page


def test_the_mask_is_served_exactly_as_it_was_sent(alice_client, edit_job):
    response = alice_client.get(reverse("gallery:job-mask", args=[edit_job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == media.read(edit_job.mask.name)
    markup = alice_client.get(reverse("gallery:job-markup", args=[edit_job.pk]))
    assert markup.status_code == 404  # this edit had none


def test_inputs_the_viewer_may_not_see_are_left_out_and_said(client, alice, bob, standin):
    hidden = upload(alice, (10, 10, 10), visibility="private")
    shown = upload(alice, (0, 0, 200))
    job = finished_edit(alice, [hidden, shown], prompt="a lantern", mask=mask_png())
    output = job.images.get()
    Image.objects.filter(pk=output.pk).update(visibility="shared")
    client.force_login(bob)
    page = client.get(EDIT, {"remix": output.pk}).content.decode()
    assert inputs_on(page) == [shown.pk]
    assert "Image 1 of that edit is gone or not visible to you, so it is left out." in page
    assert "The mask was drawn over image 1, so it is not restored." in page
    assert "data-mask-url" not in page and "a lantern</textarea>" in page
    # Alice, who may see both, gets both and the mask.
    own = Client()
    own.force_login(alice)
    page = own.get(EDIT, {"remix": output.pk}).content.decode()
    assert inputs_on(page) == [hidden.pk, shown.pk] and "data-mask-url" in page


def test_a_private_edit_is_not_remixed_for_someone_else(client, alice, bob, edit_job):
    Job.objects.filter(pk=edit_job.pk).update(visibility="private")
    output = edit_job.images.get(source=Image.Source.EDITED)
    Image.objects.filter(pk=output.pk).update(visibility="shared")
    client.force_login(bob)
    page = client.get(EDIT, {"remix": output.pk}).content.decode()
    assert inputs_on(page) == [] and "a red boat at dawn" not in page
    assert client.get(reverse("gallery:job-mask", args=[edit_job.pk])).status_code == 404


def test_composites_can_be_picked_as_edit_inputs(alice_client, edit_job):
    composite = edit_job.images.get(source=Image.Source.COMPOSITE)
    page = alice_client.get(EDIT).content.decode()
    assert f'class="pick" data-id="{composite.pk}"' in page
    response = alice_client.post(
        EDIT,
        {
            "prompt": "now at night",
            "model": "gpt-image-1",
            "n": "1",
            "size": "1024x1024",
            "quality": "low",
            "background": "auto",
            "output_format": "png",
            "image_ids": composite.pk,
        },
    )
    assert response.status_code == 302
    job = Job.objects.latest("pk")
    assert list(job.inputs.values_list("image_id", flat=True)) == [composite.pk]


@pytest.mark.parametrize("previews", [0, 3])
def test_remixing_a_generation_keeps_its_previews(alice_client, alice, standin, previews):
    job = jobs.create_job(
        owner=alice, prompt="a kite", model="gpt-image-1", quality="low", partial_images=previews
    )
    assert jobs.run_job(jobs.claim_job(job.pk)) is None
    image = job.images.first()
    page = alice_client.get(reverse("gallery:create"), {"remix": image.pk}).content.decode()
    field = re.search(r'<input type="number" name="partial_images"[^>]*>', page).group(0)
    assert f'value="{previews}"' in field
