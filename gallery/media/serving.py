"""Sending stored media to a browser after a view has decided the person may see it.

With STUDIO_MEDIA_ACCEL=off the file streams through Django. In production a front server
can send it instead, after the view authorised the request: "x-accel-redirect" (nginx: an
`internal` location at STUDIO_MEDIA_ACCEL_PREFIX aliasing the media folder) or "x-sendfile"
(Apache mod_xsendfile, lighttpd: STUDIO_MEDIA_ACCEL_PREFIX is the media folder's path on
the front server's disk). On S3 (STUDIO_MEDIA_STORAGE=s3) images stream from the bucket, and
downloads redirect to a presigned URL that expires within a minute. Either way media never has
a public URL of its own, and every response carries its real type, nosniff, a sandboxing
Content-Security-Policy, a safe Content-Disposition and cache headers that keep private
images out of shared caches and make browsers ask again before reusing them.
"""

from typing import Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from gallery import media

# Content-addressed files never change, so shared ones may be kept by the browser; private
# ones are revalidated each time, so a person who loses access stops getting them.
SHARED_CACHE = "private, max-age=31536000, immutable"
PRIVATE_CACHE = "private, no-cache"
# A media response is never a page: should a browser ever be talked into rendering one as
# HTML or SVG, it runs no script, loads nothing and gets an origin of its own.
MEDIA_POLICY = "default-src 'none'; sandbox"
# An SVG output (gpt-image-2.6) may style itself, nothing more.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
R = TypeVar("R", bound=HttpResponseBase)


def harden(response: R) -> R:
    """The headers every media response carries, whoever made it (views that send media
    call this; the site-wide policy middleware leaves an existing policy alone)."""
    response["Content-Security-Policy"] = MEDIA_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_response(
    request,
    name: str,
    *,
    content_type: str,
    filename: str,
    etag: str,
    private: bool,
    attachment: bool = False,
) -> HttpResponseBase:
    """The stored file `name` as a response; Http404 when it is missing from storage."""
    disposition = content_disposition_header(attachment, filename) or ""
    response: HttpResponseBase
    if client_has(request, etag):
        response = HttpResponseNotModified()
    elif settings.STUDIO_MEDIA_STORAGE == "s3":
        if attachment:
            redirect = _presigned_redirect(name, content_type=content_type, disposition=disposition)
            redirect["Cache-Control"] = "private, no-store"  # the signed URL expires
            return harden(redirect)
        response = _streamed_from_s3(name)
        response["Content-Type"] = content_type
        response["Content-Disposition"] = disposition
    else:
        response = _accelerated(name) if settings.STUDIO_MEDIA_ACCEL != "off" else _streamed(name)
        response["Content-Type"] = content_type
        response["Content-Disposition"] = disposition
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = PRIVATE_CACHE if private else SHARED_CACHE
    harden(response)
    if content_type == media.SVG:
        # A vector image is a document: whatever it holds, it may run nothing (its own
        # inline styles may apply, so it still looks as drawn).
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        )
    return response


def _streamed(name: str) -> FileResponse:
    try:
        handle = media.open_file(name)
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    return FileResponse(handle)


def _accelerated(name: str) -> HttpResponse:
    if not default_storage.exists(name):
        raise Http404("The file is missing from storage.")
    response = HttpResponse()
    prefix = settings.STUDIO_MEDIA_ACCEL_PREFIX.rstrip("/")
    if settings.STUDIO_MEDIA_ACCEL == "x-accel-redirect":
        response["X-Accel-Redirect"] = f"{prefix}/{quote(name)}"
    else:
        response["X-Sendfile"] = f"{prefix}/{name}"
    return response


# On S3 (gallery/media/s3.py) a download (attachment) is a redirect to a presigned URL that
# expires in STUDIO_S3_URL_SECONDS; images shown in pages stream through this process, so pages
# need no origin but the studio's own. Either way only after the view authorised the request.


def _presigned_redirect(name: str, *, content_type: str, disposition: str) -> HttpResponseBase:
    storage: Any = default_storage
    if not storage.exists(name):
        raise Http404("The file is missing from storage.")
    url = storage.download_url(name, content_type=content_type, disposition=disposition)
    return HttpResponseRedirect(url)


def _streamed_from_s3(name: str) -> StreamingHttpResponse:
    storage: Any = default_storage
    try:
        return StreamingHttpResponse(storage.stream(name))
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None


def client_has(request, etag: str) -> bool:
    """Whether the browser says it already holds this version (If-None-Match)."""
    header = request.headers.get("If-None-Match", "")
    held = {part.strip().removeprefix("W/") for part in header.split(",")}
    return f'"{etag}"' in held or "*" in held
