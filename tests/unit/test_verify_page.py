"""The Verify page in plain words: one headline per file (every shared fixture), the trust
list it names (official, legacy interim, none), the checked image shown re-drawn, the
ingredient compare slider, the drop-anywhere answer without a reload, and uploads that are not
kept longer than needed."""

import base64
import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image as PILImage

from gallery import provenance
from gallery.provenance import verification
from tests.helpers import C2PA_FIXTURES, SHARED_FIXTURES

pytestmark = pytest.mark.django_db

VERIFY = reverse("gallery:verify")
TEST_ROOTS = (
    SHARED_FIXTURES / "c2pa-signing" / "c2pa-test-credentials" / "test_cert_root_bundle.pem"
)
NOT_ON_LIST = "signature valid · signer not on the trust list: we cannot confirm who signed it"
TEST_SIGNER = "Signed by C2PA Test Signing Cert"

# The headline each fixture gets with the studio's default trust (the official C2PA list).
HEADLINES = {
    "c2pa-rs_C.jpg": (f"{TEST_SIGNER} · {NOT_ON_LIST}", "caution"),
    "c2pa-rs_CA.jpg": (f"{TEST_SIGNER} · {NOT_ON_LIST}", "caution"),
    "c2pa-rs_CACA.jpg": (f"{TEST_SIGNER} · {NOT_ON_LIST}", "caution"),
    "c2pa-rs_XCA.jpg": ("Changed after signing", "bad"),
    "c2pa-rs_cloud.jpg": ("Content Credentials kept online: not checked", "neutral"),
    "c2pa-rs_no_alg.jpg": ("Content Credentials present but unreadable", "neutral"),
    "c2pa-rs_no_manifest.jpg": ("No Content Credentials", "neutral"),
    "c2pa-rs_ocsp.jpg": (f"Edited with generative AI by Adobe Inc. · {NOT_ON_LIST}", "caution"),
    "c2pa-ts_amazon-titan-g1.png": (
        f"Made by Amazon Web Services' image model · {NOT_ON_LIST}",
        "caution",
    ),
    "c2pa-ts_trustnxt-icon-signed-timestamp.jpg": (f"{TEST_SIGNER} · {NOT_ON_LIST}", "caution"),
    "c2pa-c_adobe-content-authenticity_A-signed.png": (
        "Signed by Adobe Inc. · signing certificate expired, so the signature cannot be confirmed",
        "bad",
    ),
    "ms-validator_cards_trusted.webp": (
        f"Signed by C2PA Extension Validator · {NOT_ON_LIST}",
        "caution",
    ),
    "tebs-lab_openai-dalle3-chatgpt_cape-bear.webp": (
        f"Made by OpenAI's image model · {NOT_ON_LIST}",
        "caution",
    ),
}


def fixture(name: str) -> bytes:
    return (C2PA_FIXTURES / name).read_bytes()


def verify(client, name: str, **headers):
    return client.post(VERIFY, {"file": ContentFile(fixture(name), name=name)}, **headers)


def verdict_of(html: str) -> tuple[str, str]:
    found = re.search(r'<h2 id="verdict" class="verdict" data-tone="(\w+)"[^>]*>([^<]*)</h2>', html)
    assert found, "no headline on the page"
    return found.group(2).replace("&#x27;", "'"), found.group(1)


def test_every_fixture_has_a_headline():
    images = {p.name for p in C2PA_FIXTURES.iterdir() if p.suffix in (".jpg", ".png", ".webp")}
    assert images == set(HEADLINES)


@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_headline_for_each_fixture(name):
    text, tone = HEADLINES[name]
    # Signed files name the list their signer is on (none here); the rest name no list.
    signed = tone == "caution" or name == "c2pa-c_adobe-content-authenticity_A-signed.png"
    reading = provenance.read(fixture(name))
    assert verification.headline(reading.summary) == verification.Headline(
        text, tone, "none" if signed else ""
    )


@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_verify_page_leads_with_the_headline(alice_client, name):
    response = verify(alice_client, name)
    assert response.status_code == 200
    assert verdict_of(response.content.decode()) == HEADLINES[name]


def test_the_studios_own_images_name_their_signer_plainly(alice_client):
    out = io.BytesIO()
    PILImage.new("RGB", (48, 32), (40, 90, 200)).save(out, "PNG")
    signed = provenance.sign_generated(out.getvalue(), output_format="png", model="gpt-image-2")
    html = alice_client.post(VERIFY, {"file": ContentFile(signed, name="made.png")}).content
    assert verdict_of(html.decode()) == (
        f"Made by an AI image model, signed by Studio development (TEST) · {NOT_ON_LIST}",
        "caution",
    )


def test_signer_on_the_official_list_says_so(alice_client, settings):
    settings.C2PA_TRUST_ANCHOR_FILES = [*settings.C2PA_TRUST_ANCHOR_FILES, TEST_ROOTS]
    html = verify(alice_client, "c2pa-rs_C.jpg").content.decode()
    assert verdict_of(html) == (
        f"{TEST_SIGNER} · signature valid · signer on the C2PA trust list",
        "good",
    )
    assert "<strong>official C2PA trust list</strong>" in html


