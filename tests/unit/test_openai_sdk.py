"""The official `openai` SDK (a dev dependency, the reference for the protocol) against the
stand-in: generate, stream, and edits with 1, 2 and 16 images, a mask and a markup layer. Its
typed objects must parse what the stand-in sends, field by field."""

import base64
import io

import openai
import pytest
from openai.types import ImagesResponse
from openai.types.image_edit_completed_event import ImageEditCompletedEvent
from openai.types.image_gen_completed_event import ImageGenCompletedEvent
from openai.types.image_gen_partial_image_event import ImageGenPartialImageEvent
from PIL import Image


@pytest.fixture
def media_root():
    """These tests store no media."""


@pytest.fixture
def sdk(standin):
    with openai.OpenAI(api_key="sk-sdk-test-0000", base_url=standin.url, max_retries=0) as client:
        yield client


def png(size=(96, 64), mode="RGB", colour=(30, 120, 200, 255)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def picture(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def test_generate_parses_into_images_response(sdk):
    response = sdk.images.generate(
        model="gpt-image-2.6-sunburst",
        prompt="a lighthouse",
        size="1536x864",
        quality="xhigh",
        complexity="high",
        background="transparent",
        output_format="webp",
        safety_identifier="user-1234",
        n=2,
    )
    assert isinstance(response, ImagesResponse)
    assert (response.size, response.quality, response.background) == (
        "1536x864",
        "xhigh",
        "transparent",
    )
    assert response.output_format == "webp" and response.safety_identifier == "user-1234"
    assert len(response.data) == 2 and picture(response.data[0].b64_json).size == (1536, 864)
    usage = response.usage
    assert usage.output_tokens == 2 * round(8320 * 1536 * 864 / 1024**2)
    assert usage.input_tokens_details.text_tokens == usage.input_tokens
    assert usage.output_tokens_details.image_tokens == usage.output_tokens


def test_gif_and_svg_outputs_parse(sdk):
    gif = sdk.images.generate(
        model="gpt-image-2.6-flare",
        prompt="a blinking owl",
        size="1024x1024",
        output_format="gif",
        frame_count=2,
        frame_duration_ms=300,
    )
    assert gif.output_format == "gif" and picture(gif.data[0].b64_json).n_frames == 2
    svg = sdk.images.generate(model="gpt-image-2.6-flare", prompt="a logo", output_format="svg")
    assert svg.output_format == "svg" and svg.svg_usage.output_tokens > 0
    assert base64.b64decode(svg.data[0].b64_json).startswith(b"<svg")


def test_stream_parses_into_partial_and_completed_events(sdk):
    events = list(
        sdk.images.generate(
            model="gpt-image-2",
            prompt="a kingfisher",
            stream=True,
            partial_images=2,
            size="1024x1536",
            quality="low",
        )
    )
    assert [type(e) for e in events] == [
        ImageGenPartialImageEvent,
        ImageGenPartialImageEvent,
        ImageGenCompletedEvent,
    ]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    done = events[-1]
    assert (done.size, done.quality, done.background) == ("1024x1536", "low", "opaque")
    assert done.usage.output_tokens == 408 + 2 * 100
    assert picture(done.b64_json).size == (1024, 1536)


def test_a_mid_stream_server_error_raises_in_the_sdk(sdk):
    with pytest.raises(openai.APIError, match="The server had an error"):
        list(
            sdk.images.generate(
                model="gpt-image-2.6-flare",
                prompt="x [fault:stream_error]",
                stream=True,
                partial_images=1,
            )
        )


@pytest.mark.parametrize("count", [1, 2, 16])
def test_edits_with_1_2_and_16_images_and_a_mask_parse(sdk, standin, count):
    images = [
        (f"in-{i}.png", png(colour=(10 * i, 80, 160, 255)), "image/png") for i in range(count)
    ]
    mask = Image.new("RGBA", (96, 64), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 48, 64))
    out = io.BytesIO()
    mask.save(out, "PNG")
    standin.clear_requests()
    response = sdk.images.edit(
        model="gpt-image-2.5-flare",
        prompt="a hat on it",
        image=images[0] if count == 1 else images,
        mask=("mask.png", out.getvalue(), "image/png"),
        size="1024x1024",
        quality="low",
    )
    assert isinstance(response, ImagesResponse) and response.size == "1024x1024"
    sent = standin.requests()[-1]["files"]
    assert [f["field"] for f in sent] == ["image" if count == 1 else "image[]"] * count + ["mask"]
    high = 85 + 65 * 2 * 3  # a 96x64 input scaled to a 1024 px short side: 2x3 tiles
    assert response.usage.input_tokens_details.image_tokens == count * high


def test_an_edit_with_a_markup_layer_parses(sdk):
    layer = Image.new("RGBA", (96, 64), (0, 0, 0, 0))
    layer.paste((255, 0, 0, 255), (40, 20, 60, 40))
    out = io.BytesIO()
    layer.save(out, "PNG")
    response = sdk.images.edit(
        model="gpt-image-2.6-flare",
        prompt="move the lamp where the circle is",
        image=("room.png", png(), "image/png"),
        markup=("markup.png", out.getvalue(), "image/png"),
    )
    assert isinstance(response, ImagesResponse) and len(response.data) == 1


def test_a_streamed_edit_parses(sdk):
    events = list(
        sdk.images.edit(
            model="gpt-image-2.6-sunburst",
            prompt="a hat",
            image=("a.png", png(), "image/png"),
            stream=True,
            partial_images=1,
        )
    )
    assert isinstance(events[-1], ImageEditCompletedEvent)
    assert events[-1].usage.input_tokens_details.image_tokens > 0


def test_bytes_sent_without_a_type_are_refused_as_openai_does(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.images.edit(model="gpt-image-2", prompt="x", image=png())
    assert caught.value.code == "unsupported_file_mimetype" and caught.value.param == "image"


def test_models_list_parses_with_shutdown_dates(sdk, standin):
    standin.configure(listed_models=["gpt-image-2.6-flare", "gpt-image-1.5"])
    models = {m.id: m for m in sdk.models.list()}
    assert models["gpt-image-1.5"].shutdown_date == "2026-12-01"
    assert models["gpt-image-2.6-flare"].shutdown_date is None


def test_a_missing_key_answers_with_no_code(standin):
    import httpx

    response = httpx.post(f"{standin.url}/images/generations", json={"prompt": "x"})
    assert response.status_code == 401 and response.json()["error"]["code"] is None
