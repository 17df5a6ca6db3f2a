"""Property-based attacks on what people send: the create form, the Verify upload (and its
"Add to gallery" step) and the gallery's query string.

Malformed files (random bytes, truncated PNG/JPEG, a PNG header claiming billions of pixels,
SVG, polyglots, empty files, wrong names and declared types) and hostile strings (control
characters, NUL, emoji, 10,000 characters). Every answer must be below 500, and a refusal
must store nothing: row counts and the files under MEDIA_ROOT are unchanged.

HYPOTHESIS_PROFILE=ci (the default here) runs 200 examples per endpoint with no deadline;
"thorough" runs 2,000. Each test prints how many examples it ran (pytest -s shows it).
"""

import io
import os
import struct
import zlib
from collections import Counter
from datetime import date

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from gallery.imagesapi import registry
from gallery.models import Image, Invite, Job, Profile
from gallery.provenance import verification

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytestmark = pytest.mark.django_db


def _encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), (120, 40, 200)).save(buffer, fmt)
    return buffer.getvalue()


PNG, JPEG, WEBP = _encoded("PNG"), _encoded("JPEG"), _encoded("WEBP")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(width: int, height: int) -> bytes:
    """A well-formed PNG header claiming width x height pixels, with almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'

hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.text(
        alphabet=st.sampled_from(
            ["\x00", "\x1b", "\r", "\n", "\u202e", "😀", "𝕏", "'", '"', "<", "%"]
        ),
        max_size=40,
    ),
    st.just("x" * 10_000),
    st.just("<script>alert(1)</script>"),
    st.just("' OR 1=1 --"),
)

malformed_files = st.one_of(
    st.binary(max_size=2048),
    st.just(b""),
    st.integers(0, len(PNG) - 1).map(lambda n: PNG[:n]),
    st.integers(0, len(JPEG) - 1).map(lambda n: JPEG[:n]),
    st.integers(0, len(WEBP) - 1).map(lambda n: WEBP[:n]),
    st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1)).map(lambda wh: huge_png(*wh)),
    st.just(SVG),
    st.just(b"<?xml version='1.0'?>" + SVG),
    # Polyglots: a real image with HTML or a ZIP after it, or HTML before a PNG.
    st.just(PNG + b"<html><script>alert(1)</script></html>"),
    st.just(JPEG + b"PK\x03\x04" + b"\x00" * 26),
    st.just(b"GIF89a/*<script>alert(1)</script>*/=1;"),
    st.just(b"<html>" + PNG),
    # Valid images, to show the endpoint still works amid the garbage.
    st.sampled_from([PNG, JPEG, WEBP]),
    st.binary(min_size=1, max_size=64).map(lambda junk: PNG[:33] + junk + PNG[33:]),
)

declared_types = st.sampled_from(
    ["image/png", "image/jpeg", "image/svg+xml", "text/html", "application/octet-stream", ""]
)
filenames = st.one_of(
    st.sampled_from(["a.png", "a.jpg", "a.svg", "a.html", "noext", ".png", "a.png.exe"]),
    st.text(min_size=1, max_size=300),
)


def multipart(data: bytes, filename: str, declared: str) -> tuple[bytes, str]:
    """A multipart body as a hostile client would write it (the test client would clean
    the file name first)."""
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8", "surrogatepass")
    head = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + quoted
        + b'"\r\n'
        + (f"Content-Type: {declared}\r\n".encode() if declared else b"")
        + b"\r\n"
    )
    return head + data + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def media_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def rows() -> tuple:
    return (
        Job.objects.count(),
        Image.objects.count(),
        Invite.objects.count(),
        Profile.objects.count(),
    )


def report(name: str, tally: Counter) -> None:
    total = sum(tally.values())
    print(
        f"\nfuzz {name}: {total} examples; "
        + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items()))
    )
    assert total > 0


@pytest.fixture
def unlimited(settings):
    settings.STUDIO_JOBS_PER_MINUTE = 0
    settings.STUDIO_UPLOADS_PER_MINUTE = 0


GOOD = {
    "prompt": "a lighthouse",
    "model": "gpt-image-1",
    "n": "1",
    "size": "1024x1024",
    "quality": "low",
    "background": "auto",
    "output_format": "png",
    "output_compression": "",
    "moderation": "auto",
    "visibility": "shared",
}
FIELD_VALUES = {
    "model": st.sampled_from(registry.model_ids()),
    "n": st.sampled_from(["1", "2", "10", "0", "11", "-1", "1e3", "9" * 30]),
    "size": st.sampled_from(["auto", "1024x1024", "1536x1024", "1792x1024", "0x0"]),
    "quality": st.sampled_from(["auto", "low", "medium", "high", "hd", "standard"]),
    "background": st.sampled_from(["auto", "opaque", "transparent"]),
    "output_format": st.sampled_from(["png", "jpeg", "webp", "gif"]),
    "output_compression": st.sampled_from(["", "0", "100", "101", "-5"]),
    "moderation": st.sampled_from(["auto", "low", "strict"]),
    "visibility": st.sampled_from(["shared", "private", "", "public"]),
}


@st.composite
def create_forms(draw):
    data = dict(GOOD)
    for name in draw(st.sets(st.sampled_from(sorted(GOOD)))):
        if draw(st.booleans()):
            data.pop(name)
        elif name in FIELD_VALUES and draw(st.booleans()):
            data[name] = draw(FIELD_VALUES[name])
        else:
            data[name] = draw(hostile_text)
    return data


def test_fuzz_create_form(alice_client, unlimited, media_root, django_capture_on_commit_callbacks):
    tally = Counter()
    url = reverse("gallery:create")

    @given(data=create_forms(), htmx=st.booleans())
    def attack(data, htmx):
        before_rows, before_files = rows(), media_files(media_root)
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        with django_capture_on_commit_callbacks() as queued:
            response = alice_client.post(url, data, **headers)
        assert response.status_code < 500, (data, response.status_code)
        created = Job.objects.count() - before_rows[0]
        assert media_files(media_root) == before_files
        if created:
            assert created == 1 and len(queued) == 1
            job = Job.objects.order_by("-id").first()
            assert job.prompt and job.visibility in ("shared", "private")
            tally["accepted"] += 1
        else:
            assert rows() == before_rows and not queued
            assert response.status_code in ((200,) if htmx else (400,)), response.status_code
            tally["refused"] += 1

    attack()
    report("create form", tally)


def test_fuzz_verify_upload(alice_client, unlimited, media_root):
    tally = Counter()
    url = reverse("gallery:verify")

    @given(data=malformed_files, name=filenames, declared=declared_types)
    def attack(data, name, declared):
        before_rows, before_files = rows(), media_files(media_root)
        body, content_type = multipart(data, name, declared)
        response = alice_client.post(url, body, content_type=content_type)
        assert response.status_code < 500, (data[:64], name, response.status_code)
        assert rows() == before_rows  # verifying never adds to the gallery by itself
        after = media_files(media_root)
        if response.status_code == 200:
            # At most the one stash waiting for "Add to gallery".
            added = sorted(set(after) - set(before_files))
            assert len(added) <= 1 and all(a.startswith("verify-pending/") for a in added)
            tally["checked"] += 1
        else:
            assert response.status_code == 400 and after == before_files
            tally["refused"] += 1

    attack()
    report("verify upload", tally)


def test_fuzz_verify_add_tokens(alice_client, unlimited, media_root):
    tally = Counter()
    url = reverse("gallery:verify-add")

    @given(token=hostile_text)
    def attack(token):
        before_rows, before_files = rows(), media_files(media_root)
        response = alice_client.post(url, {"token": token})
        assert response.status_code == 400, response.status_code
        assert rows() == before_rows and media_files(media_root) == before_files
        tally["refused"] += 1

    attack()
    report("verify add", tally)


# Every parameter the gallery reads (gallery/browse/page.py), and a few it does not.
GALLERY_PARAMETERS = [
    "q",
    "who",
    "model",
    "kind",
    "size",
    "quality",
    "background",
    "provenance",
    "format",
    "ai",
    "from",
    "to",
    "starred",
    "board",
    "cursor",
    "order",
    "before",
    "page",
    "x",
]
days = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "+002026-01-01"]),
)


def test_fuzz_gallery_query_string(alice_client, alice, media_root):

    verification.add_to_gallery(owner=alice, data=PNG)
    tally = Counter()
    url = reverse("gallery:gallery")
    numbers = st.integers(-(2**80), 2**80).map(str)

    @given(
        params=st.dictionaries(
            st.sampled_from(GALLERY_PARAMETERS) | hostile_text,
            hostile_text | numbers | days | st.sampled_from(["1", "on", "mine", "all", "yes"]),
            max_size=6,
        ),
        htmx=st.booleans(),
    )
    @example(params={"before": "9" * 30}, htmx=False)
    @example(params={"before": "٣"}, htmx=False)  # an Arabic-Indic digit: isdigit() says yes
    @example(params={"q": "a\x00b"}, htmx=False)
    @example(params={"to": "9999-12-31"}, htmx=False)  # the day after overflows
    @example(params={"from": "0001-01-01", "to": "0001-01-01"}, htmx=False)
    @example(params={"board": "1\x00", "who": "\x00", "cursor": "\x00"}, htmx=True)
    # Submitted by the form, with a query whose clean URL is over Django's redirect limit.
    @example(params={"search": "", "q": "\U0001f98a" * 2000}, htmx=False)
    def attack(params, htmx):
        before = rows()
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "gallery-results"} if htmx else {}
        response = alice_client.get(url, params, **headers)
        assert response.status_code == 200, (params, response.status_code)
        assert rows() == before
        tally["answered"] += 1

    attack()
    report("gallery query", tally)


def test_fuzz_visibility_and_settings_posts(alice_client, alice, bob):

    mine = verification.add_to_gallery(owner=alice, data=PNG, visibility="shared")
    theirs = verification.add_to_gallery(owner=bob, data=JPEG, visibility="private")
    tally = Counter()

    @given(
        value=hostile_text | st.sampled_from(["shared", "private", "SHARED", " private"]),
        pk=st.sampled_from([mine.pk, theirs.pk, 0, 2**31]),
        where=st.sampled_from(["image", "settings"]),
    )
    def attack(value, pk, where):
        before = sorted(Image.objects.values_list("pk", "visibility"))
        profile_before = Profile.default_visibility_for(alice)
        if where == "image":
            url = reverse("gallery:image-visibility", args=[pk])
            response = alice_client.post(url, {"visibility": value})
        else:
            url = reverse("account-settings")
            response = alice_client.post(url, {"default_visibility": value})
        assert response.status_code < 500, (value, response.status_code)
        changed = sorted(Image.objects.values_list("pk", "visibility")) != before
        if response.status_code >= 400:
            assert not changed and Profile.default_visibility_for(alice) == profile_before
            tally["refused"] += 1
        else:
            assert value in ("shared", "private") and (where == "settings" or pk != theirs.pk)
            tally["accepted"] += 1
        assert Image.objects.get(pk=theirs.pk).visibility == "private"

    attack()
    report("visibility and settings posts", tally)


ids = st.one_of(
    st.integers(-5, 2**70).map(str),
    st.sampled_from(["²", "٣", "1\x00", " 1", "1e3", "0x1", ""]),
    hostile_text,
)
CREATE_PARAMETERS = ["remix", "model", "prompt", "n", "size", "quality", "board", "visibility"]


def test_fuzz_create_page_query_string(alice_client, alice):
    image = verification.add_to_gallery(owner=alice, data=PNG)
    tally = Counter()
    url = reverse("gallery:create")

    @given(
        params=st.dictionaries(
            st.sampled_from(CREATE_PARAMETERS) | hostile_text,
            ids | st.sampled_from(registry.model_ids()) | st.just(str(image.pk)),
            max_size=5,
        ),
        target=st.sampled_from([None, "generate-form", "x\x00"]),
    )
    @example(params={"remix": "²"}, target=None)  # isdigit() says yes, int() says no
    @example(params={"remix": "٣", "model": "gpt-image-1"}, target="generate-form")
    def attack(params, target):
        before = rows()
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target} if target else {}
        response = alice_client.get(url, params, **headers)
        assert response.status_code == 200, (params, response.status_code)
        assert rows() == before
        tally["answered"] += 1

    attack()
    report("create page query", tally)


def test_fuzz_boards(alice_client, alice, bob):
    from gallery.models import Board

    mine = verification.add_to_gallery(owner=alice, data=PNG, visibility="shared")
    theirs = verification.add_to_gallery(owner=bob, data=JPEG, visibility="private")
    board = Board.objects.create(owner=alice, name="Mine")
    other = Board.objects.create(owner=bob, name="Theirs")
    tally = Counter()
    # Real ids half the time (one_of would flatten the branches of `ids` and dilute them).
    real_boards = st.sampled_from([board.pk, other.pk]).map(str)
    real_images = st.sampled_from([mine.pk, theirs.pk]).map(str)
    board_ids = st.booleans().flatmap(lambda real: real_boards if real else ids)
    image_ids = st.booleans().flatmap(lambda real: real_images if real else ids)

    @given(
        action=st.sampled_from(["create", "add", "remove", "list"]),
        name=hostile_text,
        board_id=board_ids,
        image_id=image_ids,
        back=hostile_text | st.sampled_from(["/", "//evil.example", "/boards/"]),
        htmx=st.booleans(),
    )
    @example(action="create", name="a\x00b", board_id="", image_id="", back="", htmx=False)
    @example(action="add", name="", board_id=" 1\x00", image_id="1\x00", back="", htmx=True)
    def attack(action, name, board_id, image_id, back, htmx):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        theirs_before = list(other.boardimage_set.values_list("image_id", flat=True))
        if action == "create":
            response = alice_client.post(reverse("gallery:boards"), {"name": name}, **headers)
        elif action == "list":
            response = alice_client.get(reverse("gallery:boards"), {"name": name}, **headers)
        else:
            url = reverse(f"gallery:board-{action}")
            data = {"board": board_id, "image": image_id, "next": back}
            response = alice_client.post(url, data, **headers)
        assert response.status_code < 500, (action, name, board_id, image_id, response)
        if response.status_code == 302:
            location = response["Location"]
            assert location.startswith("/") and not location.startswith("//"), location
        # Nobody else's board changes, nobody else's private image lands on a board.
        assert list(other.boardimage_set.values_list("image_id", flat=True)) == theirs_before
        assert not board.boardimage_set.filter(image=theirs).exists()
        assert all(b.isprintable() for b in Board.objects.values_list("name", flat=True))
        tally[f"{action} {response.status_code}"] += 1

    attack()
    report("boards", tally)


def test_fuzz_sign_up_and_sign_in(client, alice, settings):
    from django.contrib.auth import get_user_model

    settings.STUDIO_LOGIN_MAX_FAILURES = 10_000
    tally = Counter()
    people = get_user_model().objects

    @given(
        page=st.sampled_from(["signup", "login", "admin"]),
        username=hostile_text | st.sampled_from(["alice", "аlice", "ALICE", " alice"]),
        email=hostile_text | st.just("a@example.com"),
        password=hostile_text | st.just("alice-pass-phrase-1"),
        invite=hostile_text,
    )
    @example(page="signup", username="a\x00", email="\x00", password="\x00", invite="\x00")
    @example(page="login", username="alice\x00", email="", password="x\x00", invite="")
    def attack(page, username, email, password, invite):
        before = people.count()
        if page == "signup":
            data = {
                "username": username,
                "email": email,
                "password1": password,
                "password2": password,
                "invite": invite,
            }
            response = client.post(reverse("signup"), data)
        else:
            url = reverse("login") if page == "login" else "/admin/login/"
            response = client.post(url, {"username": username, "password": password})
        assert response.status_code < 500, (page, username, response.status_code)
        joined = people.count() - before
        if joined:
            newest = people.order_by("-id").first()
            assert newest.username.isprintable() and "\x00" not in newest.username
            tally["joined"] += 1
        client.logout()
        tally[f"{page} {response.status_code}"] += 1

    attack()
    report("sign-up and sign-in", tally)


def test_fuzz_other_query_strings(alice_client, alice):
    image = verification.add_to_gallery(owner=alice, data=PNG)
    pages = [
        reverse("gallery:queue"),
        reverse("gallery:edit"),
        reverse("gallery:image-original", args=[image.pk]),
        reverse("gallery:image-detail", args=[image.pk]),
        reverse("gallery:image-lineage", args=[image.pk]),
        reverse("gallery:spending"),
        reverse("gallery:verify"),
        reverse("account-settings"),
    ]
    tally = Counter()

    @given(
        page=st.sampled_from(pages),
        params=st.dictionaries(
            st.sampled_from(["who", "model", "image", "download", "q"]) | hostile_text,
            ids | st.just(str(image.pk)),
            max_size=4,
        ),
        target=st.sampled_from([None, "edit-options", "x"]),
    )
    def attack(page, params, target):
        before = rows()
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target} if target else {}
        response = alice_client.get(page, params, **headers)
        assert response.status_code == 200, (page, params, response.status_code)
        assert rows() == before
        tally[page.split("/")[1] or "gallery"] += 1

    attack()
    report("other query strings", tally)


# The three server errors the outside test found, by name (they are also examples above).


def test_remix_with_a_superscript_digit_shows_the_plain_form(alice_client):
    response = alice_client.get(reverse("gallery:create"), {"remix": "²"})
    assert response.status_code == 200 and "Generate" in response.content.decode()


def test_a_date_at_the_end_of_the_calendar_is_not_used_and_says_so(alice_client):
    response = alice_client.get(reverse("gallery:gallery"), {"to": "9999-12-31"})
    assert response.status_code == 200
    assert "the “to” date was not used" in response.content.decode()


def test_a_board_name_with_a_nul_byte_is_refused_with_a_message(alice_client, alice):
    from gallery.models import Board

    response = alice_client.post(reverse("gallery:boards"), {"name": "holiday\x00"})
    assert response.status_code == 400
    assert "control characters" in response.content.decode()
    assert not Board.objects.exists()


def test_fuzz_estimate(alice_client):
    tally = Counter()
    url = reverse("gallery:estimate")

    @given(data=create_forms(), partials=ids)
    def attack(data, partials):
        before = rows()
        response = alice_client.post(url, {**data, "partial_images": partials})
        assert response.status_code == 200, (data, response.status_code)
        assert rows() == before
        tally["answered"] += 1

    attack()
    report("estimate", tally)
