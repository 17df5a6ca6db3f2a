"""The authorisation matrix: every URL the studio answers, for every kind of visitor.

Each URL pattern Django's resolver knows must be in TABLE below with the status each visitor
gets: anonymous, Alice (the owner of the objects), Bob (another signed-in person) and staff,
for GET and, where the URL changes something, for POST. Object URLs are tried with Alice's
shared and her private objects. A pattern missing from TABLE fails the first test with its
name, so a route added later must be classified here before the suite passes again.

The rules: anonymous people are sent to sign in; Bob reads Alice's shared things (200) and
gets 404 for her private ones; Bob changing anything of Alice's gets 404 (never 403, which
would confirm it exists) and changes nothing; staff may read and change everything. Every
response Bob gets is also checked for the text of Alice's private prompt.
"""

import io
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image as PILImage

from gallery import jobs, media
from gallery.gateway import openai_api, tokens
from gallery.models import (
    ApiToken,
    Board,
    BoardImage,
    Favourite,
    Image,
    Invite,
    Job,
    Profile,
    Visibility,
    WorkerHeartbeat,
)
from gallery.provenance import verification
from tests.helpers import C2PA_FIXTURES, finished

pytestmark = pytest.mark.django_db

FIXTURES = C2PA_FIXTURES
CACA = "c2pa-rs_CACA.jpg"  # a C2PA chain whose ingredient "0" carries a thumbnail

ROLES = ("anon", "alice", "bob", "staff")
LOGIN = "login"  # a 302 to a sign-in page
SECRET = "alice-private-prompt-7f3a"

GENERATE = {
    "prompt": "a lighthouse",
    "model": "gpt-image-1",
    "n": "1",
    "size": "1024x1024",
    "quality": "low",
    "background": "auto",
    "output_format": "png",
    "moderation": "auto",
}


def split(shared, private) -> dict:
    return {Visibility.SHARED: shared, Visibility.PRIVATE: private}


# Who gets what, by kind of URL.
READ = {"anon": LOGIN, "alice": 200, "bob": split(200, 404), "staff": 200}
CHANGE = {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 302}
POST_ONLY_GET = {"anon": LOGIN, "alice": 405, "bob": 405, "staff": 405}
SIGNED_IN = {"anon": LOGIN, "alice": 200, "bob": 200, "staff": 200}
EVERYONE = dict.fromkeys(ROLES, 200)
STAFF_ONLY = {"anon": LOGIN, "alice": LOGIN, "bob": LOGIN, "staff": 200}
NO_TOKEN = dict.fromkeys(ROLES, 401)


@dataclass
class World:
    """Alice's objects, one of each visibility, and the people."""

    people: dict
    images: dict
    jobs: dict
    board: Board
    token: ApiToken


@dataclass
class Row:
    method: str
    expected: dict
    # (world, visibility) -> URL; visibility is None for URLs that name no object.
    url: object
    data: object = None  # (world, visibility) -> POST data
    target: str | None = None  # "image" or "job": tried with shared and private
    extra: dict = field(default_factory=dict)


def image_url(name, *args):
    return lambda w, v: reverse(name, args=[w.images[v].pk, *args])


def job_url(name):
    return lambda w, v: reverse(name, args=[w.jobs[v].pk])


def fixed(name, *args, query=""):
    return lambda w, v: reverse(name, args=list(args)) + query


def flip(kind):
    def data(w, v):
        other = Visibility.PRIVATE if v == Visibility.SHARED else Visibility.SHARED
        return {"visibility": other}

    return data


def upload(w, v):
    return {"file": ContentFile((FIXTURES / CACA).read_bytes(), name="x.jpg")}


def png_upload(w, v):
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), (3, 4, 5)).save(buffer, "PNG")
    return {"file": ContentFile(buffer.getvalue(), name="x.png")}


