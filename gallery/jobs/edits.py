"""Edits: ask the model to change up to 16 input images, optionally inside a painted mask.

`create_edit_job` checks everything the API would refuse (count, model support, the mask's
format, alpha and size) before anything is stored, so a refused request leaves nothing behind.
`run_edit` is what `run._call_api` calls for an edit job. `make_composites` builds the
"keep unmasked pixels" images: the model's output pasted over the untouched first input only
where the mask is transparent, signed by the studio with the model's output as its parent
ingredient and the original as a component (the output itself keeps OpenAI's manifest as
received). `record_outputs` writes those composites and the lineage rows inside the job's
closing transaction.
"""

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import PIL.Image
from django.db import transaction

from gallery import imagesapi, media, provenance
from gallery.imagesapi import discovery, registry
from gallery.jobs import budgets, create, engine, pending_uploads, uploads
from gallery.jobs.refused import Refused
from gallery.models import Image, ImageParent, Job, JobInput, Profile

log = logging.getLogger(__name__)

COMPOSITE_DESCRIPTION = "Kept the unmasked pixels of the original; only the masked area changed."


class EditRefused(Refused, ValueError):
    """The edit cannot be sent as asked; the message says what to change."""


@dataclass(frozen=True)
class Composite:
    index: int
    stored: media.StoredImage
    reading: provenance.Provenance


def create_edit_job(
    *,
    owner,
    prompt: str,
    model: str,
    images: Sequence[Image | uploads.CheckedUpload],
    mask: bytes | None = None,
    markup: bytes | None = None,
    keep_unmasked: bool = False,
    n: int = 1,
    size: str = "auto",
    quality: str = "auto",
    background: str = "auto",
    output_format: str = "png",
    output_compression: int | None = None,
    input_fidelity: str | None = None,
    complexity: str | None = None,
    frame_count: int | None = None,
    frame_duration_ms: int | None = None,
    visibility: str | None = None,
    api_token=None,
    idempotency_key: str = "",
) -> Job:
    """Record an edit request: inputs in order (checked uploads become gallery Images here,
    only once everything else passed), the mask and the markup layer as derived files. The
    caller enqueues the job once the transaction commits."""
    image_model = registry.get(model)
    if image_model is None or not image_model.edits:
        raise EditRefused(f"{model} cannot edit images. Choose another model.")
    unavailable = discovery.unavailable_reason(model)
    if unavailable:
        raise EditRefused(unavailable)
    if output_format not in image_model.output_formats or output_format == "svg":
        raise EditRefused(f"{image_model.label} cannot return {output_format} from an edit.")
    if not images:
        raise EditRefused("Add at least one image to edit.")
    if len(images) > image_model.max_input_images:
        raise EditRefused(
            f"{image_model.label} takes at most {image_model.max_input_images} images; "
            f"you added {len(images)}. Remove {len(images) - image_model.max_input_images}."
        )
    if input_fidelity and not image_model.input_fidelity:
        raise EditRefused(f"{image_model.label} has no input fidelity setting.")
    first_size = _shown_size(images[0])
    if markup is not None:
        if not image_model.markup:
            raise EditRefused(f"{image_model.label} takes no markup layer.")
        if mask is not None:
            raise EditRefused(
                "Use either a mask or a markup layer: the API does not take both in one edit."
            )
        check_markup(markup, first_size)
    if mask is not None:
        if output_format == "gif":
            raise EditRefused("GIF output cannot use a mask.")
        check_mask(mask, first_size)
    elif keep_unmasked:
        raise EditRefused("Keeping the unmasked pixels needs a mask: paint the area to change.")
    params = {
        "n": n,
        "size": size,
        "quality": quality,
        "background": background,
        "output_format": output_format,
        "keep_unmasked": bool(keep_unmasked and mask is not None),
    }
    params.update(
        create.model_options(model, output_format, complexity, frame_count, frame_duration_ms)
    )
    if output_compression is not None and output_format in ("jpeg", "webp"):
        params["output_compression"] = output_compression
    if input_fidelity:
        params["input_fidelity"] = input_fidelity
    visibility = visibility or Profile.default_visibility_for(owner)
    # Every input is billed as input tokens at its own size, and the markup layer as one more.
    sizes = [first_size, *(_billed_size(image) for image in images[1:])]
    if markup is not None:
        sizes.append(first_size)
    estimate = budgets.estimate(model=model, prompt=prompt, params=params, inputs=sizes)
    with transaction.atomic():
        # The budget check and the insert share one serialized transaction, as for
        # generations; an over-budget edit stores nothing: no upload, no mask.
        budgets.lock()
        budgets.check(owner, estimate)
        mask_name = media.store_derived(mask, folder="masks", extension="png") if mask else ""
        stored: list[Image] = [
            uploads.store_upload(owner=owner, upload=image, visibility=visibility)
            if isinstance(image, uploads.CheckedUpload)
            else image
            for image in images
        ]
        pending_uploads.submit(owner=owner, images=stored, visibility=visibility)
        markup_name = ""
        if markup is not None:
            markup_name = media.store_derived(markup, folder="markups", extension="png")
        job = Job.objects.create(
            owner=owner,
            kind=Job.Kind.EDIT,
            model=model,
            prompt=prompt,
            params=params,
            mask=mask_name,
            markup=markup_name,
            visibility=visibility,
            estimate_usd=estimate.expected,
            held_usd=estimate.held,
            api_token=api_token,
            idempotency_key=idempotency_key,
        )
        JobInput.objects.bulk_create(
            JobInput(job=job, position=position, image=image)
            for position, image in enumerate(stored)
        )
    return job


