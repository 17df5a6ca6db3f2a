"""Media on S3-compatible storage (STUDIO_MEDIA_STORAGE=s3), against a real S3 server the
tests start: moto's server mode on a free local port, spoken to over HTTP by boto3 exactly as
a studio speaks to AWS, MinIO or Ceph. Originals byte-for-byte with S3 checking their sha256,
thumbnails, masks and previews; private objects; images streamed and downloads redirected
to a short-lived presigned URL, only through the views that authorise them; check_gallery and
migrate_media on the bucket; and a real worker and web server sharing it."""

import base64
import hashlib
import io
import re
import secrets
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import PIL.Image
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from gallery import jobs, media
from gallery.models import Image
from tests.stack import Browser, free_port, running_stack

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

KEYS = {"aws_access_key_id": "studio-test", "aws_secret_access_key": "studio-test-secret"}


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_options(endpoint: str, bucket: str) -> dict:
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "access_key": KEYS["aws_access_key_id"],
        "secret_key": KEYS["aws_secret_access_key"],
        "querystring_expire": 60,
    }


@pytest.fixture
def bucket(s3_server, settings):
    """A fresh bucket on the S3 server; use() makes it the studio's media storage."""
    name = f"studio-{secrets.token_hex(4)}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=name)

    def use():
        settings.STUDIO_MEDIA_STORAGE = "s3"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "gallery.media.s3.PrivateS3Storage",
                "OPTIONS": s3_options(s3_server, name),
            },
        }

    def body(key: str) -> bytes:
        return client.get_object(Bucket=name, Key=key)["Body"].read()

    def keys() -> set[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=name)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    return SimpleNamespace(
        name=name, client=client, endpoint=s3_server, use=use, body=body, listing=keys
    )


@pytest.fixture
def s3(bucket):
    bucket.use()
    return bucket


def png(colour=(200, 30, 30), size=(300, 200)) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", size, colour).save(out, "PNG", pnginfo=None)
    return out.getvalue()


def run_job(owner, prompt="a red kite over hills", **params):
    job = jobs.create_job(
        owner=owner, prompt=prompt, model="gpt-image-1", size="1024x1024", quality="low", **params
    )
    claimed = jobs.claim_job(job.pk)
    jobs.run_job(claimed)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


# --- storage ---------------------------------------------------------------------------------


def test_an_original_is_stored_byte_for_byte_and_s3_checked_its_sha256(s3):
    data = png()
    stored = media.store(data)
    assert stored.name == f"originals/{stored.sha256[:2]}/{stored.sha256}.png"
    answer = s3.client.get_object(Bucket=s3.name, Key=stored.name, ChecksumMode="ENABLED")
    assert answer["Body"].read() == data
    # The upload carried its sha256, which S3 checks against the body (AWS and MinIO refuse a
    # mismatch with BadDigest; moto records it without checking, so that refusal is not tested).
    assert answer["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert answer["ContentType"] == "image/png"
    for thumbnail in (stored.thumbnail, stored.thumbnail_small):
        assert PIL.Image.open(io.BytesIO(s3.body(thumbnail))).format == "WEBP"
    assert media.read(stored.name) == data


def test_objects_are_private(s3):
    stored = media.store(png())
    for key in (stored.name, stored.thumbnail, stored.thumbnail_small):
        grants = s3.client.get_object_acl(Bucket=s3.name, Key=key)["Grants"]
        grantees = {grant["Grantee"].get("URI", "") for grant in grants}
        assert not any(uri.endswith(("AllUsers", "AuthenticatedUsers")) for uri in grantees)


def test_a_stored_file_is_never_rewritten(s3):
    data = png()
    stored = media.store(data)
    default_storage.save(stored.name, ContentFile(b"other bytes under the same name"))
    assert s3.body(stored.name) == data
    assert media.store(data) == stored  # the same bytes again: one object, unchanged
    assert s3.body(stored.name) == data


def test_masks_and_previews_live_in_the_bucket_and_previews_go_when_the_job_ends(s3):
    mask = media.store_derived(png((0, 0, 0)), folder="masks", extension="png")
    assert s3.body(mask) == png((0, 0, 0))
    first = media.store_partial(41, "partial-0", png((1, 2, 3)))
    media.store_partial(41, "partial-0", png((4, 5, 6)))  # a newer preview of the same index
    assert s3.body(first) == png((4, 5, 6))
    media.store_partial(41, "partial-1", png((7, 8, 9)))
    assert {k for k in s3.listing() if k.startswith("partials/41/")} == {
        "partials/41/partial-0.png",
        "partials/41/partial-1.png",
    }
    media.delete_partials(41)
    assert not [k for k in s3.listing() if k.startswith("partials/")]


# --- a job, and the views that send its images -------------------------------------------


def test_a_job_stores_its_images_in_the_bucket_and_views_send_them_only_when_allowed(
    s3, alice, alice_client, client, bob, standin
):
    job = run_job(alice, visibility="private")
    image = job.images.get()
    original = s3.body(image.file.name)
    assert hashlib.sha256(original).hexdigest() == image.sha256

    # Shown in pages: streamed through the view, bytes exactly as stored.
    url = reverse("gallery:image-original", args=[image.pk])
    shown = alice_client.get(url)
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == original
    assert shown["Content-Type"] == "image/png"
    thumb = alice_client.get(reverse("gallery:image-thumbnail", args=[image.pk, 256]))
    assert b"".join(thumb.streaming_content) == s3.body(image.thumbnail_small.name)

    # A download: a redirect to a presigned URL that expires in a minute.
    download = alice_client.get(url + "?download")
    assert download.status_code == 302
    location = download["Location"]
    assert location.startswith(f"{s3.endpoint}/{s3.name}/{image.file.name}?")
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert "attachment" in query["response-content-disposition"][0]
    assert download["Cache-Control"] == "private, no-store"
    fetched = httpx.get(location)
    assert fetched.status_code == 200 and fetched.content == original

    # Nobody else gets a byte or a URL: the view decides before anything is signed.
    assert image.is_private
    client.force_login(bob)
    assert client.get(url + "?download").status_code == 404
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url + "?download").status_code == 302
    assert "/accounts/login/" in client.get(url + "?download")["Location"]
    page = alice_client.get(image.get_absolute_url()).content.decode()
    assert s3.endpoint not in page and s3.name not in page


