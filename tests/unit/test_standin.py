"""The stand-in image API, talked to over real HTTP the way the client talks to OpenAI."""

import base64
import io
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from PIL import Image, ImageChops

from gallery.imagesapi.standin import StandinServer
from tests.helpers import ROOT

KEY = {"Authorization": "Bearer sk-test-key-0000"}
OTTER = {"model": "gpt-image-1", "prompt": "A cute baby sea otter"}


@pytest.fixture
def media_root():
    """These tests store no media: conftest's per-test media folder is not needed."""


@pytest.fixture(scope="module")
def running_server():
    # Unsigned for speed; test_outputs_are_signed_like_openai checks signing.
    server = StandinServer("127.0.0.1", 0, sign=False, seed=1).start()
    yield server
    server.stop()


@pytest.fixture
def server(running_server):
    """The module's stand-in with default settings and an empty request log."""
    running_server.configure(
        latency=0.0,
        jitter=0.0,
        faults=[],
        fault_rate=0.0,
        retired_models=[],
        listed_models=[],
        list_models=True,
        hang_seconds=3600,
    )
    running_server.clear_requests()
    return running_server


@pytest.fixture(scope="module")
def module_client(running_server):
    # One client for the module: making an httpx.Client per test costs more than most tests.
    with httpx.Client(base_url=running_server.url, headers=KEY, timeout=10) as client:
        yield client


@pytest.fixture
def api(server, module_client):
    """An HTTP client for the freshly reset stand-in."""
    return module_client


def decode(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gradient(width: int = 1024, height: int = 1024) -> Image.Image:
    return Image.linear_gradient("L").resize((width, height)).convert("RGB")


def events(response: httpx.Response) -> list[dict]:
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:")]


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    return body["error"]


# --- Generations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_fields", "size", "pil_format", "mode"),
    [
        ({"size": "1536x1024"}, (1536, 1024), "PNG", "RGB"),
        ({"size": "1024x1536", "output_format": "jpeg"}, (1024, 1536), "JPEG", "RGB"),
        ({"output_format": "webp"}, (1024, 1024), "WEBP", "RGB"),
        ({"background": "transparent"}, (1024, 1024), "PNG", "RGBA"),
        ({"background": "transparent", "output_format": "webp"}, (1024, 1024), "WEBP", "RGBA"),
    ],
)
def test_generation_returns_image_of_requested_size_and_format(
    api, request_fields, size, pil_format, mode
):
    response = api.post("/images/generations", json=OTTER | request_fields)

    assert response.status_code == 200
    body = response.json()
    image = decode(body["data"][0]["b64_json"])
    assert (image.size, image.format, image.mode) == (size, pil_format, mode)
    if mode == "RGBA":
        assert image.getchannel("A").getextrema() == (0, 255)  # transparent and opaque parts
    assert body["size"] == f"{size[0]}x{size[1]}"
    assert body["output_format"] == request_fields.get("output_format", "png")
    assert body["background"] == request_fields.get("background", "opaque")
    assert body["quality"] == "medium"
    assert isinstance(body["created"], int)


def test_generation_usage_follows_token_table(api):
    prompt = "one two three four five six seven eight nine ten"
    response = api.post(
        "/images/generations",
        json=OTTER | {"prompt": prompt, "n": 2, "size": "1536x1024", "quality": "high"},
    )

    body = response.json()
    assert len(body["data"]) == 2
    assert body["usage"] == {
        "input_tokens": 13,
        "input_tokens_details": {"text_tokens": 13, "image_tokens": 0},
        "output_tokens": 2 * 6208,
        "output_tokens_details": {"image_tokens": 2 * 6208, "text_tokens": 0},
        "total_tokens": 13 + 2 * 6208,
    }


def test_generation_is_deterministic_per_prompt_and_index(api):
    first = api.post("/images/generations", json=OTTER | {"n": 2}).json()["data"]
    again = api.post("/images/generations", json=OTTER | {"n": 2}).json()["data"]
    other = api.post("/images/generations", json=OTTER | {"prompt": "a heron"}).json()["data"]

    assert first == again
    assert first[0] != first[1]
    assert other[0] != first[0]


def test_output_compression_shrinks_jpeg_and_webp(api):
    for output_format in ("jpeg", "webp"):
        sizes = [
            len(
                api.post(
                    "/images/generations",
                    json=OTTER | {"output_format": output_format, "output_compression": level},
                ).json()["data"][0]["b64_json"]
            )
            for level in (10, 95)
        ]
        assert sizes[0] < sizes[1] / 2