def _shown_size(image: Image | uploads.CheckedUpload) -> tuple[int, int]:
    if isinstance(image, uploads.CheckedUpload):
        return image.width, image.height
    try:
        return uploads.oriented_size(media.read(image.file_name))
    except OSError:
        raise EditRefused(
            f"The file of image {image.pk} is missing from storage; choose another image."
        ) from None


def _billed_size(image: Image | uploads.CheckedUpload) -> tuple[int, int]:
    """An input's size as billed (its tiles do not depend on its orientation)."""
    return image.width, image.height


def check_markup(data: bytes, first_size: tuple[int, int]) -> None:
    """The API's rules for a markup layer: a PNG with transparent pixels, the first image's
    size (after its orientation). Sized before any pixel is decoded."""
    try:
        layer = PIL.Image.open(io.BytesIO(data))
    except Exception:
        raise EditRefused("The markup layer is not a readable PNG image.") from None
    with layer:
        if layer.format != "PNG":
            raise EditRefused(f"The markup layer must be a PNG image; this one is {layer.format}.")
        if layer.size != tuple(first_size):
            raise EditRefused(
                f"The markup layer is {layer.width}x{layer.height} but the first image is "
                f"{first_size[0]}x{first_size[1]}; they must be the same size."
            )
        try:
            layer.load()
        except Exception:
            raise EditRefused("The markup layer is damaged or truncated.") from None
        if layer.mode not in ("RGBA", "LA", "PA") and "transparency" not in layer.info:
            raise EditRefused("The markup layer must be transparent where it marks nothing.")
        low, _ = layer.convert("RGBA").getchannel("A").getextrema()
        if low == 255:
            raise EditRefused("The markup layer has no transparent pixels.")