# --- check_gallery and migrate_media on the bucket -----------------------------------------


def check(*args) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("check_gallery", *args, stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_deleting_forever_removes_an_images_objects_from_the_bucket(s3, alice, standin):
    from gallery import trash

    job = run_job(alice, prompt="a kite to delete")
    image = job.images.get()
    keys = {image.file.name, image.thumbnail.name, image.thumbnail_small.name}
    assert keys <= s3.listing()
    trash.trash_images([image.pk])
    assert trash.empty_trash() == 0  # still within its 30 days
    assert keys <= s3.listing()
    Image.objects.filter(pk=image.pk).update(trashed_at=image.created_at.replace(year=2000))
    assert trash.empty_trash() == 1
    assert not keys & s3.listing()


def test_check_gallery_finds_and_repairs_on_the_bucket(s3, alice, standin):
    image = run_job(alice).images.get()
    ok, out = check()
    assert ok, out
    assert "checked 1 images: 0 missing files, 0 sha256 mismatches" in out

    s3.client.delete_object(Bucket=s3.name, Key=image.thumbnail.name)
    s3.client.put_object(Bucket=s3.name, Key="originals/zz/stray.png", Body=png())
    ok, out = check()
    assert not ok and f"row without file: image {image.pk} -> {image.thumbnail.name}" in out
    assert "unreferenced but recent (a job may be storing it): originals/zz/stray.png" in out
    ok, out = check("--repair")
    assert image.thumbnail.name in s3.listing()

    s3.client.put_object(Bucket=s3.name, Key=image.file.name, Body=b"tampered")
    ok, out = check()
    assert not ok and f"sha256 mismatch: image {image.pk}" in out


def migrate(*args) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("migrate_media", *args, stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_migrate_media_copies_local_media_and_verifies_every_sha256(
    bucket, alice, standin, media_root, settings
):
    run_job(alice, n=2)
    mask = media.store_derived(png((0, 0, 0)), folder="masks", extension="png")
    local = {
        p.relative_to(media_root).as_posix(): p.read_bytes()
        for p in media_root.rglob("*")
        if p.is_file()
    }
    assert mask in local and len(local) == 7  # 2 originals, 4 thumbnails, a mask

    bucket.use()
    ok, out = migrate()
    assert ok, out
    assert "copied 7 files" in out and "0 already in the bucket" in out
    assert "2 image originals against their rows; 0 problems" in out
    assert bucket.listing() == set(local)
    for key, data in local.items():
        assert bucket.body(key) == data
    for image in Image.objects.all():
        assert media.read(image.file.name) == local[image.file.name]

    ok, out = migrate()  # again: nothing copied, everything verified
    assert ok and "copied 0 files" in out and "7 already in the bucket" in out

    victim = Image.objects.first().file.name
    bucket.client.put_object(Bucket=bucket.name, Key=victim, Body=b"not the original")
    ok, out = migrate()
    assert not ok
    assert f"{victim}: the bucket's copy hashes to" in out
    assert bucket.body(victim) == b"not the original"  # reported, never overwritten


def test_migrate_media_refuses_without_s3(settings):
    settings.STUDIO_MEDIA_STORAGE = "local"
    with pytest.raises(CommandError, match="STUDIO_MEDIA_STORAGE=s3"):
        call_command("migrate_media")


# --- real processes ------------------------------------------------------------------------


def test_a_worker_and_a_web_server_share_media_through_the_bucket(bucket, tmp_path):
    """The worker stores through S3 and the web process (another process, another var/ with
    no media of its own) sends the image from the bucket."""
    env = {
        "STUDIO_MEDIA_STORAGE": "s3",
        "STUDIO_S3_BUCKET": bucket.name,
        "STUDIO_S3_ENDPOINT_URL": bucket.endpoint,
        "STUDIO_S3_REGION": "us-east-1",
        "STUDIO_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "STUDIO_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
    }
    with running_stack("embedded", tmp_path / "stack", extra_env=env) as stack:
        done = stack.manage("generate", "a heron in reeds", "--wait", "--timeout", "120")
        [(image_id, name)] = re.findall(r"^image (\d+) (\S+)$", done.stdout, re.M)
        assert name.startswith("originals/"), done.stdout  # a name in the bucket, not a path
        assert not list((stack.var_dir / "media").rglob("*.png"))
        original = bucket.body(name)
        assert hashlib.sha256(original).hexdigest() == name.rsplit("/", 1)[1].split(".")[0]

        browser = Browser(stack.url)
        browser.signup("kit")
        shown = browser.client.get(f"/images/{image_id}/original")
        assert shown.status_code == 200 and shown.content == original
        download = browser.client.get(f"/images/{image_id}/original?download")
        assert download.status_code == 200 and download.content == original  # via the redirect
        assert download.url.host == "127.0.0.1" and bucket.name in download.url.path
