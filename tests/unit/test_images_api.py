"""The image API client: odd responses through respx (a real server cannot easily produce
them all), the protocol itself against the real stand-in server."""

import base64
import io
import json

import httpx
import PIL.Image
import pytest
import respx

from gallery import imagesapi

BASE = "https://api.example.test/v1"


def png_bytes(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def api(settings, monkeypatch):
    settings.OPENAI_BASE_URL = BASE
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key-1234567890")
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def generate():
    return imagesapi.generate(model="gpt-image-1", prompt="a red fox", size="1024x1024")


def test_minimal_launch_era_response_parses(api):
    data = png_bytes()
    api.post("/images/generations").respond(
        200, json={"created": 1, "data": [{"b64_json": base64.b64encode(data).decode()}]}
    )
    result = generate()
    assert result.images == [data]
    # Without metadata the size and background are read from the image itself.
    assert result.usage is None and (result.size, result.background) == ("8x8", "opaque")


def test_unknown_keys_and_gateway_usage_are_tolerated(api):
    data = png_bytes()
    usage = {
        "input_tokens": 10,
        "output_tokens": 4160,
        "total_tokens": 4170,
        "prompt_tokens": 0,
        "claude_cache_creation_5_m_tokens": 0,
        "input_tokens_details": {"text_tokens": 10, "cached_tokens_details": {}},
    }
    api.post("/images/generations").respond(
        200,
        json={
            "usage": usage,
            "created": 1,
            "extra": {"x": 1},
            "data": [{"b64_json": base64.b64encode(data).decode(), "new_field": True}],
        },
        headers={"x-request-id": "req_abc"},
    )
    result = generate()
    assert result.images == [data]
    assert result.usage["output_tokens"] == 4160
    assert result.request_id == "req_abc"


def test_url_responses_are_downloaded(api):
    data = png_bytes()
    api.post("/images/generations").respond(
        200, json={"created": 1, "data": [{"url": f"{BASE}/f.png"}]}
    )
    api.get("/f.png").respond(200, content=data)
    assert generate().images == [data]


def test_request_body_never_carries_response_format(api):
    data = png_bytes()
    route = api.post("/images/generations").respond(
        200, json={"created": 1, "data": [{"b64_json": base64.b64encode(data).decode()}]}
    )
    generate()
    sent = json.loads(route.calls.last.request.content)
    assert "response_format" not in sent
    assert sent["model"] == "gpt-image-1" and sent["size"] == "1024x1024"
    assert (
        route.calls.last.request.headers["authorization"] == "Bearer sk-test-secret-key-1234567890"
    )


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (
            httpx.Response(200, html="<!doctype html><html>Cloudflare</html>"),
            imagesapi.PermanentError,
            "HTML page",
        ),
        (
            httpx.Response(200, text='{"created": 1, "data": [{"b64_json": "iVBO'),
            imagesapi.TransientError,
            "cut off",
        ),
        # A whole answer that cannot be read would come back (and be charged) again: it is
        # permanent, and says so.
        (
            httpx.Response(200, json={"created": 1, "data": [{"b64_json": "bm90IGFuIGltYWdl"}]}),
            imagesapi.PermanentError,
            "does not decode",
        ),
        (
            httpx.Response(200, json={"created": 1, "data": [{"b64_json": "***"}]}),
            imagesapi.PermanentError,
            "base64",
        ),
        (httpx.Response(200, json={"created": 1}), imagesapi.PermanentError, "no images"),
        (
            httpx.Response(200, text="created=1 data=none"),
            imagesapi.PermanentError,
            "not valid JSON",
        ),
        (
            httpx.Response(524, html="<html>A timeout occurred</html>"),
            imagesapi.TransientError,
            "HTTP 524",
        ),
        (
            httpx.Response(301, headers={"location": "https://elsewhere.test/"}),
            imagesapi.PermanentError,
            "OPENAI_BASE_URL",
        ),
    ],
)
def test_odd_responses_map_to_readable_errors(api, response, kind, words):
    api.post("/images/generations").mock(return_value=response)
    with pytest.raises(kind) as caught:
        generate()
    assert words in caught.value.message