def test_reply_carries_openai_headers(api):
    response = api.post("/images/generations", json=OTTER)

    headers = response.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"].startswith("req_") and len(headers["x-request-id"]) == 36
    assert headers["openai-version"] == "2020-10-01"
    assert int(headers["openai-processing-ms"]) >= 0
    for kind in ("requests", "tokens"):
        assert int(headers[f"x-ratelimit-limit-{kind}"]) > int(
            headers[f"x-ratelimit-remaining-{kind}"]
        )
        assert headers[f"x-ratelimit-reset-{kind}"].endswith("s")


def test_gpt_image_2_accepts_sizes_within_its_rules(api):
    response = api.post(
        "/images/generations", json=OTTER | {"model": "gpt-image-2", "size": "1536x864"}
    )
    assert response.status_code == 200
    assert decode(response.json()["data"][0]["b64_json"]).size == (1536, 864)
    assert response.json()["usage"]["output_tokens"] == round(1056 * 1536 * 864 / 1024**2)

    for size in ("1000x1000", "3840x1024", "4096x2160", "512x512"):
        response = api.post(
            "/images/generations", json=OTTER | {"model": "gpt-image-2", "size": size}
        )
        assert (response.status_code, error_of(response)["param"]) == (400, "size")


def test_outputs_are_signed_like_openai():
    from gallery import provenance

    with StandinServer(sign=True) as server:
        response = httpx.post(
            f"{server.url}/images/generations", headers=KEY, json=OTTER, timeout=10
        )

    reading = provenance.read(base64.b64decode(response.json()["data"][0]["b64_json"]))
    assert reading.state in (provenance.VALID, provenance.TRUSTED)
    assert reading.ai_generated
    assert "gpt-image-1" in json.dumps(reading.summary)


# --- Edits ------------------------------------------------------------------------------


def edit_form(**fields) -> dict:
    return {"model": "gpt-image-1", "prompt": "Put a hat on it"} | fields


def test_edit_changes_only_the_masked_area_and_counts_input_images(api):
    source = gradient()
    mask = Image.new("RGBA", source.size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (256, 256, 768, 768))  # transparent: may be edited
    files = [
        ("image[]", ("room.png", png(source), "image/png")),
        ("image[]", ("lamp.png", png(Image.new("RGB", (300, 200), "red")), "image/png")),
        ("mask", ("mask.png", png(mask), "image/png")),
    ]

    response = api.post("/images/edits", data=edit_form(), files=files)

    assert response.status_code == 200, response.text
    body = response.json()
    result = decode(body["data"][0]["b64_json"]).convert("RGB")
    assert result.size == source.size
    difference = ImageChops.difference(result, source)
    assert difference.crop((256, 256, 768, 768)).getbbox() is not None
    difference.paste(0, (256, 256, 768, 768))
    assert difference.getbbox() is None
    # 1024x1024 costs 85 + 65 * 1 tile at low fidelity; 300x200 scales to 768x512: 2 tiles.
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 150 + 215


def test_edit_without_mask_changes_the_whole_image(api):
    source = gradient()
    files = {"image": ("room.png", png(source), "image/png")}

    response = api.post("/images/edits", data=edit_form(), files=files)

    result = decode(response.json()["data"][0]["b64_json"]).convert("RGB")
    difference = ImageChops.difference(result, source)
    for corner in ((0, 0, 64, 64), (960, 960, 1024, 1024)):
        assert difference.crop(corner).getbbox() is not None


def test_edit_accepts_repeated_image_fields_and_jpeg_webp_inputs(api):
    inputs = []
    for image_format in ("JPEG", "WEBP"):
        out = io.BytesIO()
        gradient(512, 512).save(out, image_format)
        inputs.append(("image", (f"in.{image_format.lower()}", out.getvalue(), "image/png")))

    response = api.post("/images/edits", data=edit_form(), files=inputs)

    assert response.status_code == 200, response.text
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 2 * 150


def test_edit_auto_size_follows_the_first_images_aspect(api):
    files = {"image": ("wide.png", png(gradient(600, 380)), "image/png")}

    response = api.post("/images/edits", data=edit_form(size="auto"), files=files)

    assert response.json()["size"] == "1536x1024"
    assert decode(response.json()["data"][0]["b64_json"]).size == (1536, 1024)