def check_mask(data: bytes, first_size: tuple[int, int]) -> None:
    """The API's rules for a mask: a PNG with an alpha channel, the first image's size.
    The size is compared before any pixel is decoded, so a mask bomb costs nothing."""
    try:
        mask = PIL.Image.open(io.BytesIO(data))
    except Exception:
        raise EditRefused("The mask is not a readable PNG image.") from None
    with mask:
        if mask.format != "PNG":
            raise EditRefused(f"The mask must be a PNG image; this one is {mask.format}.")
        if not (mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info):
            raise EditRefused(
                "The mask has no alpha channel: it must be a PNG whose transparent pixels "
                "mark the area to change."
            )
        if mask.size != tuple(first_size):
            raise EditRefused(
                f"The mask is {mask.width}x{mask.height} but the first image is "
                f"{first_size[0]}x{first_size[1]}; they must be the same size."
            )
        try:
            mask.load()
        except Exception:
            raise EditRefused("The mask is damaged or truncated.") from None


def run_edit(job: Job, on_partial: imagesapi.PartialCallback | None = None) -> imagesapi.Result:
    """POST the job's inputs (in order) and mask to /images/edits. The database is used
    only to list the inputs: no connection is held during the call (see engine.db_slot)."""
    with engine.db_slot():
        links = list(job.inputs.select_related("image"))
    try:
        files = [_input_file(link) for link in links]
        mask = markup = None
        if job.mask:
            mask = imagesapi.InputFile("mask.png", media.read(str(job.mask)), "image/png")
        if job.markup:
            markup = imagesapi.InputFile("markup.png", media.read(str(job.markup)), "image/png")
    except OSError as error:
        # Nothing was sent, nothing was paid: say so rather than retry a file that is gone.
        raise imagesapi.PermanentError(
            f"An input of this edit is missing from storage ({error.__class__.__name__}); "
            "add the images again.",
            code="input_missing",
        ) from error
    return imagesapi.edit(
        model=job.model,
        prompt=job.prompt,
        images=files,
        mask=mask,
        markup=markup,
        **job.api_options("input_fidelity"),
        on_partial=on_partial,
    )


def _input_file(link: JobInput) -> imagesapi.InputFile:
    data, content_type = uploads.for_api(media.read(link.image.file_name), link.image.content_type)
    name = f"image-{link.position + 1}.{media.EXTENSIONS[content_type]}"
    return imagesapi.InputFile(name, data, content_type)


def make_composites(job: Job, outputs: list[bytes]) -> list[Composite]:
    """For a "keep unmasked pixels" job: each output pasted over the first input where the
    mask is transparent, stored as a lossless PNG and signed with the output as parent. A
    composite that cannot be made is logged and skipped; the paid output is never at risk."""
    if not (job.params.get("keep_unmasked") and job.mask):
        return []
    with engine.db_slot():
        first = job.inputs.select_related("image").order_by("position").first()
    assert first is not None  # an edit job always has inputs (create_edit_job)
    stored_original = media.read(first.image.file_name)
    original_bytes, _ = uploads.for_api(stored_original, first.image.content_type)
    mask_bytes = media.read(str(job.mask))
    composites = []
    for index, output in enumerate(outputs):
        try:
            pixels = composite(original_bytes, output, mask_bytes)
            output_mime = media.inspect(output)[0]
            try:
                pixels = provenance.sign_edit(
                    pixels,
                    mime="image/png",
                    parent=output,
                    parent_mime=output_mime,
                    title=f"studio-job-{job.pk}-{index + 1}-composite.png",
                    description=COMPOSITE_DESCRIPTION,
                    digital_source_type="compositeWithTrainedAlgorithmicMedia",
                    components=((stored_original, first.image.content_type),),
                )
            except provenance.ProvenanceError as error:
                log.warning("job %s: composite %s left unsigned: %s", job.pk, index, error)
            stored = media.store(pixels)
            reading = provenance.read(pixels, mime="image/png")
        except Exception:
            log.exception("job %s: could not make the composite of output %s", job.pk, index)
            continue
        composites.append(Composite(index, stored, reading))
    return composites