TABLE: dict[str, list[Row]] = {
    # --- gallery ---------------------------------------------------------------------------
    "": [Row("GET", SIGNED_IN, fixed("gallery:gallery", query=f"?q={SECRET}"))],
    "create/": [
        # Remixing Alice's image: Bob gets the form, but never her private prompt.
        Row(
            "GET",
            SIGNED_IN,
            lambda w, v: reverse("gallery:create") + f"?remix={w.images[v].pk}",
            target="image",
        ),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 302, "staff": 302},
            fixed("gallery:create"),
            data=lambda w, v: GENERATE,
        ),
    ],
    # Editing: anyone signed in may edit what they can see (the job is theirs); Alice's
    # private image is refused to Bob as if it did not exist, and nothing is stored.
    "edit/": [
        Row(
            "GET",
            SIGNED_IN,
            lambda w, v: reverse("gallery:edit") + f"?image={w.images[v].pk}",
            target="image",
        ),
        # "Use these settings": Bob gets the form, never Alice's private prompt or inputs.
        Row(
            "GET",
            SIGNED_IN,
            lambda w, v: reverse("gallery:edit") + f"?remix={w.images[v].pk}",
            target="image",
        ),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": split(302, 400), "staff": 302},
            fixed("gallery:edit"),
            data=lambda w, v: {**GENERATE, "prompt": "make it blue", "image_ids": w.images[v].pk},
            target="image",
        ),
    ],
    "jobs/<int:pk>/mask.png": [Row("GET", READ, job_url("gallery:job-mask"), target="job")],
    # These jobs have no markup layer: nobody gets one, and nobody learns more than that.
    "jobs/<int:pk>/markup.png": [
        Row(
            "GET",
            {"anon": LOGIN, "alice": 404, "bob": 404, "staff": 404},
            job_url("gallery:job-markup"),
            target="job",
        )
    ],
    "edit/upload": [
        Row("GET", POST_ONLY_GET, fixed("gallery:edit-upload")),
        Row("POST", SIGNED_IN, fixed("gallery:edit-upload"), data=png_upload),
    ],
    "images/<int:pk>/lineage/": [
        Row("GET", READ, image_url("gallery:image-lineage"), target="image")
    ],
    "create/estimate": [
        Row("GET", POST_ONLY_GET, fixed("gallery:estimate")),
        Row("POST", SIGNED_IN, fixed("gallery:estimate"), data=lambda w, v: {"n": "1"}),
    ],
    "jobs/<int:pk>/": [Row("GET", READ, job_url("gallery:job-detail"), target="job")],
    "jobs/<int:pk>/visibility": [
        Row("GET", POST_ONLY_GET, job_url("gallery:job-visibility"), target="job"),
        Row("POST", CHANGE, job_url("gallery:job-visibility"), flip("job"), target="job"),
    ],
    "images/<int:pk>/": [Row("GET", READ, image_url("gallery:image-detail"), target="image")],
    "images/<int:pk>/visibility": [
        Row("GET", POST_ONLY_GET, image_url("gallery:image-visibility"), target="image"),
        Row("POST", CHANGE, image_url("gallery:image-visibility"), flip("image"), target="image"),
    ],
    "images/<int:pk>/original": [
        Row("GET", READ, image_url("gallery:image-original"), target="image")
    ],
    "images/<int:pk>/thumbnail/<int:width>.webp": [
        Row("GET", READ, image_url("gallery:image-thumbnail", 512), target="image"),
        Row("GET", READ, image_url("gallery:image-thumbnail", 256), target="image"),
    ],
    "images/<int:pk>/manifest.json": [
        Row("GET", READ, image_url("gallery:image-manifest"), target="image")
    ],
    "images/<int:pk>/ingredients/<str:path>/thumbnail": [
        Row("GET", READ, image_url("gallery:image-ingredient-thumbnail", "0"), target="image")
    ],
    "verify/": [
        Row("GET", SIGNED_IN, fixed("gallery:verify")),
        Row("POST", SIGNED_IN, fixed("gallery:verify"), data=upload),
    ],
    # An unknown token: nothing is added, whoever asks.
    "verify/add": [
        Row(
            "POST",
            {"anon": LOGIN, "alice": 400, "bob": 400, "staff": 400},
            fixed("gallery:verify-add"),
            data=lambda w, v: {"token": "not-a-token"},
        )
    ],
    # --- the queue: cancel, retry, previews ------------------------------------------------
    "jobs/<int:pk>/cancel": [
        Row("GET", POST_ONLY_GET, job_url("gallery:job-cancel"), target="job"),
        Row("POST", CHANGE, job_url("gallery:job-cancel"), lambda w, v: {}, target="job"),
    ],
    "jobs/<int:pk>/retry": [
        Row("GET", POST_ONLY_GET, job_url("gallery:job-retry"), target="job"),
        Row("POST", CHANGE, job_url("gallery:job-retry"), lambda w, v: {}, target="job"),
    ],
    "jobs/<int:pk>/preview": [Row("GET", READ, job_url("gallery:job-partial"), target="job")],
    "queue/": [Row("GET", SIGNED_IN, fixed("gallery:queue"))],
    "spending/": [Row("GET", SIGNED_IN, fixed("gallery:spending"))],
    # --- stars and boards: a star is the starring person's own; boards are their owner's
    # alone (staff included), so someone else's board is 404 ---------------------------------
    "images/<int:pk>/star": [
        Row("GET", POST_ONLY_GET, image_url("gallery:image-star"), target="image"),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": split(302, 404), "staff": 302},
            image_url("gallery:image-star"),
            lambda w, v: {},
            target="image",
        ),
    ],
    "boards/": [
        Row("GET", SIGNED_IN, fixed("gallery:boards")),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 302, "staff": 302},
            fixed("gallery:boards"),
            data=lambda w, v: {"name": "Matrix board"},
        ),
    ],
    "boards/add": [
        Row("GET", POST_ONLY_GET, fixed("gallery:board-add")),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 404},
            fixed("gallery:board-add"),
            data=lambda w, v: {"board": w.board.pk, "image": w.images[v].pk},
            target="image",
        ),
    ],
    "boards/remove": [
        Row("GET", POST_ONLY_GET, fixed("gallery:board-remove")),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 404},
            fixed("gallery:board-remove"),
            data=lambda w, v: {"board": w.board.pk, "image": w.images[v].pk},
            target="image",
        ),
    ],
    # A board's owner alone may rename, delete it or choose its cover (staff included).
    "boards/<int:pk>/rename": [
        Row("GET", POST_ONLY_GET, lambda w, v: reverse("gallery:board-rename", args=[w.board.pk])),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 404},
            lambda w, v: reverse("gallery:board-rename", args=[w.board.pk]),
            data=lambda w, v: {"name": "Renamed"},
        ),
    ],
    "boards/<int:pk>/delete": [
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 404},
            lambda w, v: reverse("gallery:board-delete", args=[w.board.pk]),
            data=lambda w, v: {},
        ),
    ],
    "boards/<int:pk>/cover": [
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 404},
            lambda w, v: reverse("gallery:board-cover", args=[w.board.pk]),
            data=lambda w, v: {},
        ),
    ],
    # The selection bar: starring and boards need only sight of the image; visibility and
    # delete need the image to be one's own (or staff). Nothing allowed: 404.
    "images/selection": [
        Row("GET", POST_ONLY_GET, fixed("gallery:selection")),
        Row(
            "POST",
            CHANGE,
            fixed("gallery:selection"),
            data=lambda w, v: {"action": "private", "image": w.images[v].pk},
            target="image",
        ),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": split(302, 404), "staff": 302},
            fixed("gallery:selection"),
            data=lambda w, v: {"action": "star", "image": w.images[v].pk},
            target="image",
        ),
        Row(
            "POST",
            {"anon": LOGIN, "alice": 302, "bob": 404, "staff": 404},
            fixed("gallery:selection"),
            data=lambda w, v: {"action": "board", "board": w.board.pk, "image": w.images[v].pk},
            target="image",
        ),
    ],
    # --- the trash: the owner (or staff) deletes; a second Delete is not an error. What is
    # not in the trash cannot be restored or deleted forever, by anyone ----------------------
    "images/<int:pk>/delete": [
        Row("GET", POST_ONLY_GET, image_url("gallery:image-delete"), target="image"),
        Row("POST", CHANGE, image_url("gallery:image-delete"), lambda w, v: {}, target="image"),
    ],
    "jobs/<int:pk>/delete": [
        Row("GET", POST_ONLY_GET, job_url("gallery:job-delete"), target="job"),
        Row("POST", CHANGE, job_url("gallery:job-delete"), lambda w, v: {}, target="job"),
    ],
    "trash/": [Row("GET", SIGNED_IN, fixed("gallery:trash"))],
    "trash/restore": [
        Row(
            "POST",
            {"anon": LOGIN, "alice": 404, "bob": 404, "staff": 404},
            fixed("gallery:trash-restore"),
            data=lambda w, v: {"image": w.images[v].pk},
            target="image",
        ),
    ],
    "trash/delete": [
        Row(
            "POST",
            {"anon": LOGIN, "alice": 404, "bob": 404, "staff": 404},
            fixed("gallery:trash-delete"),
            data=lambda w, v: {"image": w.images[v].pk},
            target="image",
        ),
    ],
    "trash/<int:pk>/thumbnail.webp": [
        Row(
            "GET",
            {"anon": LOGIN, "alice": 404, "bob": 404, "staff": 404},
            image_url("gallery:trash-thumbnail"),
            target="image",
        )
    ],
    "healthz": [Row("GET", EVERYONE, fixed("healthz"))],
    # --- accounts --------------------------------------------------------------------------
    "accounts/signup/": [
        Row("GET", {"anon": 200, "alice": 302, "bob": 302, "staff": 302}, fixed("signup"))
    ],
    "accounts/invites/": [
        Row("GET", STAFF_ONLY, fixed("invites")),
        Row(
            "POST",
            {"anon": LOGIN, "alice": LOGIN, "bob": LOGIN, "staff": 302},
            fixed("invites"),
            data=lambda w, v: {},
        ),
    ],
    "accounts/settings/": [
        Row("GET", SIGNED_IN, fixed("account-settings")),
        Row(
            "POST",
            SIGNED_IN,
            fixed("account-settings"),
            data=lambda w, v: {"default_visibility": "private"},
        ),
    ],
    "accounts/login/": [Row("GET", EVERYONE, fixed("login"))],
    "accounts/logout/": [
        Row("GET", dict.fromkeys(ROLES, 405), fixed("logout")),
        Row("POST", dict.fromkeys(ROLES, 302), fixed("logout"), data=lambda w, v: {}),
    ],
    "accounts/password_change/": [Row("GET", SIGNED_IN, fixed("password_change"))],
    "accounts/password_change/done/": [Row("GET", SIGNED_IN, fixed("password_change_done"))],
    "accounts/password_reset/": [
        Row("GET", EVERYONE, fixed("password_reset")),
        Row(
            "POST",
            dict.fromkeys(ROLES, 302),
            fixed("password_reset"),
            data=lambda w, v: {"email": "alice@example.com"},
        ),
    ],
    "accounts/password_reset/done/": [Row("GET", EVERYONE, fixed("password_reset_done"))],
    "accounts/reset/<uidb64>/<token>/": [
        Row("GET", EVERYONE, fixed("password_reset_confirm", "MQ", "bad-token"))
    ],
    "accounts/reset/done/": [Row("GET", EVERYONE, fixed("password_reset_complete"))],
    "accounts/tokens/": [
        Row("GET", SIGNED_IN, fixed("api-tokens")),
        Row("POST", SIGNED_IN, fixed("api-tokens"), data=lambda w, v: {"name": "notebook"}),
    ],
    "accounts/tokens/<int:pk>/revoke": [
        # Alice's token: only she and staff may revoke it; Bob gets 404.
        Row(
            "POST",
            CHANGE,
            lambda w, v: reverse("api-token-revoke", args=[w.token.pk]),
            data=lambda w, v: {},
        ),
    ],
    # --- the OpenAI-compatible endpoint: a personal API token or nothing (a session cookie
    # authenticates nobody there) ---------------------------------------------------------
    "v1/images/generations": [
        Row("POST", NO_TOKEN, fixed("gallery:gateway-generations"), data=lambda w, v: {}),
    ],
    "v1/images/edits": [
        Row("POST", NO_TOKEN, fixed("gallery:gateway-edits"), data=lambda w, v: {}),
    ],
    "v1/models": [Row("GET", NO_TOKEN, fixed("gallery:gateway-models"))],
    # The signed link is the authorisation; a link that is not signed is 404 for everyone.
    "v1/images/files/<str:token>": [
        Row("GET", dict.fromkeys(ROLES, 404), fixed("gallery:gateway-image", "forged")),
        Row(
            "GET",
            EVERYONE,
            lambda w, v: reverse(
                "gallery:gateway-image",
                args=[signing.dumps(w.images[v].pk, salt=openai_api.URL_SALT)],
            ),
            target="image",
        ),
    ],
}