def test_edit_accepts_the_json_variant_with_data_urls(api):
    data_url = "data:image/png;base64," + base64.b64encode(png(gradient(256, 256))).decode()

    response = api.post(
        "/images/edits", json=edit_form(images=[{"image_url": data_url}], moderation="low")
    )

    assert response.status_code == 200, response.text
    assert response.json()["size"] == "1024x1024"


# --- Validation -------------------------------------------------------------------------

SIZE_MESSAGE = (
    "Invalid value: '1254x836'. Supported values are: '1024x1024', '1024x1536', '1536x1024', "
    "and 'auto'."
)


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"response_format": "b64_json"}, "response_format", "unknown_parameter"),
        ({"style": "vivid"}, "style", "unknown_parameter"),
        ({"input_fidelity": "high"}, "input_fidelity", "unknown_parameter"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"n": 11}, "n", "integer_above_max_value"),
        ({"n": "2"}, "n", "invalid_type"),
        ({"prompt": ""}, "prompt", "empty_string"),
        ({"prompt": "x" * 32001}, "prompt", "string_above_max_length"),
        ({"prompt": None}, "prompt", "missing_required_parameter"),
        ({"quality": "hd"}, "quality", "invalid_value"),
        ({"background": "white"}, "background", "invalid_value"),
        ({"output_format": "gif"}, "output_format", "invalid_value"),
        ({"moderation": "high"}, "moderation", "invalid_value"),
        ({"output_compression": 101}, "output_compression", "integer_above_max_value"),
        ({"output_compression": -1}, "output_compression", "integer_below_min_value"),
        ({"partial_images": 4}, "partial_images", "integer_above_max_value"),
        ({"stream": "yes"}, "stream", "invalid_type"),
        ({"background": "transparent", "output_format": "jpeg"}, "background", "invalid_value"),
        (
            {"model": "gpt-image-2", "background": "transparent"},
            "background",
            "unsupported_value",
        ),
    ],
)
def test_generation_rejects_invalid_fields(api, fields, param, code):
    response = api.post("/images/generations", json=OTTER | fields)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


def test_unsupported_size_message_matches_openai(api):
    response = api.post("/images/generations", json=OTTER | {"size": "1254x836"})

    assert error_of(response) == {
        "message": SIZE_MESSAGE,
        "type": "invalid_request_error",
        "param": "size",
        "code": "invalid_value",
    }


