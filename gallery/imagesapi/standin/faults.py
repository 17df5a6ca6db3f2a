"""The failures the stand-in can produce, and the bodies they send.

Error bodies copy what OpenAI (or CometAPI, or Cloudflare in front of either) sends, as far as
the shared notes (§6, §8.4) record it. How each fault is delivered (when, and whether the
connection survives) is the server's business; this module only names and describes them.
"""

import math
import random
import re
import string
import time

from .validation import ApiError, model_not_found

FAULTS = {
    "429": "429 rate_limit_exceeded with retry-after, retry-after-ms and x-ratelimit-* headers",
    "429_quota": "429 insufficient_quota, no retry-after (retrying cannot help)",
    "500": "500 server_error in OpenAI's envelope",
    "502": "502 Bad Gateway as an HTML page (Cloudflare)",
    "503": "503 server_error: overloaded",
    "524": "524 Cloudflare origin timeout as an HTML page",
    "html": "200 with an HTML page instead of JSON",
    "truncated": "200 JSON cut off in the middle (Content-Length matches what is sent)",
    "bad_image": "200 JSON whose b64_json does not decode to an image",
    "slow": "the normal reply after extra delay (slow_seconds)",
    "hang": "no reply for hang_seconds (or until the server stops), then the socket closes",
    "reset": "headers and half the body, then a TCP reset",
    "moderation": "400 moderation_blocked with moderation_details",
    "moderation_plain": "400 moderation_blocked without moderation_details (2025 wording)",
    "org_verification": "403 organization must be verified",
    "401": "401 invalid_api_key",
    "model_not_found": "404 model_not_found for the requested model",
    "comet": "CometAPI 500 comet_api_error with code invalid_request (do not retry)",
    "comet_400": "CometAPI 400 comet_api_error with empty code",
    "stream_cut": "streaming: the stream ends after the first partial image, with no completed "
    "event (a non-streaming request gets `reset`)",
    "echo_key": "400 whose message and x-request-id echo the Authorization header (a leaky "
    "gateway)",
    "echo_key_redirect": "302 whose Location and x-request-id echo the Authorization header",
    "stream_error": "streaming: after the first event, an error event whose type ends in "
    "server_error (a non-streaming request gets `500`)",
}

# Faults answered at once: the API refuses before doing any work.
IMMEDIATE = {"401", "429", "429_quota", "org_verification", "model_not_found", "moderation"}
IMMEDIATE |= {"moderation_plain"}
# Faults answered with an error body after the request's latency, as if the work failed.
ERRORS_AFTER_WORK = {"500", "503", "comet", "comet_400"}
HTML_ERRORS = {"502": 502, "524": 524}
# Faults that send the caller's own key back, so tests can prove the client never keeps it.
ECHO_KEY = {"echo_key", "echo_key_redirect"}

TOKEN = re.compile(r"\[fault:([A-Za-z0-9_]+)\]")


def from_prompt(prompt: str) -> str | None:
    """The fault named by a `[fault:NAME]` token in the prompt, if any."""
    match = TOKEN.search(prompt)
    if not match:
        return None
    name = match[1].lower()
    if name not in FAULTS:
        raise ApiError(
            400,
            f"Unknown stand-in fault '{name}' in the prompt. Known faults: "
            f"{', '.join(sorted(FAULTS))}.",
            param="prompt",
            code="invalid_value",
        )
    return name