# Django's admin (its many routes are its own): representative pages, staff only.
ADMIN = [
    Row("GET", STAFF_ONLY, fixed("admin:index")),
    Row("GET", STAFF_ONLY, fixed("admin:gallery_image_changelist")),
    Row("GET", STAFF_ONLY, fixed("admin:gallery_job_changelist")),
    Row("GET", STAFF_ONLY, fixed("admin:auth_user_changelist")),
    Row(
        "GET",
        STAFF_ONLY,
        lambda w, v: reverse("admin:gallery_image_change", args=[w.images[v].pk]),
        target="image",
    ),
]


def url_patterns(patterns=None, prefix: str = ""):
    """Every route the resolver knows, as its full pattern string."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_every_url_pattern_is_classified_in_the_table():
    routes = set(url_patterns())
    missing = sorted(r for r in routes if r not in TABLE and not r.startswith("admin/"))
    assert not missing, (
        "These URL patterns are not in the authorisation matrix (tests/unit/test_authorisation.py "
        "TABLE); add the status anonymous/Alice/Bob/staff should get: " + ", ".join(missing)
    )
    stale = sorted(set(TABLE) - routes)
    assert not stale, f"TABLE names patterns that no longer exist: {', '.join(stale)}"


@pytest.fixture
def world(django_user_model, standin) -> World:
    alice = django_user_model.objects.create_user(
        "alice", email="alice@example.com", password="alice-pass-phrase-1"
    )
    bob = django_user_model.objects.create_user("bob", password="bob-pass-phrase-1")
    staff = django_user_model.objects.create_user("stella", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    data = (FIXTURES / CACA).read_bytes()
    images, job_of = {}, {}
    for visibility in Visibility.values:
        job = jobs.create_job(
            owner=alice, prompt=f"{SECRET} {visibility}", model="gpt-image-1", visibility=visibility
        )
        image = finished(verification.add_to_gallery(owner=alice, data=data, visibility=visibility))
        Image.objects.filter(pk=image.pk).update(job=job, prompt=job.prompt)
        images[visibility] = Image.objects.get(pk=image.pk)
        # A streamed preview, so that the preview URL has something to serve its readers.
        preview = io.BytesIO()
        PILImage.new("RGB", (16, 16), (9, 9, 9)).save(preview, "PNG")
        job.partial_file = media.store_derived(
            preview.getvalue(), folder="partials", extension="png"
        )
        # An edit's mask, so that "Use these settings" has a layer to fetch.
        job.mask = job.partial_file
        job.save(update_fields=["partial_file", "mask"])
        job_of[visibility] = job
    board = Board.objects.create(owner=alice, name="Alice's board")
    WorkerHeartbeat.objects.create(hostname="matrix", seen_at=timezone.now())
    people = {"alice": alice, "bob": bob, "staff": staff}
    token, _ = tokens.create_token(owner=alice, name="alice's script", days=None)
    return World(people=people, images=images, jobs=job_of, board=board, token=token)


def client_for(world: World, role: str) -> Client:
    client = Client()
    if role != "anon":
        client.force_login(world.people[role])
    return client


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def snapshot(world: World) -> tuple:
    """What a refused request must leave unchanged."""
    return (
        sorted(Image.objects.values_list("pk", "visibility", "trashed_at", "purged_at")),
        sorted(Job.objects.values_list("pk", "visibility", "status", "trashed_at")),
        sorted(BoardImage.objects.values_list("board_id", "image_id")),
        sorted(Favourite.objects.values_list("user_id", "image_id")),
        sorted(Board.objects.values_list("pk", "name", "cover_id")),
        Invite.objects.count(),
        sorted(Profile.objects.values_list("user_id", "default_visibility")),
    )


def cases():
    for route, rows in [*TABLE.items(), ("admin/", ADMIN)]:
        for index, row in enumerate(rows):
            for visibility in Visibility.values if row.target else [None]:
                label = f"{row.method} {route or '/'} #{index}" + (
                    f" {visibility}" if visibility else ""
                )
                yield pytest.param(row, visibility, id=label)


@pytest.mark.parametrize(("row", "visibility"), list(cases()))
def test_matrix(world, row: Row, visibility, django_capture_on_commit_callbacks):
    # Refusals first, so that the owner's and staff's changes come after them.
    for role in ("anon", "bob", "alice", "staff"):
        expected = row.expected[role]
        if isinstance(expected, dict):
            expected = expected[visibility]
        url = row.url(world, visibility)
        client = client_for(world, role)
        before = snapshot(world)
        with django_capture_on_commit_callbacks():
            if row.method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, row.data(world, visibility))
        where = f"{role} {row.method} {url}"
        if expected == LOGIN:
            assert response.status_code == 302, f"{where}: {response.status_code}"
            assert "login" in response["Location"], f"{where}: to {response['Location']}"
        else:
            assert response.status_code == expected, (
                f"{where}: expected {expected}, got {response.status_code}"
            )
        body = body_of(response)
        if role in ("anon", "bob"):
            assert f"{SECRET} private".encode() not in body, f"{where} shows the private prompt"
        refused = expected == LOGIN or expected >= 400
        if row.method == "POST" and refused:
            assert snapshot(world) == before, f"{where} was refused but changed something"


def test_missing_objects_are_404_for_everyone_signed_in(world):
    missing = 999_999
    for role in ("alice", "bob", "staff"):
        client = client_for(world, role)
        for name, args in (
            ("gallery:image-detail", [missing]),
            ("gallery:image-original", [missing]),
            ("gallery:image-thumbnail", [missing, 512]),
            ("gallery:image-manifest", [missing]),
            ("gallery:job-detail", [missing]),
        ):
            assert client.get(reverse(name, args=args)).status_code == 404
        assert client.post(reverse("gallery:image-visibility", args=[missing])).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/images/{}/"),
        ("GET", "/images/{}/original"),
        ("GET", "/images/{}/thumbnail/512.webp"),
        ("GET", "/images/{}/manifest.json"),
        ("GET", "/images/{}/ingredients/0/thumbnail"),
        ("GET", "/images/{}/lineage/"),
        ("GET", "/jobs/{}/"),
        ("GET", "/jobs/{}/preview"),
        ("POST", "/images/{}/star"),
        ("POST", "/images/{}/visibility"),
        ("POST", "/jobs/{}/visibility"),
        ("POST", "/jobs/{}/cancel"),
        ("POST", "/jobs/{}/retry"),
    ],
)
def test_ids_beyond_a_database_integer_are_404_not_500(alice_client, method, path):
    url = path.format(10**20)  # <int:pk> accepts it; SQLite and PostgreSQL cannot store it
    response = alice_client.get(url) if method == "GET" else alice_client.post(url)
    assert response.status_code == 404
