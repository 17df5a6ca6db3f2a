"""Edits: uploads checked by content, edit jobs through the real stand-in API, masks,
"keep unmasked pixels" composites, lineage and the pages that show them."""

import io

import PIL.Image
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from gallery import jobs, media, provenance
from gallery.jobs import edits, uploads
from gallery.models import Image, Job, JobInput
from tests.helpers import finished

pytestmark = pytest.mark.django_db


def png(width=64, height=48, colour=(200, 30, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    PIL.Image.new(mode, (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(width=64, height=48, orientation=None) -> bytes:
    out = io.BytesIO()
    image = PIL.Image.new("RGB", (width, height), (20, 120, 220))
    exif = PIL.Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def mask_png(width=64, height=48, box=(0, 0, 32, 48)) -> bytes:
    """Opaque everywhere except `box`, which is transparent (editable)."""
    mask = PIL.Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def upload(owner, data=None, name="photo.png", visibility=None) -> Image:
    checked = uploads.check(data or png(), name=name)
    return uploads.store_upload(owner=owner, upload=checked, visibility=visibility)


def run(job: Job) -> Job:
    job = jobs.claim_job(job.pk)
    assert jobs.run_job(job) is None
    return Job.objects.get(pk=job.pk)


# --- uploads -------------------------------------------------------------------------------


def test_upload_stores_original_bytes_exactly_once(alice):
    data = jpeg()
    first = upload(alice, data, "a.jpg")
    again = upload(alice, data, "b.jpg")
    assert first.pk == again.pk
    assert first.source == Image.Source.UPLOAD
    assert first.file.read() == data
    assert first.provenance_state == Image.Provenance.PENDING
    assert finished(first).provenance_state == Image.Provenance.NONE


def test_upload_with_exif_rotation_is_sent_upright_and_stored_as_received(alice):
    data = jpeg(64, 48, orientation=6)
    checked = uploads.check(data, name="rotated.jpg")
    assert (checked.width, checked.height) == (48, 64)
    image = upload(alice, data, "rotated.jpg")
    assert image.file.read() == data
    sent, content_type = uploads.for_api(data, "image/jpeg")
    assert content_type == "image/png"
    assert PIL.Image.open(io.BytesIO(sent)).size == (48, 64)


def test_upload_without_rotation_is_sent_as_is():
    data = png()
    assert uploads.for_api(data, "image/png") == (data, "image/png")


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def _bmp() -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", (8, 8)).save(out, "BMP")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "declared", "message"),
    [
        (SVG, "image/svg+xml", "SVG images are not supported"),
        (png()[:60], "image/png", "not a readable PNG, JPEG or WebP"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40, "image/heic", "HEIC images are not supported"),
        (_bmp(), "image/bmp", "BMP images are not supported"),
        (b"hello", "text/plain", "not a readable PNG, JPEG or WebP"),
        (b"", "image/png", "the file is empty"),
        (jpeg(), "image/png", "says it is PNG but its content is JPEG"),
    ],
    ids=["svg", "truncated", "heic", "bmp", "text", "empty", "wrong-declared-type"],
)
def test_bad_uploads_are_refused_with_a_clear_message(data, declared, message):
    with pytest.raises(uploads.UploadRefused, match=message):
        uploads.check(data, name="x", declared_type=declared)


def test_upload_over_the_byte_limit_is_refused(settings):
    settings.STUDIO_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(uploads.UploadRefused, match="the limit is 0 MB|limit is"):
        uploads.check(b"\x89PNG" + b"\x00" * 2000, name="big.png")


def test_upload_over_the_pixel_limit_is_refused(settings):
    settings.STUDIO_UPLOAD_MAX_PIXELS = 1000
    with pytest.raises(uploads.UploadRefused, match="pixels"):
        uploads.check(png(100, 100), name="wide.png")


# --- service -------------------------------------------------------------------------------


def test_edit_with_mask_changes_only_the_masked_area_and_records_lineage(alice, standin):
    first, second = upload(alice, png(64, 48)), upload(alice, png(32, 32, (0, 200, 0)))
    job = edits.create_edit_job(
        owner=alice,
        prompt="a red boat",
        model="gpt-image-1",
        images=[first, second],
        mask=mask_png(),
        size="1024x1024",
        quality="low",
    )
    assert list(job.inputs.values_list("image_id", flat=True)) == [first.pk, second.pk]
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    output = job.images.get()
    assert output.source == Image.Source.EDITED
    assert output.prompt == "a red boat"
    assert output.ai_generated
    links = list(output.parent_links.order_by("position").values_list("parent_id", "role"))
    assert links == [(first.pk, "masked_input"), (second.pk, "input")]
    # The stand-in changes only the transparent (left) half of the mask.
    picture = PIL.Image.open(output.file).convert("RGB")
    assert picture.getpixel((1000, 500)) == (200, 30, 30)
    assert picture.getpixel((100, 500)) != (200, 30, 30)


def test_keep_unmasked_composite_is_identical_outside_the_mask_and_signed(alice, standin):
    original = png(64, 48, (10, 90, 160))
    first = upload(alice, original)
    job = edits.create_edit_job(
        owner=alice,
        prompt="a storm",
        model="gpt-image-1",
        images=[first],
        mask=mask_png(box=(10, 10, 30, 30)),
        keep_unmasked=True,
        size="1024x1024",
        quality="low",
    )
    job = run(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    output = job.images.get(source=Image.Source.EDITED)
    composite = job.images.get(source=Image.Source.COMPOSITE)
    assert composite.cost_usd == 0 and output.cost_usd == job.cost_usd
    assert (composite.width, composite.height) == (64, 48)
    before = PIL.Image.open(io.BytesIO(original)).convert("RGB")
    after = PIL.Image.open(composite.file).convert("RGB")
    outside = [(x, y) for x in range(64) for y in range(48) if not (10 <= x < 30 and 10 <= y < 30)]
    assert all(before.getpixel(p) == after.getpixel(p) for p in outside)
    assert any(
        before.getpixel((x, y)) != after.getpixel((x, y))
        for x in range(10, 30)
        for y in range(10, 30)
    )
    roles = dict(composite.parent_links.values_list("role", "parent_id"))
    assert roles == {"edit": output.pk, "original": first.pk}
    summary = provenance.read(media.read(composite.file.name), mime="image/png").summary
    assert summary["state"] == "valid"
    edited = next(a for a in summary["actions"] if a["action"] == "c2pa.edited")
    assert edited["software_agent"].startswith("Studio")
    assert summary["ai_generated"], "the stand-in's manifest travels along as the parent"
    relationships = [i["relationship"] for i in summary["ingredients"] if i["depth"] == 1]
    assert relationships == ["parentOf", "componentOf"]
    assert "c2pa.placed" in [action["action"] for action in summary["actions"]]


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (jpeg(64, 48), "must be a PNG"),
        (png(64, 48), "no alpha channel"),
        (mask_png(32, 32, (0, 0, 8, 8)), "mask is 32x32 but the first image is 64x48"),
        (b"junk", "not a readable PNG"),
        (mask_png()[:80], "damaged or truncated"),
    ],
    ids=["jpeg", "no-alpha", "wrong-size", "junk", "truncated"],
)
def test_bad_masks_are_refused_before_anything_is_stored(alice, mask, message):
    first = upload(alice)
    with pytest.raises(edits.EditRefused, match=message):
        edits.create_edit_job(
            owner=alice, prompt="x", model="gpt-image-1", images=[first], mask=mask
        )
    assert not Job.objects.exists()


def test_seventeen_images_are_refused(alice):
    images = [upload(alice, png(8, 8, (i, i, i))) for i in range(17)]
    with pytest.raises(edits.EditRefused, match="at most 16 images; you added 17"):
        edits.create_edit_job(owner=alice, prompt="x", model="gpt-image-1", images=images)
    assert not Job.objects.exists() and not JobInput.objects.exists()


def test_input_fidelity_is_refused_for_a_model_without_it(alice):
    with pytest.raises(edits.EditRefused, match="no input fidelity"):
        edits.create_edit_job(
            owner=alice,
            prompt="x",
            model="gpt-image-2",
            images=[upload(alice)],
            input_fidelity="high",
        )


def test_keep_unmasked_needs_a_mask(alice):
    with pytest.raises(edits.EditRefused, match="needs a mask"):
        edits.create_edit_job(
            owner=alice, prompt="x", model="gpt-image-1", images=[upload(alice)], keep_unmasked=True
        )


# --- views ---------------------------------------------------------------------------------


def test_edit_page_prefills_the_image_and_offers_the_mask_painter(alice_client, alice):
    image = upload(alice)
    response = alice_client.get(reverse("gallery:edit") + f"?image={image.pk}&model=gpt-image-1")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'name="image_ids" value="{image.pk}"' in body
    assert 'id="mask-canvas"' in body and "treats the mask as guidance" in body
    assert 'name="input_fidelity"' in body  # gpt-image-1 has it


def test_model_without_input_fidelity_drops_the_option(alice_client):
    response = alice_client.get(
        reverse("gallery:edit") + "?model=gpt-image-2",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="edit-options",
    )
    assert response.status_code == 200
    assert 'name="input_fidelity"' not in response.content.decode()


def test_upload_endpoint_stores_a_good_file_and_refuses_svg(alice_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = SimpleUploadedFile("a.png", png(), content_type="image/png")
    response = alice_client.post(reverse("gallery:edit-upload"), {"file": good})
    assert response.status_code == 200
    assert Image.objects.get(pk=response.json()["id"]).source == Image.Source.UPLOAD
    svg = SimpleUploadedFile("x.svg", SVG, content_type="image/svg+xml")
    response = alice_client.post(reverse("gallery:edit-upload"), {"file": svg})
    assert response.status_code == 400
    assert "SVG images are not supported" in response.json()["error"]
    assert Image.objects.count() == 1


def _post_edit(client, *, files=(), mask=None, htmx=True, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "prompt": "a red boat",
        "model": "gpt-image-1",
        "n": 1,
        "size": "auto",
        "quality": "low",
        "background": "auto",
        "output_format": "png",
        **fields,
    }
    data["uploads"] = [
        SimpleUploadedFile(name, content, content_type=kind) for name, content, kind in files
    ]
    if mask is not None:
        data["mask"] = SimpleUploadedFile("mask.png", mask, content_type="image/png")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("gallery:edit"), data, **headers)


def test_edit_submission_with_upload_and_mask_creates_a_queued_job(
    alice_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post_edit(
            alice_client, files=[("a.png", png(), "image/png")], mask=mask_png(), keep_unmasked="on"
        )
    assert response.status_code == 200, response.content.decode()
    job = Job.objects.get()
    assert job.kind == Job.Kind.EDIT and job.params["keep_unmasked"] is True
    assert job.mask.name.startswith("masks/")
    assert f'id="job-{job.pk}"' in response.content.decode()
    # The job, and the worker's half of the uploaded input (thumbnails, credentials).
    upload = job.inputs.get().image
    rung = [(callback.func.__self__.name, callback.args) for callback in callbacks]
    assert rung == [
        ("gallery.tasks.run_job", (job.pk,)),
        ("gallery.tasks.finish_upload", (upload.pk,)),
    ]


@pytest.mark.parametrize(
    ("files", "mask", "message"),
    [
        ([("x.svg", SVG, "image/svg+xml")], None, "SVG images are not supported"),
        ([("a.png", png()[:70], "image/png")], None, "not a readable PNG"),
        ([("a.png", png(), "image/png")], png(), "no alpha channel"),
        (
            [("a.png", png(), "image/png")],
            mask_png(10, 10),
            "mask is 10x10 but the first image is 64x48",
        ),
        (
            [(f"{i}.png", png(8, 8, (i, 0, 0)), "image/png") for i in range(17)],
            None,
            "at most 16 images; you added 17",
        ),
        ([], None, "Add at least one image"),
    ],
    ids=["svg", "truncated", "mask-no-alpha", "mask-size", "seventeen", "none"],
)
def test_bad_edit_submissions_say_why_and_store_nothing(alice_client, files, mask, message):
    response = _post_edit(alice_client, files=files, mask=mask)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Image.objects.exists() and not Job.objects.exists()


def test_plain_form_post_redirects_to_the_job_and_errors_render_the_page(alice_client):
    response = _post_edit(alice_client, files=[("a.png", png(), "image/png")], htmx=False)
    assert response.status_code == 302
    response = _post_edit(alice_client, files=[], htmx=False)
    assert response.status_code == 400 and "<h1>Edit</h1>" in response.content.decode()


def test_someone_elses_private_upload_cannot_be_used_or_seen(client, alice, bob):
    image = upload(alice, visibility="private")
    client.force_login(bob)
    response = _post_edit(client, image_ids=[image.pk])
    assert response.status_code == 400
    assert f"Image {image.pk} is not available to you" in response.content.decode()
    assert client.get(reverse("gallery:image-lineage", args=[image.pk])).status_code == 404


def test_a_shared_image_of_someone_else_can_be_edited(client, alice, bob):
    image = upload(alice, visibility="shared")
    client.force_login(bob)
    assert _post_edit(client, image_ids=[image.pk]).status_code == 200
    job = Job.objects.get()
    assert job.owner == bob and list(job.inputs.values_list("image_id", flat=True)) == [image.pk]


def test_edit_job_and_its_uploads_follow_the_chosen_visibility(alice_client, alice, bob):
    response = _post_edit(alice_client, files=[("a.png", png(), "image/png")], visibility="private")
    assert response.status_code == 200
    job = Job.objects.get()
    assert job.visibility == "private"
    assert job.inputs.get().image.visibility == "private"


def test_upload_rate_limit_refuses_and_stores_nothing(alice_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STUDIO_UPLOADS_PER_MINUTE = 1
    url = reverse("gallery:edit-upload")
    first = alice_client.post(
        url, {"file": SimpleUploadedFile("a.png", png(), content_type="image/png")}
    )
    assert first.status_code == 200
    again = SimpleUploadedFile("b.png", png(9, 9), content_type="image/png")
    response = alice_client.post(url, {"file": again})
    assert response.status_code == 429 and "at most 1 file" in response.json()["error"]
    assert Image.objects.count() == 1


def test_anonymous_people_are_sent_to_sign_in(client):
    for name in ("gallery:edit", "gallery:edit-upload"):
        response = (
            client.get(reverse(name)) if name == "gallery:edit" else client.post(reverse(name))
        )
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_lineage_page_shows_the_tree_and_hides_private_parents(alice_client, alice, bob, standin):
    first = upload(alice, visibility="private")
    job = run(
        edits.create_edit_job(
            owner=alice,
            prompt="a boat",
            model="gpt-image-1",
            images=[first],
            mask=mask_png(),
            keep_unmasked=True,
            size="1024x1024",
            quality="low",
        )
    )
    output = job.images.get(source=Image.Source.EDITED)
    composite = job.images.get(source=Image.Source.COMPOSITE)
    second = run(
        edits.create_edit_job(
            owner=alice,
            prompt="a boat at night",
            model="gpt-image-1",
            images=[output],
            size="1024x1024",
            quality="low",
        )
    )
    grandchild = second.images.get()

    page = alice_client.get(reverse("gallery:image-lineage", args=[grandchild.pk])).content.decode()
    for ancestor in (output, first):
        assert reverse("gallery:image-detail", args=[ancestor.pk]) in page
    page = alice_client.get(reverse("gallery:image-lineage", args=[first.pk])).content.decode()
    for descendant in (output, composite, grandchild):
        assert reverse("gallery:image-detail", args=[descendant.pk]) in page
    detail = alice_client.get(reverse("gallery:image-detail", args=[output.pk])).content.decode()
    assert "Made from" in detail and "Used in" in detail

    alice_client.force_login(bob)
    page = alice_client.get(reverse("gallery:image-lineage", args=[grandchild.pk])).content.decode()
    assert "a private image" in page
    assert reverse("gallery:image-thumbnail", args=[first.pk, 256]) not in page
    assert reverse("gallery:image-detail", args=[output.pk]) in page


def test_an_input_missing_from_storage_fails_the_job_without_a_retry(alice, standin):
    first = upload(alice)
    job = edits.create_edit_job(owner=alice, prompt="x", model="gpt-image-1", images=[first])
    default_storage.delete(first.file.name)
    job = run(job)
    assert job.status == Job.Status.FAILED and "missing from storage" in job.error
    assert job.attempts == 1


def test_a_mask_for_an_image_whose_file_is_gone_is_refused(alice):
    first = upload(alice)
    default_storage.delete(first.file.name)
    with pytest.raises(edits.EditRefused, match="missing from storage"):
        edits.create_edit_job(
            owner=alice, prompt="x", model="gpt-image-1", images=[first], mask=mask_png()
        )


def test_retrying_an_edit_sends_the_same_inputs_and_mask(alice, standin):
    first, second = upload(alice, png(64, 48)), upload(alice, png(32, 32, (0, 200, 0)))
    job = edits.create_edit_job(
        owner=alice,
        prompt="a red boat",
        model="gpt-image-1",
        images=[first, second],
        mask=mask_png(),
        size="1024x1024",
        quality="low",
    )
    retry = jobs.retry_job(job, by=alice)
    assert retry.kind == Job.Kind.EDIT and retry.retry_of_id == job.pk
    assert retry.mask.name == job.mask.name
    assert list(retry.inputs.values_list("position", "image_id")) == [
        (0, first.pk),
        (1, second.pk),
    ]
    retry = run(retry)
    assert retry.status == Job.Status.SUCCEEDED, retry.error
    # The stand-in saw the mask again: only the transparent half changed.
    picture = PIL.Image.open(retry.images.get().file).convert("RGB")
    assert picture.getpixel((1000, 500)) == (200, 30, 30)


def test_an_edit_over_the_budget_is_refused_and_stores_no_upload(alice_client, alice):
    from decimal import Decimal

    from gallery.jobs import budgets

    budgets.set_person_limit(alice, Decimal("0.001"))
    response = _post_edit(
        alice_client, files=[("photo.png", png(), "image/png")], prompt="a red boat"
    )
    assert response.status_code == 400
    assert "monthly budget would be exceeded" in response.content.decode()
    assert Job.objects.count() == 0 and Image.objects.count() == 0


# --- markup layers (GPT Image 2.5 and 2.6) -------------------------------------------------


def markup_png(width=64, height=48) -> bytes:
    layer = PIL.Image.new("RGBA", (width, height), (0, 0, 0, 0))
    layer.paste((230, 20, 20, 255), (20, 10, 40, 30))  # a circle, drawn roughly
    out = io.BytesIO()
    layer.save(out, "PNG")
    return out.getvalue()


def test_a_markup_layer_is_stored_and_sent_with_the_edit(alice_client, alice, standin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _post_edit(
        alice_client,
        files=[("a.png", png(), "image/png")],
        model="gpt-image-2.6-flare",
        markup=SimpleUploadedFile("markup.png", markup_png(), content_type="image/png"),
    )
    assert response.status_code == 200, response.content.decode()
    job = Job.objects.get()
    assert job.markup.name.startswith("markups/") and not job.mask
    standin.clear_requests()
    done = run(job)
    assert done.status == Job.Status.SUCCEEDED, done.error
    sent = standin.requests()[-1]["files"]
    assert [(f["field"], f["content_type"]) for f in sent] == [
        ("image", "image/png"),
        ("markup", "image/png"),
    ]
    # The markup layer is billed as one more input: the estimate counts it.
    assert abs(done.cost_usd - done.estimate_usd) < 0.0001


@pytest.mark.parametrize(
    ("model", "mask", "layer", "words"),
    [
        ("gpt-image-2", None, markup_png(), "takes no markup layer"),
        ("gpt-image-2.6-flare", mask_png(), markup_png(), "either a mask or a markup layer"),
        ("gpt-image-2.6-flare", None, markup_png(32, 32), "must be the same size"),
        ("gpt-image-2.6-flare", None, png(mode="RGB"), "transparent where it marks nothing"),
    ],
)
def test_markup_layers_are_checked_before_anything_is_stored(
    alice_client, model, mask, layer, words
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _post_edit(
        alice_client,
        files=[("a.png", png(), "image/png")],
        mask=mask,
        model=model,
        markup=SimpleUploadedFile("markup.png", layer, content_type="image/png"),
    )
    assert response.status_code == 400 and words in response.content.decode()
    assert not Job.objects.exists() and not Image.objects.exists()