def composite(original: bytes, edited: bytes, mask: bytes) -> bytes:
    """A PNG with the original's pixels wherever the mask is not fully transparent and the
    edited image's (scaled to the original's size) where it is."""
    with PIL.Image.open(io.BytesIO(original)) as source:
        source.load()
        mode = source.mode if source.mode in ("RGB", "RGBA") else "RGBA"
        base = source.convert(mode)
    with PIL.Image.open(io.BytesIO(edited)) as result:
        changed = result.convert(mode).resize(base.size, PIL.Image.Resampling.LANCZOS)
    with PIL.Image.open(io.BytesIO(mask)) as painted:
        alpha = painted.convert("RGBA").getchannel("A")
    editable = alpha.point(lambda a: 255 if a == 0 else 0)
    out = io.BytesIO()
    PIL.Image.composite(changed, base, editable).save(out, "PNG", compress_level=3)
    return out.getvalue()


def record_outputs(job: Job, outputs: list[Image], composites: list[Composite]) -> None:
    """Inside the job's closing transaction: composites as Images next to the outputs they
    came from, and lineage rows (every output to every input; a composite to its output and
    the original). A composite's cost is the job's, so it carries none of its own."""
    inputs = list(job.inputs.order_by("position").values_list("image_id", flat=True))
    first_role = ImageParent.Role.MASKED_INPUT if job.mask else ImageParent.Role.INPUT
    links = [
        ImageParent(
            child=output,
            parent_id=image_id,
            role=first_role if position == 0 else ImageParent.Role.INPUT,
            position=position,
        )
        for output in outputs
        for position, image_id in enumerate(inputs)
    ]
    by_index = {output.index: output for output in outputs}
    made = []
    for item in composites:
        output = by_index[item.index]
        s, reading = item.stored, item.reading
        made.append(
            Image(
                owner_id=job.owner_id,
                job=job,
                index=item.index,
                source=Image.Source.COMPOSITE,
                **s.image_fields(),
                prompt=job.prompt,
                model=job.model,
                quality=output.quality,
                background=output.background,
                visibility=output.visibility,
                provenance_state=reading.state,
                ai_generated=reading.ai_generated,
                provenance=reading.summary,
                manifest_json=reading.manifest_json or "",
            )
        )
    Image.objects.bulk_create(made)
    for image in made:
        links.append(
            ImageParent(
                child=image, parent=by_index[image.index], role=ImageParent.Role.EDIT, position=0
            )
        )
        links.append(
            ImageParent(
                child=image, parent_id=inputs[0], role=ImageParent.Role.ORIGINAL, position=1
            )
        )
    ImageParent.objects.bulk_create(links)


@dataclass(frozen=True)
class Remix:
    """An edit job as the edit page needs it to start again ("Use these settings")."""

    job: Job
    settings: dict  # the form's initial values: prompt, model and every option
    inputs: list[Image]  # the inputs the viewer may still see, in order
    missing: list[int]  # positions (from 1) of inputs gone or not visible to the viewer
    mask: bool  # the job's mask comes back (its first input is among `inputs`)
    markup: bool  # likewise the markup layer

    @property
    def layer_lost(self) -> bool:
        """A mask or markup layer that cannot come back: its first input is missing."""
        return bool(self.job.mask or self.job.markup) and 1 in self.missing


def remix(job: Job, *, visible) -> Remix:
    """What "Use these settings" on one of `job`'s images restores: `visible` is what the
    viewer may see (access.visible_images), so nobody gets an input through someone else's
    edit. The mask and markup layer were drawn over the first input, so they come back only
    with it."""
    positions = list(job.inputs.order_by("position").values_list("image_id", flat=True))
    found = {image.pk: image for image in visible.filter(pk__in=positions)}
    inputs = [found[pk] for pk in positions if pk in found]
    missing = [number for number, pk in enumerate(positions, start=1) if pk not in found]
    first_kept = bool(positions) and positions[0] in found
    return Remix(
        job=job,
        settings={"prompt": job.prompt, "model": job.model, **job.params},
        inputs=inputs,
        missing=missing,
        mask=first_kept and bool(job.mask),
        markup=first_kept and bool(job.markup),
    )