def test_rate_limit_is_transient_and_honours_retry_after_ms(api):
    api.post("/images/generations").respond(
        429,
        json={
            "error": {
                "message": "Rate limit reached",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
        headers={"retry-after-ms": "1500", "retry-after": "2"},
    )
    with pytest.raises(imagesapi.TransientError) as caught:
        generate()
    assert caught.value.retry_after == 1.5
    assert caught.value.status == 429


def test_quota_exhaustion_is_permanent(api):
    api.post("/images/generations").respond(
        429,
        json={
            "error": {
                "message": "You exceeded your current quota",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            }
        },
    )
    with pytest.raises(imagesapi.PermanentError, match="out of credit"):
        generate()


def test_comet_malformed_request_500_is_permanent(api):
    api.post("/images/generations").respond(
        500,
        json={
            "error": {
                "message": "bad field (request id: 2025X)",
                "type": "comet_api_error",
                "param": "",
                "code": "invalid_request",
            }
        },
    )
    with pytest.raises(imagesapi.PermanentError, match="request id: 2025X"):
        generate()


def test_model_not_found_names_the_configured_models(api):
    api.post("/images/generations").respond(
        404,
        json={
            "error": {
                "message": "The model `gpt-image-1` does not exist",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        },
    )
    with pytest.raises(imagesapi.PermanentError) as caught:
        generate()
    assert (
        "gpt-image-1.5" in caught.value.message and "STUDIO_DEFAULT_MODEL" in caught.value.message
    )


def test_the_key_never_appears_in_error_messages(api):
    api.post("/images/generations").respond(
        401,
        json={
            "error": {
                "message": "Incorrect API key provided: sk-test-secret-key-1234567890.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
    )
    with pytest.raises(imagesapi.PermanentError) as caught:
        generate()
    assert "sk-test-secret" not in str(caught.value)
    assert "OPENAI_API_KEY" in caught.value.message


def test_connection_errors_and_timeouts_are_transient(api):
    api.post("/images/generations").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(imagesapi.TransientError, match="Could not reach"):
        generate()
    api.post("/images/generations").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(imagesapi.TransientError, match="did not answer"):
        generate()


def test_retry_after_http_date_and_cap():
    headers = httpx.Headers({"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"})
    assert imagesapi.retry_after(headers) == imagesapi.MAX_RETRY_AFTER
    assert imagesapi.retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert imagesapi.retry_after(httpx.Headers({})) is None


# --- Gateway quirks (recorded shapes) and what can never be parsed -------------------------


def sse(*events: dict) -> bytes:
    return b"".join(
        f"event: {e.get('type', 'x')}\ndata: {json.dumps(e)}\n\n".encode() for e in events
    )


def stream(on_partial=None):
    return imagesapi.generate(
        model="gpt-image-2",
        prompt="a red fox",
        partial_images=1,
        on_partial=on_partial or (lambda index, data: None),
    )


def test_data_as_an_object_instead_of_an_array_parses(api):
    data = png_bytes()
    api.post("/images/generations").respond(
        200, json={"created": 1, "data": {"b64_json": base64.b64encode(data).decode()}}
    )
    assert generate().images == [data]


def test_url_safe_base64_without_padding_parses(api):
    data = png_bytes((9, 7)) + b"\xfb\xff"  # bytes whose base64 has - and _ in the URL alphabet
    encoded = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert "-" in encoded or "_" in encoded
    api.post("/images/generations").respond(
        200, json={"created": 1, "data": [{"b64_json": encoded}]}
    )
    assert generate().images == [data]


def test_a_data_url_prefix_is_tolerated(api):
    data = png_bytes()
    b64 = "data:image/png;base64," + base64.b64encode(data).decode()
    api.post("/images/generations").respond(200, json={"created": 1, "data": [{"b64_json": b64}]})
    assert generate().images == [data]


def test_a_streamed_completed_event_with_a_url_is_downloaded(api):
    data, preview = png_bytes((16, 16)), png_bytes((4, 4))
    api.post("/images/generations").respond(
        200,
        headers={"content-type": "text/event-stream"},
        content=sse(
            {
                "type": "image_generation.partial_image",
                "b64_json": base64.b64encode(preview).decode(),
                "partial_image_index": 0,
            },
            {
                "type": "image_generation.completed",
                "url": f"{BASE}/final.png",
                "size": "auto",
                "quality": "auto",
                "background": "auto",
                "usage": {"input_tokens": 3, "output_tokens": 272, "total_tokens": 275},
            },
        ),
    )
    api.get("/final.png").respond(200, content=data)
    partials = []
    result = stream(lambda index, image: partials.append(image))
    assert result.images == [data] and partials == [preview]
    # `auto` echoed back says nothing: what was made is read from the image itself.
    assert (result.size, result.quality, result.background) == ("16x16", None, "opaque")


def test_a_mid_stream_server_error_event_is_transient(standin):
    with pytest.raises(imagesapi.TransientError) as caught:
        imagesapi.generate(
            model="gpt-image-2.6-flare",
            prompt="a fox [fault:stream_error]",
            partial_images=2,
            on_partial=lambda index, data: None,
        )
    assert "server error" in caught.value.message and caught.value.code == "server_error"


def test_a_mid_stream_refusal_event_is_permanent(api):
    api.post("/images/generations").respond(
        200,
        headers={"content-type": "text/event-stream"},
        content=sse(
            {
                "type": "error",
                "error": {"type": "image_generation_user_error", "code": "moderation_blocked",
                          "message": "Your request was rejected by the safety system."},
            }
        ),
    )  # fmt: skip
    with pytest.raises(imagesapi.PermanentError) as caught:
        stream()
    assert caught.value.code == "moderation_blocked"


def test_an_unreadable_answer_fails_the_job_at_once_and_says_so(alice, standin, settings):
    from gallery import jobs
    from gallery.models import Job

    settings.STUDIO_JOB_MAX_ATTEMPTS = 4
    job = jobs.create_job(owner=alice, prompt="x [fault:bad_image]", model="gpt-image-2")
    assert jobs.run_job(jobs.claim_job(job.pk)) is None  # no retry scheduled
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1
    assert "could not be read" in job.error and "not repeated" in job.error


def test_streamed_jobs_record_what_the_api_resolved_not_auto(alice, standin):
    from gallery import jobs

    job = jobs.create_job(
        owner=alice, prompt="a heron", model="gpt-image-2.6-flare", partial_images=1
    )
    assert job.params["quality"] == "auto" and job.params["size"] == "auto"
    jobs.run_job(jobs.claim_job(job.pk))
    image = job.images.get()
    assert (image.quality, image.background, image.size) == ("medium", "opaque", "1024x1024")


def test_the_studio_sends_its_uploads_with_an_image_type(alice, standin):
    from gallery import jobs
    from gallery.jobs import edits, uploads

    image = uploads.store_upload(owner=alice, upload=uploads.check(png_bytes((64, 48))))
    standin.clear_requests()
    job = edits.create_edit_job(owner=alice, prompt="a hat", model="gpt-image-2", images=[image])
    jobs.run_job(jobs.claim_job(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    sent = standin.requests()[-1]["files"]
    assert [f["content_type"] for f in sent] == ["image/png"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png_bytes(), "image/png"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_a_file_without_an_image_type_is_sent_with_its_real_one(api, data, expected):
    route = api.post("/images/edits").respond(
        200, json={"created": 1, "data": [{"b64_json": base64.b64encode(png_bytes()).decode()}]}
    )
    imagesapi.edit(
        model="gpt-image-2",
        prompt="x",
        images=[imagesapi.InputFile("blob", data, "application/octet-stream")],
    )
    body = route.calls.last.request.content
    assert f"Content-Type: {expected}".encode() in body
    assert b"application/octet-stream" not in body


def test_models_listing_keeps_image_models_and_their_shutdown_dates(api):
    api.get("/models").respond(
        200,
        json={
            "object": "list",
            "data": [
                {"id": "gpt-image-2.6-flare", "object": "model", "shutdown_date": None},
                {"id": "gpt-image-1.5", "object": "model", "shutdown_date": "2026-12-01"},
                {"id": "gpt-5", "object": "model"},
                {"id": "whisper-1", "object": "model"},
            ],
        },
    )
    assert imagesapi.list_models() == [
        {"id": "gpt-image-2.6-flare", "shutdown_date": None},
        {"id": "gpt-image-1.5", "shutdown_date": "2026-12-01"},
    ]


@pytest.mark.parametrize(
    "response",
    [httpx.Response(404, json={"error": {"message": "no"}}), httpx.Response(200, html="<html>")],
)
def test_a_gateway_that_does_not_list_models_says_nothing(api, response):
    api.get("/models").mock(return_value=response)
    assert imagesapi.list_models() is None
