"""What an upload may cost the web request (issue 14, item 6): sizes that take seconds to
decode are refused from the header, and an accepted upload is only stored (byte-for-byte)
in the request; its thumbnails and Content Credentials come from the worker, and until then
the image says it is processing. `manage.py bench_uploads` prints the request times."""

import io
import struct
import zlib
from datetime import timedelta

import PIL.Image
import PIL.ImageFile
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gallery import media, provenance, tasks
from gallery.jobs import uploads
from gallery.models import Image
from tests.helpers import finished

pytestmark = pytest.mark.django_db

UPLOAD = reverse("gallery:edit-upload")


def grey_png(width: int, height: int) -> bytes:
    """A valid PNG made without Pillow: every row a filter byte and grey pixels, so even 40
    million rows compress to some 76 KB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = zlib.compress((b"\x00" + b"\x80" * width) * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def png(width=64, height=48) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", (width, height), (20, 140, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def no_decoding(monkeypatch):
    def forbidden(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", forbidden)


@pytest.mark.parametrize(("width", "height"), [(1, 40_000_000), (40_000_000, 1), (21, 1)])
def test_thin_images_are_refused_from_the_header_before_decoding(width, height, no_decoding):
    with pytest.raises(uploads.UploadRefused, match="at most 20 times the other"):
        uploads.check(grey_png(width, height), name="thin.png")


def test_the_aspect_limit_is_a_setting(settings):
    settings.STUDIO_UPLOAD_MAX_ASPECT_RATIO = 50
    assert uploads.check(grey_png(1, 50), name="thin.png").height == 50
    with pytest.raises(uploads.UploadRefused, match="at most 50 times"):
        uploads.check(grey_png(1, 51), name="thin.png")


def test_a_refused_thin_upload_stores_nothing(alice_client, media_root):
    thin = SimpleUploadedFile("thin.png", grey_png(1, 40_000_000), content_type="image/png")
    response = alice_client.post(UPLOAD, {"file": thin})
    assert response.status_code == 400
    assert "1x40000000 pixels; one side may be at most 20 times" in response.json()["error"]
    assert Image.objects.count() == 0
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_an_upload_is_stored_first_and_processed_by_the_worker(
    alice, alice_client, monkeypatch, django_capture_on_commit_callbacks
):
    def forbidden(*args, **kwargs):
        raise AssertionError("derived work ran in the web request")

    data = png(600, 400)
    with monkeypatch.context() as patch:
        patch.setattr(media, "make_thumbnails", forbidden, raising=False)
        patch.setattr(media, "store", forbidden)
        patch.setattr(provenance, "read", forbidden)
        with django_capture_on_commit_callbacks() as enqueued:
            file = SimpleUploadedFile("photo.png", data, content_type="image/png")
            response = alice_client.post(UPLOAD, {"file": file})
    assert response.status_code == 200
    image = Image.objects.get(pk=response.json()["id"])
    assert media.read(image.file.name) == data  # the original, byte-for-byte, at once
    assert image.provenance_state == Image.Provenance.PENDING and image.thumbnail.name == ""
    assert (image.thumbnail_width, image.thumbnail_height) == (512, 341)
    rung = [(callback.func.__self__.name, callback.args) for callback in enqueued]
    assert rung == [(tasks.finish_upload.name, (image.pk,))]

    # Until the worker has run: a placeholder that no cache keeps, and the pages say so.
    thumbnail = alice_client.get(response.json()["thumbnail"])
    assert thumbnail.status_code == 302 and thumbnail["Location"].endswith("processing.svg")
    assert thumbnail["Cache-Control"] == "no-store"
    page = alice_client.get(image.get_absolute_url()).content.decode()
    assert "Processing: the studio is making this upload" in page
    gallery = alice_client.get(reverse("gallery:gallery"), {"kind": "all"}).content.decode()
    assert "Content Credentials: Processing" in gallery

    image = finished(image)
    assert image.provenance_state == Image.Provenance.NONE
    assert (image.thumbnail_width, image.thumbnail_height) == (512, 341)
    served = alice_client.get(response.json()["thumbnail"])
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert "Processing:" not in alice_client.get(image.get_absolute_url()).content.decode()
    assert uploads.finish_upload(image.pk) is False  # done once, whoever rings again


def test_uploads_left_processing_are_rung_again(alice):
    image = uploads.store_unprocessed(owner=alice, data=png())
    assert uploads.unfinished(older_than=timedelta(seconds=60)) == []
    Image.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert uploads.unfinished(older_than=timedelta(seconds=60)) == [image.pk]
    finished(image)
    assert uploads.unfinished(older_than=timedelta(seconds=60)) == []
