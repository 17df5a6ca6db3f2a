"""The Content Credentials UI: gallery badges, the image page's panel, the Verify page, the
raw manifest and ingredient thumbnails, and the sha256 check on originals.

Files come from the shared C2PA fixtures (real files signed by OpenAI, Adobe, Amazon, ...);
what each must read as is in their MANIFEST.tsv and is checked by tests/unit/test_provenance.py.
"""

import hashlib
import io
import json
import logging
import socket
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from gallery import jobs, media, provenance
from gallery.models import Image
from gallery.provenance import manifests, verification
from gallery.templatetags.provenance_ui import model_mismatch
from tests.helpers import C2PA_FIXTURES, finished

pytestmark = pytest.mark.django_db

FIXTURES = C2PA_FIXTURES
CAPE_BEAR = "tebs-lab_openai-dalle3-chatgpt_cape-bear.webp"  # OpenAI, AI in the ingredient
CACA = "c2pa-rs_CACA.jpg"  # two-level chain, both ingredients carry thumbnails
NO_MANIFEST = "c2pa-rs_no_manifest.jpg"
VERIFY = reverse("gallery:verify")

# The panel's state label for each fixture with the project's default settings.
EXPECTED_LABELS = {
    "c2pa-rs_C.jpg": "Valid signature, signer not on the trust list",
    "c2pa-rs_CA.jpg": "Valid signature, signer not on the trust list",
    CACA: "Valid signature, signer not on the trust list",
    "c2pa-rs_XCA.jpg": "Tampered",
    "c2pa-rs_cloud.jpg": "Unreadable",
    "c2pa-rs_no_alg.jpg": "Unreadable",
    NO_MANIFEST: "No Content Credentials",
    "c2pa-rs_ocsp.jpg": "Valid signature, signer not on the trust list",
    "c2pa-ts_amazon-titan-g1.png": "Valid signature, signer not on the trust list",
    "c2pa-ts_trustnxt-icon-signed-timestamp.jpg": "Valid signature, signer not on the trust list",
    "c2pa-c_adobe-content-authenticity_A-signed.png": "Invalid credential",
    "ms-validator_cards_trusted.webp": "Valid signature, signer not on the trust list",
    CAPE_BEAR: "Valid signature, signer not on the trust list",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def stored(owner, name: str, **fields) -> Image:
    image = finished(verification.add_to_gallery(owner=owner, data=fixture(name)))
    if fields:
        Image.objects.filter(pk=image.pk).update(**fields)
        image.refresh_from_db()
    return image


def upload(client, data: bytes, name: str):
    return client.post(VERIFY, {"file": ContentFile(data, name=name)})


def encoded(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 24), (200, 60, 30)).save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture
def no_network(monkeypatch):
    """Any network connection opened from Python fails the test. (The native C2PA reader does
    not use Python sockets; its no-fetch setting shows in the "must fetch" message instead.)"""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- Gallery badge and image page -----------------------------------------------------------


def test_gallery_tiles_show_credentials_state_and_ai_mark(alice, alice_client):
    bear = stored(alice, CAPE_BEAR)
    plain = stored(alice, NO_MANIFEST)
    html = alice_client.get(reverse("gallery:gallery"), {"kind": "all"}).content.decode()
    bear_tile = html[html.index(f'href="{bear.get_absolute_url()}"') :]
    bear_tile = bear_tile[: bear_tile.index("</a>")]
    plain_tile = html[html.index(f'href="{plain.get_absolute_url()}"') :]
    plain_tile = plain_tile[: plain_tile.index("</a>")]
    assert 'data-state="valid"' in bear_tile and '<span class="cc-ai">AI</span>' in bear_tile
    assert 'data-state="none"' in plain_tile and "cc-ai" not in plain_tile
    assert "Content Credentials: No Content Credentials" in plain_tile


def test_image_page_panel_shows_signer_time_actions_ai_and_chain(alice, alice_client):
    image = stored(alice, CAPE_BEAR)
    html = alice_client.get(image.get_absolute_url()).content.decode()
    assert "Valid signature, signer not on the trust list" in html
    assert "does not chain to" in html  # the plain-words explanation
    assert "AI-generated" in html and "generative AI" in html and "DALL·E" in html
    assert "OpenAI" in html and "Truepic Lens CLI in ChatGPT" in html
    assert "WebClaimSigningCA (Truepic)" in html  # the issuing CA
    assert "27 Feb 2024, 01:03 UTC" in html and "trusted timestamp" in html
    assert "ChatGPT c2pa-rs/0.28.4" in html  # claim generator
    assert "image.webp" in html and "made from" in html  # the parentOf ingredient
    assert "Created" in html  # the ingredient's c2pa.created action
    assert reverse("gallery:image-manifest", args=[image.pk]) in html