def test_invalid_json_is_refused(api):
    response = api.post(
        "/images/generations", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "could not parse the JSON body" in error_of(response)["message"]


@pytest.mark.parametrize("model", ["dall-e-3", "gpt-image-9", None])
def test_unknown_and_retired_models_are_not_found(api, model):
    fields = {"prompt": "x"} | ({"model": model} if model else {})

    response = api.post("/images/generations", json=fields)

    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "model_not_found"
    assert error["message"] == (
        f"The model `{model or 'dall-e-2'}` does not exist or you do not have access to it."
    )


def test_gpt_image_1_is_retired_only_when_configured(server, api):
    assert api.post("/images/generations", json=OTTER).status_code == 200

    server.configure(retired_models=["gpt-image-1"])

    response = api.post("/images/generations", json=OTTER)
    assert (response.status_code, error_of(response)["code"]) == (404, "model_not_found")
    assert api.post("/images/generations", json=OTTER | {"model": "gpt-image-1.5"}).is_success


def small_png(mode="RGB", size=(64, 64)) -> bytes:
    return png(Image.new(mode, size))


@pytest.mark.parametrize(
    ("fields", "files", "param", "code"),
    [
        ({"model": "gpt-image-1-mini", "input_fidelity": "high"}, None, "input_fidelity",
         "unsupported_parameter"),
        ({"model": "gpt-image-2", "input_fidelity": "low"}, None, "input_fidelity",
         "unsupported_parameter"),
        ({"moderation": "low"}, None, "moderation", "unknown_parameter"),
        ({"response_format": "url"}, None, "response_format", "unknown_parameter"),
        ({"quality": "standard"}, None, "quality", "invalid_value"),
        ({}, [], "image", "missing_required_parameter"),
        ({"image": "a.png"}, [], "image", "invalid_type"),
        ({}, [("images", ("a.png", small_png(), "image/png"))], "images", "unknown_parameter"),
        ({}, [("image[]", ("a.png", small_png(), "image/png"))] * 17, "image",
         "array_above_max_length"),
        ({}, [("image", ("a.png", b"GIF89a" + bytes(30), "image/png"))], "image",
         "invalid_image"),
        ({}, [("image", ("a.png", small_png(), "image/png")),
              ("mask", ("m.png", small_png("RGB"), "image/png"))], "mask", "invalid_value"),
        ({}, [("image", ("a.png", small_png(), "image/png")),
              ("mask", ("m.png", small_png("RGBA", (32, 32)), "image/png"))], "mask",
         "invalid_value"),
    ],
)  # fmt: skip
def test_edit_rejects_invalid_requests(api, fields, files, param, code):
    if files is None:
        files = [("image", ("a.png", small_png(), "image/png"))]

    response = api.post("/images/edits", data=edit_form(**fields), files=files or None)

    assert response.status_code == 400, response.text
    assert (error_of(response)["param"], error_of(response)["code"]) == (param, code)


def test_edit_rejects_other_image_formats_by_content(api):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    files = {"image": ("looks-like.png", gif.getvalue(), "image/png")}

    response = api.post("/images/edits", data=edit_form(), files=files)

    assert error_of(response)["code"] == "invalid_image_format"
    assert "image/gif" in error_of(response)["message"]


def test_edit_rejects_files_of_50_mb(api):
    files = {"image": ("huge.png", bytes(50 * 1024 * 1024), "image/png")}

    response = api.post("/images/edits", data=edit_form(), files=files)

    assert (response.status_code, error_of(response)["code"]) == (400, "file_too_large")


# --- Auth and routes --------------------------------------------------------------------


def test_requests_without_a_bearer_key_are_refused(server):
    response = httpx.post(f"{server.url}/images/generations", json=OTTER)

    assert response.status_code == 401
    error = error_of(response)  # OpenAI sends no code for a missing key, only for a wrong one
    assert error["code"] is None and error["type"] == "invalid_request_error"
    assert error["message"].startswith("You didn't provide an API key.")


def test_a_configured_key_must_match_and_is_never_echoed():
    with StandinServer(key="sk-right-key-1234", sign=False) as server:
        url = f"{server.url}/images/generations"
        wrong = httpx.post(url, json=OTTER, headers={"Authorization": "Bearer sk-wrong-key-9876"})
        right = httpx.post(url, json=OTTER, headers={"Authorization": "Bearer sk-right-key-1234"})

    assert wrong.status_code == 401
    error = error_of(wrong)
    assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert "sk-wrong-key-9876" not in wrong.text and error["message"].count("9876") == 1
    assert right.status_code == 200


def test_unknown_routes_answer_404_in_the_envelope(api):
    response = api.get("/images/generations")

    assert response.status_code == 404
    assert error_of(response)["message"] == "Invalid URL (GET /v1/images/generations)"


# --- Streaming --------------------------------------------------------------------------


def test_streamed_generation_sends_partials_then_completed(api):
    response = api.post(
        "/images/generations",
        json=OTTER | {"stream": True, "partial_images": 2, "size": "1024x1536"},
    )

    assert response.headers["content-type"].startswith("text/event-stream")
    sequence = events(response)
    assert [e["type"] for e in sequence] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert [e.get("partial_image_index") for e in sequence] == [0, 1, None]
    for event in sequence:
        assert {"b64_json", "created_at", "size", "quality", "background", "output_format"} <= (
            set(event)
        )
        assert decode(event["b64_json"]).size == (1024, 1536)
    assert sequence[0]["b64_json"] != sequence[2]["b64_json"]
    usage = sequence[2]["usage"]
    assert usage["output_tokens"] == 1584 + 2 * 100
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert "event: image_generation.completed\ndata: {" in response.text


def test_streamed_edit_takes_stream_as_a_form_field(api):
    files = {"image": ("a.png", small_png(), "image/png")}

    response = api.post(
        "/images/edits", data=edit_form(stream="true", partial_images="1"), files=files
    )

    assert [e["type"] for e in events(response)] == [
        "image_edit.partial_image",
        "image_edit.completed",
    ]


def test_stream_spreads_events_over_the_latency(server, api):
    # The stand-in spends at least half the latency on the events however long it took to
    # draw them, so with 1.5 s the first and last event are at least 0.5 s apart even on a
    # loaded machine (with 0.6 s the margin was 0 there).
    server.configure(latency=1.5)
    arrivals = []
    with api.stream(
        "POST", "/images/generations", json=OTTER | {"stream": True, "partial_images": 2}
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.monotonic())

    assert len(arrivals) == 3
    assert arrivals[2] - arrivals[0] > 0.4  # the first partial came well before the end


# --- Faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "type", "code"),
    [
        ("429", 429, "requests", "rate_limit_exceeded"),
        ("429_quota", 429, "insufficient_quota", "insufficient_quota"),
        ("500", 500, "server_error", None),
        ("503", 503, "server_error", None),
        ("moderation", 400, "image_generation_user_error", "moderation_blocked"),
        ("moderation_plain", 400, "image_generation_user_error", "moderation_blocked"),
        ("org_verification", 403, "invalid_request_error", None),
        ("401", 401, "invalid_request_error", "invalid_api_key"),
        ("model_not_found", 404, "invalid_request_error", "model_not_found"),
        ("comet", 500, "comet_api_error", "invalid_request"),
        ("comet_400", 400, "comet_api_error", ""),
    ],
)
def test_error_faults_answer_in_their_envelope(api, fault, status, type, code):
    response = api.post("/images/generations", json=OTTER | {"prompt": f"otter [fault:{fault}]"})

    assert response.status_code == status
    error = error_of(response)
    assert (error["type"], error["code"]) == (type, code)
    if fault.startswith("comet"):
        assert error["param"] == "" and "(request id: " in error["message"]
    if fault == "moderation":
        assert error["moderation_details"] == {
            "moderation_stage": "input",
            "categories": ["violence"],
        }
    if fault == "moderation_plain":
        assert "moderation_details" not in error


