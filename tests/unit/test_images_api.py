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