def test_signer_on_the_legacy_interim_list_is_told_apart(alice_client, settings):
    settings.C2PA_LEGACY_TRUST_ANCHOR_FILES = [TEST_ROOTS]
    html = verify(alice_client, "c2pa-rs_C.jpg").content.decode()
    assert verdict_of(html) == (
        f"{TEST_SIGNER} · signature valid · signer on the legacy interim trust list, "
        "not on the official C2PA list",
        "caution",
    )
    assert "<strong>legacy interim trust list</strong>" in html
    # A signer on neither list is told it is on neither.
    html = verify(alice_client, "c2pa-ts_amazon-titan-g1.png").content.decode()
    assert verdict_of(html)[0].endswith(NOT_ON_LIST)
    assert "nor on the legacy interim trust list" in html


def test_without_a_legacy_list_the_page_says_it_was_not_checked(alice_client):
    html = verify(alice_client, "tebs-lab_openai-dalle3-chatgpt_cape-bear.webp").content.decode()
    assert "older interim trust list, which this studio does not check" in html
    assert "“OpenAI” is what the file says" in html
    # Signed in 2026, after the interim list froze: that list is no excuse to mention.
    html = verify(alice_client, "c2pa-ts_trustnxt-icon-signed-timestamp.jpg").content.decode()
    assert "is what the file says" in html and "older interim trust list" not in html


def _data_urls(html: str, css_class: str) -> list[bytes]:
    pattern = rf'<img (?:class="{css_class}" )?src="data:image/webp;base64,([^"]+)"'
    return [base64.b64decode(found) for found in re.findall(pattern, html)]


def test_the_checked_image_is_shown_redrawn_not_as_uploaded(alice_client):
    name = "c2pa-rs_C.jpg"
    html = verify(alice_client, name).content.decode()
    preview = html.split('<div class="verify-preview">')[1].split("</div>")[0]
    data = base64.b64decode(re.search(r'src="data:image/webp;base64,([^"]+)"', preview).group(1))
    assert data != fixture(name) and data[8:12] == b"WEBP"
    with PILImage.open(io.BytesIO(data)) as drawn, PILImage.open(C2PA_FIXTURES / name) as source:
        assert drawn.size == source.size or max(drawn.size) == verification.PREVIEW_SIDE
    assert 'alt="The checked image, c2pa-rs_C.jpg"' in preview


def test_a_format_the_studio_does_not_draw_says_no_preview(alice_client):
    out = io.BytesIO()
    PILImage.new("RGB", (20, 20), (9, 9, 9)).save(out, "TIFF")
    html = alice_client.post(
        VERIFY, {"file": ContentFile(out.getvalue(), name="scan.tiff")}
    ).content.decode()
    assert "No preview: the studio draws TIFF files only to check them." in html


def test_an_edit_offers_the_compare_slider_with_its_direct_ingredient(alice_client):
    html = verify(alice_client, "c2pa-rs_CACA.jpg").content.decode()
    compare = html.split('<section class="card verify-compare"')[1].split("</section>")[0]
    # CACA.jpg lists CA.jpg, which lists A.jpg: only the direct ingredient is compared.
    assert compare.count('class="compare-before"') == 1
    assert "The ingredient “CA.jpg”" in compare and 'type="range"' in compare
    assert 'alt="The checked image"' in compare


def test_no_compare_slider_without_ingredient_thumbnails(alice_client):
    html = verify(alice_client, "c2pa-rs_C.jpg").content.decode()
    assert "verify-compare" not in html


def test_technical_details_are_collapsed_below_the_headline(alice_client):
    html = verify(alice_client, "c2pa-rs_XCA.jpg").content.decode()
    assert html.index('id="verdict"') < html.index('<details class="card verify-details">')
    assert '<details class="card verify-details">\n    <summary>Technical details</summary>' in html


def test_a_drop_is_answered_in_place_without_a_page(alice_client):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "verify"}
    response = verify(alice_client, "c2pa-rs_XCA.jpg", **headers)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div class="verify-layout" id="verify">')
    assert verdict_of(html) == ("Changed after signing", "bad")
    assert response["Cache-Control"] == "private, no-store"
    # A refused file is answered in place too (htmx swaps only 200), with the message.
    refused = alice_client.post(
        VERIFY, {"file": ContentFile(b"not an image" * 10, name="x.png")}, **headers
    )
    assert refused.status_code == 200 and "not an image the studio recognises" in (
        refused.content.decode()
    )


def test_without_javascript_the_same_form_posts_a_whole_page(alice_client):
    page = alice_client.get(VERIFY).content.decode()
    assert f'<form action="{VERIFY}" method="post" enctype="multipart/form-data"' in page
    assert 'hx-target="#verify"' in page and "verify.js" in page
    response = verify(alice_client, "c2pa-rs_no_manifest.jpg")
    assert "<html" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


def test_uploads_no_longer_offered_are_deleted_at_once(alice_client):
    names = ["c2pa-rs_C.jpg", "c2pa-rs_CA.jpg", "c2pa-rs_CACA.jpg", "c2pa-rs_ocsp.jpg"]
    for name in names * 2:  # eight checks; the session offers the last five
        verify(alice_client, name)
    _, waiting = default_storage.listdir(verification.PENDING_DIR)
    assert len(waiting) == 5
    assert sorted(f"{t}.bin" for t in alice_client.session["verify_pending"]) == sorted(waiting)
