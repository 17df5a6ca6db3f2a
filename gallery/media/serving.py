"""Sending stored media to a browser after a view has decided the person may see it.

With STUDIO_MEDIA_ACCEL=off the file streams through Django. In production a front server
can send it instead, after the view authorised the request: "x-accel-redirect" (nginx: an
`internal` location at STUDIO_MEDIA_ACCEL_PREFIX aliasing the media folder) or "x-sendfile"
(Apache mod_xsendfile, lighttpd: STUDIO_MEDIA_ACCEL_PREFIX is the media folder's path on
the front server's disk). Either way media never has a public URL of its own, and every
response carries its real type, nosniff, a safe Content-Disposition and cache headers that
keep private images out of shared caches and make browsers ask again before reusing them.
"""

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.utils.http import content_disposition_header

from gallery import media

# Content-addressed files never change, so shared ones may be kept by the browser; private
# ones are revalidated each time, so a person who loses access stops getting them.
SHARED_CACHE = "private, max-age=31536000, immutable"
PRIVATE_CACHE = "private, no-cache"


def file_response(
    request,
    name: str,
    *,
    content_type: str,
    filename: str,
    etag: str,
    private: bool,
    attachment: bool = False,
) -> HttpResponse:
    """The stored file `name` as a response; Http404 when it is missing from storage."""
    if client_has(request, etag):
        response = HttpResponseNotModified()
    else:
        response = _accelerated(name) if settings.STUDIO_MEDIA_ACCEL != "off" else None
        if response is None:
            try:
                handle = media.open_file(name)
            except FileNotFoundError:
                raise Http404("The file is missing from storage.") from None
            response = FileResponse(handle)
        response["Content-Type"] = content_type
        response["Content-Disposition"] = content_disposition_header(attachment, filename)
    response["ETag"] = f'"{etag}"'
    response["X-Content-Type-Options"] = "nosniff"
    if content_type == media.SVG:
        # A vector image is a document: whatever it holds, it may run nothing.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        )
    response["Cache-Control"] = PRIVATE_CACHE if private else SHARED_CACHE
    return response


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


def client_has(request, etag: str) -> bool:
    """Whether the browser says it already holds this version (If-None-Match)."""
    header = request.headers.get("If-None-Match", "")
    held = {part.strip().removeprefix("W/") for part in header.split(",")}
    return f'"{etag}"' in held or "*" in held