def test_panel_lists_actions_with_agent_and_source_type(alice, alice_client):
    image = stored(alice, "c2pa-rs_ocsp.jpg")
    html = alice_client.get(image.get_absolute_url()).content.decode()
    table = html[html.index('<table class="cc-actions">') : html.index("</table>")]
    assert "Edited" in table and "Adobe Firefly" in table
    assert "edited with generative AI" in table
    assert "Cropped" in table


def test_expired_credential_is_explained_not_called_forged(alice, alice_client):
    image = stored(alice, "c2pa-c_adobe-content-authenticity_A-signed.png")
    html = alice_client.get(image.get_absolute_url()).content.decode()
    assert "Invalid credential" in html
    assert "certificate has since expired" in html and "does not mean the image was altered" in html
    assert "signingCredential.expired" in html


def test_raw_manifest_json_loads_on_demand_and_works_without_js(alice, alice_client):
    image = stored(alice, CAPE_BEAR)
    url = reverse("gallery:image-manifest", args=[image.pk])
    page = alice_client.get(image.get_absolute_url()).content.decode()
    assert "active_manifest" not in page  # not inlined into every page view
    assert f'href="{url}"' in page and f'hx-get="{url}"' in page
    plain = alice_client.get(url)
    assert plain["Content-Type"] == "application/json"
    assert json.loads(plain.content)["active_manifest"]
    partial = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<pre class="cc-json"') and "active_manifest" in partial


def test_image_without_manifest_has_no_raw_json_and_404s_for_it(alice, alice_client):
    image = stored(alice, NO_MANIFEST)
    html = alice_client.get(image.get_absolute_url()).content.decode()
    assert "No Content Credentials" in html and "Raw manifest JSON" not in html
    assert alice_client.get(reverse("gallery:image-manifest", args=[image.pk])).status_code == 404


def test_pending_image_says_processing(alice, alice_client):
    image = stored(alice, NO_MANIFEST, provenance=None, provenance_state="pending")
    html = alice_client.get(image.get_absolute_url()).content.decode()
    assert "Processing" in html


def test_ingredient_thumbnails_come_from_the_stored_original(alice, alice_client):
    image = stored(alice, CACA)
    html = alice_client.get(image.get_absolute_url()).content.decode()
    for path in ("0", "0.0"):
        url = reverse("gallery:image-ingredient-thumbnail", args=[image.pk, path])
        assert f'src="{url}"' in html
        response = alice_client.get(url)
        # Drawn again as WebP (media.untrusted), never the manifest's own bytes.
        assert response.status_code == 200 and response["Content-Type"] == "image/webp"
        assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WEBP"
    for path in ("7", "0.0.0", "x", "-1"):
        url = reverse("gallery:image-ingredient-thumbnail", args=[image.pk, path])
        assert alice_client.get(url).status_code == 404
    url = reverse("gallery:image-ingredient-thumbnail", args=[image.pk, "0"])
    assert Client().get(url).status_code == 302  # signed-in people only


def test_model_mismatch_is_flagged_on_the_image_page(alice, alice_client):
    asked_other = stored(alice, CAPE_BEAR, model="gpt-image-1")
    html = alice_client.get(asked_other.get_absolute_url()).content.decode()
    assert "Model differs from the credentials" in html
    assert "<code>gpt-image-1</code>" in html and "<code>DALL·E</code>" in html
    asked_same = stored(alice, CAPE_BEAR, model="DALL·E")
    html = alice_client.get(asked_same.get_absolute_url()).content.decode()
    assert "Model differs" not in html