def test_rate_limit_fault_says_when_to_retry(server, api):
    server.configure(retry_after=1.5)

    response = api.post("/images/generations", json=OTTER | {"prompt": "x [fault:429]"})

    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"] == "1.5s"
    assert "Please try again in 1.5s" in error_of(response)["message"]
    quota = api.post("/images/generations", json=OTTER | {"prompt": "x [fault:429_quota]"})
    assert "retry-after" not in quota.headers


@pytest.mark.parametrize(("fault", "status"), [("502", 502), ("524", 524), ("html", 200)])
def test_html_faults_send_html(api, fault, status):
    response = api.post("/images/generations", json=OTTER | {"prompt": f"x [fault:{fault}]"})

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith(("<html", "<!doctype html"))


def test_truncated_fault_sends_broken_json(api):
    response = api.post("/images/generations", json=OTTER | {"prompt": "x [fault:truncated]"})

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_bad_image_fault_sends_undecodable_base64(api):
    response = api.post("/images/generations", json=OTTER | {"prompt": "x [fault:bad_image]"})

    assert response.status_code == 200
    with pytest.raises(Image.UnidentifiedImageError):
        decode(response.json()["data"][0]["b64_json"])


@pytest.mark.parametrize("fault", ["reset", "stream_cut"])
def test_reset_fault_breaks_the_connection_mid_body(api, fault):
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.post("/images/generations", json=OTTER | {"prompt": f"x [fault:{fault}]"})


def test_slow_fault_adds_delay(server, api):
    server.configure(slow_seconds=0.3)
    started = time.monotonic()

    response = api.post("/images/generations", json=OTTER | {"prompt": "x [fault:slow]"})

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_hang_fault_outlasts_the_client_timeout(server):
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{server.url}/images/generations",
            headers=KEY,
            json=OTTER | {"prompt": "x [fault:hang]"},
            timeout=0.3,
        )
    assert server.requests()[-1]["status"] is None


def test_stream_cut_fault_ends_the_stream_without_completed(api):
    response = api.post(
        "/images/generations",
        json=OTTER | {"prompt": "x [fault:stream_cut]", "stream": True, "partial_images": 2},
    )

    assert [e["type"] for e in events(response)] == ["image_generation.partial_image"]


def test_faults_inside_a_stream(api):
    stream = OTTER | {"stream": True, "partial_images": 1}
    truncated = api.post("/images/generations", json=stream | {"prompt": "x [fault:truncated]"})
    with pytest.raises(json.JSONDecodeError):
        events(truncated)
    bad = api.post("/images/generations", json=stream | {"prompt": "x [fault:bad_image]"})
    with pytest.raises(Image.UnidentifiedImageError):
        decode(events(bad)[-1]["b64_json"])
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        api.post("/images/generations", json=stream | {"prompt": "x [fault:reset]"})


def test_unknown_fault_token_is_a_400(api):
    response = api.post("/images/generations", json=OTTER | {"prompt": "x [fault:nope]"})

    assert (response.status_code, error_of(response)["param"]) == (400, "prompt")


