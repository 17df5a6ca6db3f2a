"""What reading Content Credentials costs per request (issue 14, item 5): a manifest is read
once per file, however many ingredients it lists and however many thumbnails a page asks for,
and pages list a bounded number of ingredients. Costs are counted in reader openings (opening
validates the whole store, the expensive part); `manage.py bench_verify` prints the times."""

import io
import json
import re

import c2pa
import PIL.Image
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from gallery import provenance
from gallery.provenance import manifests, verification
from tests.helpers import SHARED_FIXTURES, finished

pytestmark = pytest.mark.django_db

CREDENTIALS = SHARED_FIXTURES / "c2pa-signing" / "c2pa-test-credentials"
INGREDIENTS = 12


def png(number: int, size: int = 48) -> bytes:
    out = io.BytesIO()
    colour = ((number * 37) % 256, (number * 91) % 256, (number * 13) % 256)
    PIL.Image.new("RGB", (size, size), colour).save(out, "PNG")
    return out.getvalue()


def many_ingredients(count: int) -> bytes:
    """An edit signed with the shared test credential whose manifest lists `count`
    ingredients (a parent and count - 1 components), each with its thumbnail."""
    with override_settings(
        C2PA_SIGN_CERT_FILE=str(CREDENTIALS / "es256_certs.pem"),
        C2PA_SIGN_KEY_FILE=str(CREDENTIALS / "es256_private.key"),
        C2PA_SIGN_ALG="es256",
        C2PA_TSA_URL=None,
    ):
        return manifests.sign_edit(
            png(0, 96),
            mime="image/png",
            parent=png(1, 96),
            parent_mime="image/png",
            title="collage.png",
            description="a collage of many pictures",
            components=tuple((png(n), "image/png") for n in range(2, count + 1)),
        )


@pytest.fixture(scope="module")
def collage() -> bytes:
    return many_ingredients(INGREDIENTS)


@pytest.fixture
def readers_opened(monkeypatch):
    opened = []
    real = c2pa.Reader

    def counting(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(c2pa, "Reader", counting)
    return opened


def test_the_fixture_lists_every_ingredient_with_a_thumbnail(collage):
    ingredients = provenance.read(collage, mime="image/png").summary["ingredients"]
    assert len(ingredients) == INGREDIENTS and all(i["thumbnail"] for i in ingredients)


def test_verify_reads_the_manifest_once_however_many_ingredients(collage, readers_opened):
    result = verification.check(collage, filename="collage.png", mime="image/png")
    assert len(readers_opened) == 1
    assert len(result.thumbnails) == INGREDIENTS
    assert all(url.startswith("data:image/") for url in result.thumbnails.values())


def test_ingredient_thumbnails_of_a_stored_file_are_read_once(alice, alice_client, collage):
    image = verification.add_to_gallery(owner=alice, data=collage)
    urls = [
        reverse("gallery:image-ingredient-thumbnail", args=[image.pk, key])
        for key in ("0", "5", "0", "11")
    ]
    opened = []
    real = c2pa.Reader
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(c2pa, "Reader", lambda *a, **k: opened.append(a) or real(*a, **k))
        assert [alice_client.get(url).status_code for url in urls] == [200] * 4
        cache.clear()  # another web process: the derived files are shared, not re-read
        assert alice_client.get(urls[1]).status_code == 200
        thumbnail = provenance.ingredient_thumbnail(collage, (5,), mime="image/png")
    assert len(opened) == 1
    assert thumbnail == direct_thumbnail(collage, 5)


def direct_thumbnail(data: bytes, index: int) -> tuple[bytes, str]:
    with c2pa.Reader("image/png", io.BytesIO(data)) as reader:
        store = json.loads(reader.json())
        entry = store["manifests"][store["active_manifest"]]["ingredients"][index]["thumbnail"]
        out = io.BytesIO()
        reader.resource_to_stream(entry["identifier"], out)
    return out.getvalue(), entry["format"]


def test_pages_list_a_bounded_number_of_ingredients(alice, alice_client, collage, monkeypatch):
    monkeypatch.setattr(manifests, "INGREDIENTS_SHOWN", 5, raising=False)
    upload = SimpleUploadedFile("collage.png", collage, content_type="image/png")
    html = alice_client.post(reverse("gallery:verify"), {"file": upload}).content.decode()
    listed = re.search(r'<ol class="cc-ingredients">(.*?)</ol>', html, re.S)[1]
    assert listed.count("<li") == 5
    assert listed.count('src="data:image/') == 5
    assert f"{INGREDIENTS - 5} more ingredients not shown" in html

    image = finished(verification.add_to_gallery(owner=alice, data=collage))
    page = alice_client.get(image.get_absolute_url()).content.decode()
    assert f"{INGREDIENTS - 5} more ingredients not shown" in page
    beyond = reverse("gallery:image-ingredient-thumbnail", args=[image.pk, "8"])
    assert alice_client.get(beyond).status_code == 404