def test_model_mismatch_rule():
    assert not model_mismatch("gpt-image-1", ["gpt-image-1"])
    assert not model_mismatch("gpt-image-1", ["Studio 0.1", "gpt-image-1 1.0"])  # name version
    assert not model_mismatch("GPT-Image-1", ["gpt-image-1"])
    assert model_mismatch("gpt-image-1", ["DALL·E"])
    assert model_mismatch("gpt-image-1", ["gpt-image-1-mini"])
    assert not model_mismatch("gpt-image-1", [])  # nothing named, nothing to compare
    assert not model_mismatch("", ["DALL·E"])  # uploads asked for no model


def test_page_views_do_no_c2pa_reading(alice, alice_client, monkeypatch):
    image = stored(alice, CAPE_BEAR)

    def forbidden(*args, **kwargs):
        raise AssertionError("a page view read C2PA")

    monkeypatch.setattr(provenance, "read", forbidden)
    monkeypatch.setattr(manifests, "read", forbidden)
    monkeypatch.setattr(manifests, "_open_reader", forbidden)
    monkeypatch.setattr(manifests.c2pa, "Reader", forbidden)
    detail = alice_client.get(image.get_absolute_url())
    assert detail.status_code == 200 and "Truepic Lens CLI in ChatGPT" in detail.content.decode()
    gallery = alice_client.get(reverse("gallery:gallery"), {"kind": "all"})
    assert gallery.status_code == 200 and "cc-badge" in gallery.content.decode()
    raw = alice_client.get(reverse("gallery:image-manifest", args=[image.pk]))
    assert raw.status_code == 200


# --- Originals: byte-for-byte, sha256 checked on download -----------------------------------


