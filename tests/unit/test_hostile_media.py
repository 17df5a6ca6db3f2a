"""Media made by someone else: the thumbnails a C2PA manifest carries for its ingredients are
drawn again before a browser gets them, and every media response is sandboxed and nosniff,
whatever is inside it (issue 14, item 1)."""

import io

import c2pa
import pytest
from django.urls import reverse
from PIL import Image as PILImage

from gallery import media
from gallery.jobs import create
from gallery.media import serving, untrusted
from gallery.models import Image, Visibility
from gallery.provenance import credentials, manifests, verification
from tests.helpers import finished

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
SANDBOX = "default-src 'none'; sandbox"


def png(color=(40, 90, 200), size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def with_ingredient_thumbnail(thumbnail: bytes, declared: str) -> bytes:
    """A PNG signed with the studio's credential whose one ingredient carries `thumbnail`
    under the declared format `declared`, as a hostile manifest would."""
    credential = credentials.get_credential()
    info = c2pa.C2paSignerInfo(b"es256", credential.chain_pem, credential.key_pem, None)
    manifest = {
        "claim_generator_info": [{"name": "attacker", "version": "1"}],
        "title": "innocent.png",
        "format": "image/png",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["p"]}}]
                },
            }
        ],
    }
    ingredient = {
        "title": "parent.png",
        "format": "image/png",
        "relationship": "parentOf",
        "label": "p",
        "thumbnail": {"format": declared, "identifier": "thumb"},
    }
    out = io.BytesIO()
    with (
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(manifest, context=manifests._reader_context()) as builder,
    ):
        builder.add_resource("thumb", io.BytesIO(thumbnail))
        builder.add_ingredient(ingredient, "image/png", io.BytesIO(png((1, 2, 3))))
        builder.sign(signer, "image/png", io.BytesIO(png()), out)
    return out.getvalue()


def stored_with_thumbnail(owner, thumbnail: bytes, declared: str) -> Image:
    data = with_ingredient_thumbnail(thumbnail, declared)
    assert manifests.ingredient_thumbnail(data, (0,), mime="image/png") == (
        thumbnail,
        declared.lower(),
    )  # the manifest really carries the hostile thumbnail and type
    # As the worker leaves it: thumbnails made, credentials read (uploads.finish_upload).
    return finished(
        verification.add_to_gallery(owner=owner, data=data, visibility=Visibility.SHARED)
    )


def thumbnail_url(image) -> str:
    return reverse("gallery:image-ingredient-thumbnail", args=[image.pk, "0"])


def test_an_svg_ingredient_thumbnail_with_a_script_is_never_served(alice, alice_client):
    image = stored_with_thumbnail(alice, SVG, "image/svg+xml")
    response = alice_client.get(thumbnail_url(image))
    assert response.status_code == 404
    # The 404 page has scripts of its own (htmx, studio.js): the SVG's payload must not be there.
    assert b"alert(1)" not in response.content and "svg" not in response["Content-Type"]


@pytest.mark.parametrize(
    "declared", ["image/png, text/javascript", "text/html", "image/svg+xml", "image/jpeg"]
)
def test_an_ingredient_thumbnail_is_redrawn_and_its_declared_type_ignored(
    alice, alice_client, declared
):
    polyglot = png((250, 10, 10)) + b"<html><script>alert(1)</script></html>"
    image = stored_with_thumbnail(alice, polyglot, declared)
    response = alice_client.get(thumbnail_url(image))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert b"<script" not in response.content and response.content != polyglot
    with PILImage.open(io.BytesIO(response.content)) as shown:
        assert shown.format == "WEBP" and shown.size == (40, 30)
        assert shown.convert("RGB").getpixel((20, 15))[0] > 200  # the same picture
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_declared_thumbnail_type_with_a_line_break_is_not_a_server_error(alice, alice_client):
    image = stored_with_thumbnail(alice, png(), "image/png\r\nX-Injected: 1")
    response = alice_client.get(thumbnail_url(image))
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert "X-Injected" not in response


def test_verify_shows_ingredient_thumbnails_redrawn_never_as_declared(alice_client):
    data = with_ingredient_thumbnail(png() + b"<script>alert(1)</script>", "text/html")
    html = alice_client.post(reverse("gallery:verify"), {"file": io.BytesIO(data)}).content.decode()
    assert "data:text/html" not in html and "data:image/webp;base64," in html


def test_redraw_refuses_pictures_too_large_to_decode_before_decoding():
    header = png(size=(1, 1))
    huge = io.BytesIO()
    PILImage.new("1", (5000, 5000)).save(huge, "PNG")  # 25 MP, a few KB
    assert untrusted.redraw(header) is not None
    assert untrusted.redraw(huge.getvalue()) is None
    assert untrusted.redraw(SVG) is None and untrusted.redraw(b"") is None


def test_every_media_response_is_sandboxed_and_nosniff(alice, alice_client, settings):
    image = stored_with_thumbnail(alice, png(), "image/png")
    job = create.create_job(owner=alice, prompt="p", model="gpt-image-1")
    job.partial_file = media.store_derived(png(), folder=f"partials/{job.pk}", extension="png")
    job.save(update_fields=["partial_file"])
    urls = [
        reverse("gallery:image-original", args=[image.pk]),
        reverse("gallery:image-original", args=[image.pk]) + "?download",
        reverse("gallery:image-thumbnail", args=[image.pk, 512]),
        reverse("gallery:image-thumbnail", args=[image.pk, 256]),
        reverse("gallery:image-manifest", args=[image.pk]),
        reverse("gallery:job-partial", args=[job.pk]),
        thumbnail_url(image),
    ]
    for url in urls:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == SANDBOX, url
        assert response["X-Content-Type-Options"] == "nosniff", url
    # A revalidation (304) and a front server's X-Accel-Redirect carry it too.
    again = alice_client.get(urls[0], HTTP_IF_NONE_MATCH=f'"{image.sha256}"')
    assert again.status_code == 304 and again["Content-Security-Policy"] == SANDBOX
    settings.STUDIO_MEDIA_ACCEL = "x-accel-redirect"
    accelerated = alice_client.get(urls[0])
    assert accelerated["X-Accel-Redirect"] and accelerated["Content-Security-Policy"] == SANDBOX
    assert serving.MEDIA_POLICY == SANDBOX
