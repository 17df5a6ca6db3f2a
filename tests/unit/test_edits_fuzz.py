"""Fuzzing the upload and edit endpoints with Hypothesis: random bytes, damaged images and
random form fields never give a 5xx, and a refusal never stores anything.

Run with `-s` to see how many examples ran (the count is printed at the end of each test)."""

import io

import PIL.Image
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gallery.models import Image, Job

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _encoded(fmt: str, size: tuple[int, int], mode: str) -> bytes:
    out = io.BytesIO()
    PIL.Image.new(mode, size, (10, 200, 30, 128)[: len(mode)]).save(out, fmt)
    return out.getvalue()


SEEDS = [
    _encoded("PNG", (16, 12), "RGB"),
    _encoded("PNG", (16, 12), "RGBA"),
    _encoded("JPEG", (16, 12), "RGB"),
    _encoded("WEBP", (16, 12), "RGB"),
    _encoded("GIF", (16, 12), "RGB"),
]


@st.composite
def damaged_images(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[: cut if draw(st.booleans()) else len(data)])


file_contents = st.one_of(st.binary(max_size=2048), damaged_images(), st.sampled_from(SEEDS))
content_types = st.sampled_from(
    [
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/svg+xml",
        "application/octet-stream",
        "",
        "text/plain",
    ]
)
# The test client cannot send names like "/" (Django refuses to build such an upload).
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _.()-]{0,30}", fullmatch=True)
text = st.text(max_size=60)


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    """Hundreds of requests a minute are the point here; test_edits checks the limits."""
    settings.STUDIO_UPLOADS_PER_MINUTE = 0
    settings.STUDIO_JOBS_PER_MINUTE = 0


def _counts() -> tuple[int, int]:
    return Image.objects.count(), Job.objects.count()


def test_upload_endpoint_never_fails_and_stores_nothing_on_refusal(alice_client):
    ran = 0

    @FUZZ
    @given(data=file_contents, name=names, content_type=content_types)
    def check(data, name, content_type):
        nonlocal ran
        ran += 1
        before = _counts()
        upload = SimpleUploadedFile(
            name, data, content_type=content_type or "application/octet-stream"
        )
        response = alice_client.post(reverse("gallery:edit-upload"), {"file": upload})
        assert response.status_code in (200, 400), response.content[:300]
        if response.status_code == 400:
            assert response.json()["error"]
            assert _counts() == before

    check()
    print(f"\nupload endpoint: {ran} examples")
    assert ran >= 100


def test_edit_endpoint_never_fails_and_stores_nothing_on_refusal(alice_client, alice):
    ran = 0

    @FUZZ
    @given(
        files=st.lists(st.tuples(file_contents, names, content_types), max_size=3),
        mask=st.none() | file_contents,
        fields=st.fixed_dictionaries(
            {
                "prompt": text,
                "model": st.sampled_from(["gpt-image-1", "gpt-image-2", "nope", ""]) | text,
                "n": st.sampled_from(["1", "2", "0", "11", "x", ""]) | text,
                "size": st.sampled_from(["auto", "1024x1024", "9x9"]) | text,
                "quality": st.sampled_from(["low", "auto"]) | text,
                "background": st.sampled_from(["auto", "transparent"]) | text,
                "output_format": st.sampled_from(["png", "jpeg", "webp"]) | text,
                "input_fidelity": st.sampled_from(["", "low", "high"]) | text,
                "keep_unmasked": st.sampled_from(["", "on"]),
                "image_ids": st.lists(
                    st.sampled_from(["1", "999999", "-1", "abc"]) | text, max_size=3
                ),
            }
        ),
    )
    def check(files, mask, fields):
        nonlocal ran
        ran += 1
        before = _counts()
        data = dict(fields)
        data["uploads"] = [
            SimpleUploadedFile(name, content, content_type=kind or "application/octet-stream")
            for content, name, kind in files
        ]
        if mask is not None:
            data["mask"] = SimpleUploadedFile("mask.png", mask, content_type="image/png")
        response = alice_client.post(reverse("gallery:edit"), data, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 400), response.content[:300]
        if response.status_code == 400:
            assert b'role="alert"' in response.content
            assert _counts() == before

    check()
    print(f"\nedit endpoint: {ran} examples")
    assert ran >= 100
