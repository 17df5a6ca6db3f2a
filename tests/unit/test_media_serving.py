"""Media leaves only through authorising views, with safe headers, optionally handed to a
front server (X-Accel-Redirect / X-Sendfile) once the view said yes."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from gallery import media
from gallery.models import Image, Visibility
from gallery.provenance import verification
from tests.helpers import finished

pytestmark = pytest.mark.django_db


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), (9, 99, 199)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def shared(alice):
    return finished(
        verification.add_to_gallery(owner=alice, data=png(), visibility=Visibility.SHARED)
    )


@pytest.fixture
def private(alice):
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), (199, 9, 9)).save(buffer, "PNG")
    return finished(
        verification.add_to_gallery(
            owner=alice, data=buffer.getvalue(), visibility=Visibility.PRIVATE
        )
    )


def original(image):
    return reverse("gallery:image-original", args=[image.pk])


def test_original_has_its_type_nosniff_and_a_safe_disposition(alice_client, shared):
    response = alice_client.get(original(shared))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="studio-{shared.pk}.png"'
    assert b"".join(response.streaming_content) == media.read(shared.file.name)
    download = alice_client.get(original(shared) + "?download")
    assert download["Content-Disposition"] == f'attachment; filename="studio-{shared.pk}.png"'


def test_private_media_is_revalidated_shared_media_is_kept(alice_client, shared, private):
    assert alice_client.get(original(shared))["Cache-Control"] == (
        "private, max-age=31536000, immutable"
    )
    for url in (original(private), reverse("gallery:image-thumbnail", args=[private.pk, 256])):
        response = alice_client.get(url)
        assert response["Cache-Control"] == "private, no-cache"
        assert "public" not in response["Cache-Control"]


def test_a_browser_holding_the_file_gets_304_but_only_after_authorisation(
    client, alice, bob, private
):
    etag = f'"{private.sha256}"'
    client.force_login(alice)
    first = client.get(original(private))
    assert first["ETag"] == etag
    again = client.get(original(private), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    client.force_login(bob)
    assert client.get(original(private), HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_x_accel_redirect_hands_the_file_to_nginx_after_the_check(
    client, alice, bob, private, settings
):
    settings.STUDIO_MEDIA_ACCEL = "x-accel-redirect"
    settings.STUDIO_MEDIA_ACCEL_PREFIX = "/protected-media/"
    client.force_login(alice)
    response = client.get(original(private))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{private.file.name}"
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline; filename=")
    thumb = client.get(reverse("gallery:image-thumbnail", args=[private.pk, 512]))
    assert thumb["X-Accel-Redirect"] == f"/protected-media/{private.thumbnail.name}"
    client.force_login(bob)
    refused = client.get(original(private))
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


def test_x_sendfile_names_the_path_on_the_front_servers_disk(alice_client, shared, settings):
    settings.STUDIO_MEDIA_ACCEL = "x-sendfile"
    settings.STUDIO_MEDIA_ACCEL_PREFIX = "/srv/studio/media"
    response = alice_client.get(original(shared))
    assert response["X-Sendfile"] == f"/srv/studio/media/{shared.file.name}"


def test_a_file_missing_from_storage_is_404_with_acceleration_too(
    alice_client, shared, settings, media_root
):
    (media_root / shared.thumbnail.name).unlink()
    url = reverse("gallery:image-thumbnail", args=[shared.pk, 512])
    assert alice_client.get(url).status_code == 404
    settings.STUDIO_MEDIA_ACCEL = "x-accel-redirect"
    assert alice_client.get(url).status_code == 404


def test_media_has_no_public_url(alice_client, shared):
    for path in ("/media/", "/static/", "/"):
        assert Client().get(path + shared.file.name).status_code == 404
        assert alice_client.get(path + shared.thumbnail.name).status_code == 404


def test_download_of_an_original_is_named_after_its_prompt(alice_client, shared):
    Image.objects.filter(pk=shared.pk).update(prompt="A lighthouse at dusk, oil on canvas!")
    download = alice_client.get(original(shared) + "?download")
    assert download["Content-Disposition"] == (
        f'attachment; filename="a-lighthouse-at-dusk-oil-on-canvas-{shared.pk}.png"'
    )


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("", "studio-7.png"),
        ("日本語の猫 🦊", "studio-7.png"),
        ("word " * 40, "-".join(["word"] * 12) + "-7.png"),  # 59 characters: whole words only
        ("x" * 100, "x" * 60 + "-7.png"),
    ],
)
def test_download_names_are_short_slugs_with_a_fallback(prompt, name):
    assert Image(pk=7, prompt=prompt, content_type="image/png").download_name == name