def test_fault_rate_picks_faults_from_the_configured_list(server, api):
    server.configure(faults=["500", "503"], fault_rate=1.0)
    statuses = {api.post("/images/generations", json=OTTER).status_code for _ in range(8)}
    assert statuses == {500, 503}

    server.configure(fault_rate=0.0)
    assert api.post("/images/generations", json=OTTER).status_code == 200


def test_validation_comes_before_faults(server, api):
    server.configure(faults=["500"], fault_rate=1.0)

    response = api.post("/images/generations", json=OTTER | {"n": 0})

    assert response.status_code == 400


# --- Control API and request log --------------------------------------------------------


def test_control_endpoint_reconfigures_the_running_server(server):
    control = f"http://{server.host}:{server.port}/_standin/config"

    changed = httpx.post(control, json={"faults": ["429"], "fault_rate": 1, "latency": 0.05})
    refused = httpx.post(control, json={"faults": ["teapot"]})
    unknown = httpx.post(control, json={"colour": "red"})

    assert changed.status_code == 200
    assert httpx.get(control).json() == changed.json()
    assert changed.json()["faults"] == ["429"]
    assert server.config.latency == 0.05
    assert (refused.status_code, unknown.status_code) == (400, 400)
    reply = httpx.post(f"{server.url}/images/generations", headers=KEY, json=OTTER)
    assert reply.status_code == 429


def test_request_log_keeps_fields_and_file_sizes_but_no_secrets_or_bytes(server, api):
    files = [
        ("image[]", ("room.png", png(gradient(64, 64)), "image/png")),
        ("image[]", ("lamp.png", small_png(), "image/png")),
    ]
    api.post("/images/edits", data=edit_form(), files=files)
    api.post("/images/generations", json=OTTER | {"n": 0})

    log = httpx.get(f"http://{server.host}:{server.port}/_standin/requests").json()["requests"]

    edit, generation = log
    assert edit["path"] == "/v1/images/edits"
    assert edit["content_type"].startswith("multipart/form-data")
    assert edit["fields"] == edit_form()
    assert [(f["field"], f["filename"], f["size"]) for f in edit["files"]] == [
        ("image[]", "room.png", len(files[0][1][1])),
        ("image[]", "lamp.png", len(files[1][1][1])),
    ]
    assert edit["status"] == 200
    assert generation["fields"]["n"] == 0 and generation["status"] == 400
    text = json.dumps(log)
    assert "sk-test-key" not in text and "Bearer" not in text and "iVBOR" not in text
    cleared = httpx.delete(f"http://{server.host}:{server.port}/_standin/requests")
    assert cleared.json() == {"requests": []} and server.requests() == []


# --- Many clients at once ---------------------------------------------------------------


def test_serves_many_slow_requests_at_once(server):
    from concurrent.futures import ThreadPoolExecutor

    server.configure(latency=0.5)
    with httpx.Client(base_url=server.url, headers=KEY, timeout=20) as client:

        def call(number):
            prompt = f"crowd {number % 4}"
            return client.post("/images/generations", json=OTTER | {"prompt": prompt})

        started = time.monotonic()
        with ThreadPoolExecutor(80) as pool:
            statuses = [r.status_code for r in pool.map(call, range(80))]
        elapsed = time.monotonic() - started

    assert statuses == [200] * 80
    assert elapsed < 10  # one at a time it would take 40 s


# --- Management command -----------------------------------------------------------------