def error(fault: str, *, model: str, request_id: str, retry_after: float) -> ApiError:
    """The ApiError a JSON-envelope fault sends."""
    if fault == "429":
        return ApiError(
            429,
            f"Rate limit reached for {model} in organization org-standin on images per minute "
            f"(IPM): Limit 5, Used 5, Requested 1. Please try again in {retry_after:g}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            type="requests",
            code="rate_limit_exceeded",
            headers={
                "retry-after": str(max(1, math.ceil(retry_after))),
                "retry-after-ms": str(round(retry_after * 1000)),
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": go_duration(retry_after),
            },
        )
    if fault == "429_quota":
        return ApiError(
            429,
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
    if fault == "500":
        return ApiError(
            500,
            "The server had an error while processing your request. Sorry about that! You can "
            "retry your request, or contact us through our help center at help.openai.com if "
            f"the error persists. (Please include the request ID {request_id} in your message.)",
            type="server_error",
        )
    if fault == "503":
        return ApiError(
            503,
            "The engine is currently overloaded, please try again later.",
            type="server_error",
        )
    if fault == "moderation":
        return ApiError(
            400,
            "Your request was rejected by the safety system. If you believe this is an error, "
            "contact us at help.openai.com and include the request ID "
            f"{request_id}. safety_violations=[violence].",
            type="image_generation_user_error",
            code="moderation_blocked",
            extra={"moderation_details": {"moderation_stage": "input", "categories": ["violence"]}},
        )
    if fault == "moderation_plain":
        return ApiError(
            400,
            "Your request was rejected as a result of our safety system. Your request may "
            "contain content that is not allowed by our safety system.",
            type="image_generation_user_error",
            code="moderation_blocked",
        )
    if fault == "org_verification":
        return ApiError(
            403,
            f"Your organization must be verified to use the model `{model}`. Please go to: "
            "https://platform.openai.com/settings/organization/general and click on Verify "
            "Organization. If you just verified, it can take up to 15 minutes for access to "
            "propagate.",
        )
    if fault == "401":
        return ApiError(
            401,
            "Incorrect API key provided: ****************fake. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    if fault == "model_not_found":
        return model_not_found(model)
    if fault == "comet":
        return _comet(500, "invalid_request", "bad upstream response: invalid request")
    if fault == "comet_400":
        return _comet(400, "", "model name is required")
    raise ValueError(f"{fault!r} is not a JSON-envelope fault")


def echo_key(fault: str, authorization: str) -> ApiError:
    """A gateway that repeats the request's Authorization value where clients copy text from:
    the request id header, the error message, a redirect's Location."""
    headers = {"x-request-id": authorization}
    if fault == "echo_key_redirect":
        headers["Location"] = f"https://login.example.test/?auth={authorization}"
        return ApiError(302, "Moved", headers=headers)
    return ApiError(400, f"Request refused for Authorization: {authorization}", headers=headers)


def _comet(status: int, code: str, text: str) -> ApiError:
    """CometAPI's envelope (notes §8.4): param and code are strings, possibly empty, and the
    request id is only in the message."""
    comet_id = time.strftime("%Y%m%d%H%M%S") + "".join(random.choices(string.digits, k=12))
    return ApiError(
        status, f"{text} (request id: {comet_id})", type="comet_api_error", param="", code=code
    )


def html_page(fault: str) -> bytes:
    """The HTML body of the 502, 524 and html faults: what a proxy in front of the API sends."""
    if fault == "502":
        return (
            b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
            b"</body>\r\n</html>\r\n"
        )
    if fault == "524":
        return (
            b'<!DOCTYPE html>\n<html lang="en-US"><head><title>api.openai.com | 524: A timeout '
            b"occurred</title></head><body><h1>A timeout occurred</h1><p>Error code 524</p>"
            b"<p>The origin web server timed out responding to this request.</p>"
            b"<p>Cloudflare Ray ID: 8f2a1c3b4d5e6f70</p></body></html>\n"
        )
    return (
        b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>'
        b"<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>\n"
    )


def go_duration(seconds: float) -> str:
    """A duration the way x-ratelimit-reset-* headers write it: 12ms, 1.5s, 6m0s."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


def stream_error_event(prefix: str, request_id: str) -> dict:
    """The event a stream that fails mid-way sends: an error object in OpenAI's envelope
    (the SDK raises on any event with an `error`), under a type ending in server_error."""
    return {
        "type": f"{prefix}.server_error",
        "error": {
            "message": "The server had an error while processing your request. Sorry about "
            "that! You can retry your request, or contact us through our help center at "
            f"help.openai.com if the error persists. (Please include the request ID "
            f"{request_id} in your message.)",
            "type": "server_error",
            "param": None,
            "code": "server_error",
        },
    }