def test_original_is_served_byte_for_byte(alice, alice_client):
    image = stored(alice, CAPE_BEAR)
    response = alice_client.get(reverse("gallery:image-original", args=[image.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == fixture(CAPE_BEAR)


def test_original_whose_bytes_changed_is_refused_with_a_clear_page(alice, alice_client, caplog):
    image = stored(alice, CAPE_BEAR)
    path = Path(default_storage.path(image.file.name))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # one bit-rotted byte
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.ERROR, logger="gallery.views.images"):
        response = alice_client.get(reverse("gallery:image-original", args=[image.pk]))
    assert response.status_code == 409
    assert "no longer matches its fingerprint" in response.content.decode()
    assert image.sha256 in caplog.text


# --- The Verify page ------------------------------------------------------------------------


def test_verify_needs_sign_in_and_is_in_the_nav(alice_client):
    assert Client().get(VERIFY).status_code == 302
    html = alice_client.get(reverse("gallery:gallery"), {"kind": "all"}).content.decode()
    assert f'href="{VERIFY}"' in html and ">Verify</a>" in html


@pytest.mark.parametrize("name", sorted(EXPECTED_LABELS))
def test_verify_shows_every_fixture_as_manifest_tsv_says(alice_client, no_network, name):
    response = upload(alice_client, fixture(name), name)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<span class="cc-state" data-state="{_state_of(EXPECTED_LABELS[name])}">' in html
    assert EXPECTED_LABELS[name] in html
    assert Image.objects.count() == 0  # verifying adds nothing to the gallery


def _state_of(label: str) -> str:
    return next(state for state, text in provenance.STATE_LABELS.items() if text == label)


def test_verify_remote_manifest_says_so_without_fetching(alice_client, no_network):
    html = upload(alice_client, fixture("c2pa-rs_cloud.jpg"), "cloud.jpg").content.decode()
    assert "stored on a remote server, which the studio does not contact" in html
    # The reader refused to fetch; a fetch that failed would say "could not fetch" instead.
    assert "Remote: must fetch remote manifests from url" in html


def test_verify_shows_ingredient_thumbnails_inline(alice_client):
    html = upload(alice_client, fixture(CACA), CACA).content.decode()
    panel = html[html.index('id="content-credentials"') :]
    assert panel.count('src="data:image/webp;base64,') == 2


def test_verify_then_add_to_gallery_stores_the_exact_file(
    alice, alice_client, django_capture_on_commit_callbacks
):
    html = upload(alice_client, fixture(CAPE_BEAR), "bear.webp").content.decode()
    assert "Add to gallery" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    with django_capture_on_commit_callbacks() as enqueued:
        response = alice_client.post(reverse("gallery:verify-add"), {"token": token})
    image = Image.objects.get()
    assert response.status_code == 302 and response["Location"] == image.get_absolute_url()
    assert image.source == Image.Source.UPLOAD and image.owner == alice
    assert image.sha256 == hashlib.sha256(fixture(CAPE_BEAR)).hexdigest()
    assert media.read(image.file.name) == fixture(CAPE_BEAR)
    # The rest is the worker's: the request only stored the bytes and rang.
    assert image.provenance_state == "pending" and len(enqueued) == 1
    image = finished(image)
    assert image.provenance_state == "valid" and image.ai_generated
    assert image.provenance["software_agents"] == ["DALL·E"]
    again = alice_client.post(reverse("gallery:verify-add"), {"token": token})
    assert again.status_code == 400 and "Upload it again" in again.content.decode()
    assert Image.objects.count() == 1


def test_someone_elses_pending_upload_cannot_be_added(alice_client, bob):
    html = upload(alice_client, fixture(CAPE_BEAR), "bear.webp").content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    bob_client = Client()
    bob_client.force_login(bob)
    response = bob_client.post(reverse("gallery:verify-add"), {"token": token})
    assert response.status_code == 400 and Image.objects.count() == 0
    # Still waiting for alice, who uploaded it.
    assert alice_client.post(reverse("gallery:verify-add"), {"token": token}).status_code == 302


@pytest.mark.parametrize(
    ("fmt", "options", "name", "label"),
    [
        ("GIF", {}, "anim.gif", "GIF"),
        ("TIFF", {}, "scan.tiff", "TIFF"),
        ("AVIF", {}, "photo.avif", "AVIF"),
    ],
)
def test_verify_reads_other_formats_but_does_not_add_them(alice_client, fmt, options, name, label):
    html = upload(alice_client, encoded(fmt, **options), name).content.decode()
    assert "No Content Credentials" in html
    assert f"{label} files can be verified here but not added" in html
    assert "Add to gallery" not in html


def test_verify_heic_shaped_bytes_never_500(alice_client):
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    response = upload(alice_client, heic, "phone.heic")
    assert response.status_code == 200 and "HEIC" in response.content.decode()


def test_verify_empty_file_is_a_clear_error(alice_client):
    response = upload(alice_client, b"", "empty.jpg")
    assert response.status_code == 400
    assert "The file is empty" in response.content.decode()


def test_verify_text_with_an_image_name_is_refused(alice_client):
    response = upload(alice_client, b"<html>hello</html>" * 20, "photo.jpg")
    assert response.status_code == 400
    assert "not an image the studio recognises" in response.content.decode()


def test_verify_refuses_files_over_the_limit(alice_client, settings):
    settings.STUDIO_UPLOAD_MAX_BYTES = 10_000
    response = upload(alice_client, fixture(CAPE_BEAR), "bear.webp")
    assert response.status_code == 400
    assert "the limit is 10 KB" in response.content.decode()


def test_verify_truncated_file_shows_a_state_and_cannot_be_added(alice_client, no_network):
    data = fixture("c2pa-rs_C.jpg")
    response = upload(alice_client, data[: len(data) * 2 // 3], "C.jpg")
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be decoded" in html and "Add to gallery" not in html
    assert 'class="cc-state"' in html


def test_verify_goes_by_content_not_by_a_lying_extension(alice_client):
    html = upload(alice_client, fixture("c2pa-rs_C.jpg"), "photo.png").content.decode()
    assert "named .png, but its content is a JPEG image" in html
    assert "Valid signature" in html and "Add to gallery" in html


# --- End to end through the job engine and the stand-in ---------------------------------------


def test_generated_image_reads_valid_ai_with_the_jobs_model_and_the_panel_shows_it(
    alice, alice_client, standin
):
    job = jobs.create_job(
        owner=alice,
        prompt="a lighthouse at dusk",
        model="gpt-image-1",
        quality="low",
        size="1024x1024",
    )
    claimed = jobs.claim_job(job.pk)
    assert jobs.run_job(claimed) is None
    image = job.images.get()
    assert image.provenance_state == "valid" and image.ai_generated
    assert image.provenance["ai_source"]["software_agent"] == job.model
    assert image.provenance["ai_source"]["digital_source_type"] == "trainedAlgorithmicMedia"
    html = alice_client.get(image.get_absolute_url()).content.decode()
    assert "Valid signature, signer not on the trust list" in html and "AI-generated" in html
    assert f"by <strong>{job.model}</strong>" in html
    assert "Model differs" not in html