def test_management_command_serves_until_terminated():
    process = subprocess.Popen(
        [sys.executable, "manage.py", "standin_api", "--port", "0", "--latency", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, process.stderr.read()
        url = line.split("listening on ")[1].strip()
        response = httpx.post(f"{url}/images/generations", headers=KEY, json=OTTER, timeout=10)
        assert response.status_code == 200
        assert decode(response.json()["data"][0]["b64_json"]).size == (1024, 1024)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)

    assert process.returncode == 0
    assert "POST /v1/images/generations 200 model=gpt-image-1" in stderr
    assert "sk-test-key" not in stderr


# --- Today's models: gpt-image-2.5 and 2.6 ------------------------------------------------

NEW = {"model": "gpt-image-2.6-flare", "prompt": "A cute baby sea otter"}


def markup_png(size=(64, 64), transparent=True) -> bytes:
    layer = Image.new("RGBA", size, (0, 0, 0, 0 if transparent else 255))
    layer.paste((255, 0, 0, 255), (10, 10, 30, 30))  # an arrow, say
    return png(layer)


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"model": "gpt-image-2", "quality": "xhigh"}, "quality", "invalid_value"),
        ({"model": "gpt-image-2.5-flare", "complexity": "high"}, "complexity",
         "unsupported_parameter"),
        ({"complexity": "extreme"}, "complexity", "invalid_value"),
        ({"model": "gpt-image-2.5-sunburst", "output_format": "gif"}, "output_format",
         "invalid_value"),
        ({"output_format": "gif", "frame_count": 17}, "frame_count", "integer_above_max_value"),
        ({"output_format": "gif", "frame_count": 1}, "frame_count", "integer_below_min_value"),
        ({"frame_count": 4}, "frame_count", "invalid_value"),
        ({"output_format": "gif", "stream": True}, "stream", "invalid_value"),
        ({"output_format": "gif", "output_compression": 50}, "output_compression",
         "invalid_value"),
        ({"output_format": "gif", "size": "2048x2048"}, "size", "invalid_value"),
        ({"output_format": "svg", "n": 2}, "n", "invalid_value"),
        ({"output_format": "svg", "partial_images": 1, "stream": True}, "stream",
         "invalid_value"),
        ({"svg": {"model": "x"}}, "svg", "invalid_value"),
        ({"size": "3840x1088"}, "size", "invalid_value"),
    ],
)  # fmt: skip
def test_new_models_refuse_what_they_cannot_do(api, fields, param, code):
    response = api.post("/images/generations", json=NEW | fields)
    assert response.status_code == 400, response.text
    assert (error_of(response)["param"], error_of(response)["code"]) == (param, code)


@pytest.mark.parametrize(
    "model",
    [
        "gpt-image-2.5-flare",
        "gpt-image-2.5-flare-2026-09-08",
        "gpt-image-2.5-sunburst-2026-09-08",
        "gpt-image-2.6-sunburst",
        "gpt-image-2.6-flare-2026-11-04",
    ],
)
def test_new_models_take_premium_qualities_free_sizes_and_transparency(api, model):
    response = api.post(
        "/images/generations",
        json=NEW
        | {"model": model, "quality": "max", "size": "1536x864", "background": "transparent"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["quality"], body["size"], body["background"]) == ("max", "1536x864", "transparent")
    assert body["usage"]["output_tokens"] == round(16640 * 1536 * 864 / 1024**2)
    assert decode(body["data"][0]["b64_json"]).mode == "RGBA"


def test_gif_output_is_animated_with_its_frames_billed(api):
    response = api.post(
        "/images/generations",
        json=NEW
        | {
            "output_format": "gif",
            "frame_count": 3,
            "frame_duration_ms": 123,
            "size": "1024x1024",
            "quality": "low",
            "complexity": "low",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    gif = decode(body["data"][0]["b64_json"])
    assert (gif.format, gif.n_frames, gif.info["duration"]) == ("GIF", 3, 120)
    assert body["output_format"] == "gif" and body["usage"]["output_tokens"] == 3 * 272


def test_svg_output_is_one_vector_image_with_its_authoring_usage(api):
    response = api.post(
        "/images/generations", json=NEW | {"output_format": "svg", "svg": {"model": "gpt-6"}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    document = base64.b64decode(body["data"][0]["b64_json"])
    assert document.startswith(b"<svg") and b"A cute baby sea otter" in document
    assert body["svg_usage"]["output_tokens"] > 0 and len(body["data"]) == 1


def test_safety_identifier_is_accepted_and_echoed(api):
    response = api.post("/images/generations", json=NEW | {"safety_identifier": "user-7f3a"})
    assert response.status_code == 200, response.text
    assert response.json()["safety_identifier"] == "user-7f3a"
    form = api.post(
        "/images/edits",
        data=edit_form(safety_identifier="user-7f3a"),
        files=[("image", ("a.png", small_png(), "image/png"))],
    )
    assert form.status_code == 200, form.text


@pytest.mark.parametrize("part", ["image", "image[]", "mask", "markup"])
def test_image_parts_declared_as_octet_stream_are_refused(api, part):
    """What an HTTP library sends for bytes without a type: OpenAI refuses it."""
    first = ("a.png", small_png(), "image/png")
    files = [("image", first)] if part in ("mask", "markup") else []
    blob = small_png("RGBA") if part != "markup" else markup_png()
    files.append((part, ("blob", blob, "application/octet-stream")))
    response = api.post("/images/edits", data=edit_form(model="gpt-image-2.6-flare"), files=files)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == "unsupported_file_mimetype"
    assert error["param"] == ("image" if part.startswith("image") else part)
    assert "unsupported mimetype ('application/octet-stream')" in error["message"]


def test_markup_guides_an_edit_on_the_models_that_take_it(api):
    files = [
        ("image", ("a.png", small_png(), "image/png")),
        ("markup", ("m.png", markup_png(), "image/png")),
    ]
    response = api.post("/images/edits", data=edit_form(model="gpt-image-2.6-flare"), files=files)
    assert response.status_code == 200, response.text
    plain = api.post(
        "/images/edits",
        data=edit_form(model="gpt-image-2.6-flare"),
        files=files[:1],
    )
    # The markup layer is billed as one more input image (high fidelity on these models).
    assert (
        response.json()["usage"]["input_tokens_details"]["image_tokens"]
        == 2 * plain.json()["usage"]["input_tokens_details"]["image_tokens"]
    )


@pytest.mark.parametrize(
    ("model", "extra", "markup", "words"),
    [
        ("gpt-image-2", [], markup_png(), "not supported with this model"),
        ("gpt-image-2.6-flare", [], markup_png(transparent=False), "transparent pixels"),
        ("gpt-image-2.6-flare", [], markup_png((32, 32)), "same dimensions"),
        (
            "gpt-image-2.6-flare",
            [("mask", ("m.png", small_png("RGBA"), "image/png"))],
            markup_png(),
            "cannot be combined with mask",
        ),
    ],
)
def test_markup_rules(api, model, extra, markup, words):
    files = [("image", ("a.png", small_png(), "image/png")), *extra]
    files.append(("markup", ("m.png", markup, "image/png")))
    response = api.post("/images/edits", data=edit_form(model=model), files=files)
    assert response.status_code == 400, response.text
    assert words in error_of(response)["message"] and error_of(response)["param"] == "markup"


def test_gif_edits_cannot_use_a_mask(api):
    files = [
        ("image", ("a.png", small_png(), "image/png")),
        ("mask", ("m.png", small_png("RGBA"), "image/png")),
    ]
    response = api.post(
        "/images/edits",
        data=edit_form(model="gpt-image-2.6-flare", output_format="gif"),
        files=files,
    )
    assert response.status_code == 400 and "masks" in error_of(response)["message"]


def test_edits_count_inputs_at_high_fidelity_on_models_without_the_setting(api):
    files = [("image", ("a.png", png(gradient()), "image/png"))]
    response = api.post("/images/edits", data=edit_form(model="gpt-image-2"), files=files)
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 345


def test_models_endpoint_lists_what_the_key_can_use_with_shutdown_dates(server, api):
    listed = {m["id"]: m for m in api.get("/models").json()["data"]}
    assert "gpt-image-2.6-sunburst" in listed and listed["gpt-image-2"]["shutdown_date"] is None
    assert listed["gpt-image-1"]["shutdown_date"] == "2026-10-23"
    assert listed["gpt-image-2"]["object"] == "model"

    server.configure(listed_models=["gpt-image-2.6-flare"])
    assert [m["id"] for m in api.get("/models").json()["data"]] == ["gpt-image-2.6-flare"]
    server.configure(listed_models=[], retired_models=["gpt-image-1"])
    assert "gpt-image-1" not in {m["id"] for m in api.get("/models").json()["data"]}
    server.configure(list_models=False)
    assert api.get("/models").status_code == 404


def test_stream_error_fault_sends_a_server_error_event_mid_stream(api):
    response = api.post(
        "/images/generations",
        json=NEW | {"prompt": "x [fault:stream_error]", "stream": True, "partial_images": 2},
    )
    sent = events(response)
    assert sent[0]["type"] == "image_generation.partial_image"
    assert sent[-1]["type"].endswith("server_error") and sent[-1]["error"]["type"] == "server_error"
    assert not any(e["type"].endswith("completed") for e in sent)
    plain = api.post("/images/generations", json=NEW | {"prompt": "x [fault:stream_error]"})
    assert plain.status_code == 500


def test_completed_events_carry_the_resolved_size_quality_and_background(api):
    response = api.post("/images/generations", json=NEW | {"stream": True, "partial_images": 1})
    partial, completed = events(response)
    assert (partial["size"], partial["quality"]) == ("auto", "auto")  # as asked
    assert (completed["size"], completed["quality"], completed["background"]) == (
        "1024x1024",
        "medium",
        "opaque",
    )
