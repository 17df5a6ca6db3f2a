"""Personal API tokens: made and shown once, stored hashed, revoked, expired; the
OpenAI-compatible endpoint's refusals in OpenAI's envelope; the job page says which token."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery import jobs
from gallery.gateway import tokens
from gallery.models import ApiToken, ModelListing

pytestmark = pytest.mark.django_db

GENERATIONS = "/v1/images/generations"


def call(client, secret: str, body: dict | None = None, **headers):
    return client.post(
        GENERATIONS,
        data=json.dumps({"prompt": "a lighthouse"} if body is None else body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", **headers},
    )


def test_a_token_is_shown_once_and_stored_only_as_its_hash(alice_client, alice):
    page = alice_client.post(reverse("api-tokens"), {"name": "notebook", "days": "30"})
    assert page.status_code == 200
    row = ApiToken.objects.get(owner=alice)
    secret = page.context["made"]["secret"]
    assert secret.startswith("studio-") and secret in page.content.decode()
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert row.digest == tokens.digest(secret)
    # Shown once: the list page afterwards has only the prefix.
    assert secret not in alice_client.get(reverse("api-tokens")).content.decode()
    assert row.expires_at - timezone.now() > timedelta(days=29)


def test_a_token_without_a_name_is_refused_and_nothing_is_made(alice_client):
    page = alice_client.post(reverse("api-tokens"), {"name": "  ", "days": "30"})
    assert page.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoked_expired_and_inactive_owners_tokens_authenticate_nobody(client, alice, bob):
    for make_useless in (
        lambda row: tokens.revoke(row),
        lambda row: ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now()),
        lambda row: type(alice).objects.filter(pk=row.owner_id).update(is_active=False),
    ):
        row, secret = tokens.create_token(owner=bob, name="script", days=None)
        assert tokens.authenticate(f"Bearer {secret}") is not None
        make_useless(row)
        assert tokens.authenticate(f"Bearer {secret}") is None
        response = call(client, secret)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_only_the_owner_or_staff_can_revoke(client, alice, bob, django_user_model):
    row, _ = tokens.create_token(owner=alice, name="script", days=None)
    client.force_login(bob)
    assert client.post(reverse("api-token-revoke", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    staff = django_user_model.objects.create_user("stella", password="x", is_staff=True)
    client.force_login(staff)
    assert client.post(reverse("api-token-revoke", args=[row.pk])).status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "x", "colour": "red"}, "colour"),
        ({"prompt": "x", "n": 99}, "n"),
        ({"prompt": "x", "response_format": "gif"}, "response_format"),
        ({"prompt": "x", "n": [1]}, "n"),
        ({}, "prompt"),
    ],
)
def test_bad_parameters_are_400_in_openais_envelope_and_make_no_job(client, alice, body, param):
    _, secret = tokens.create_token(owner=alice, name="script", days=None)
    response = call(client, secret, body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not alice.jobs.exists()


def test_a_body_that_is_not_json_is_400_not_500(client, alice):
    _, secret = tokens.create_token(owner=alice, name="script", days=None)
    response = client.post(
        GENERATIONS,
        data=b"\xff{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_the_job_page_says_which_token_asked(alice_client, alice):
    row, _ = tokens.create_token(owner=alice, name="Open WebUI", days=None)
    job = jobs.create_job(owner=alice, prompt="a kite", model="gpt-image-1", api_token=row)
    page = alice_client.get(job.get_absolute_url()).content.decode()
    assert "via API token" in page and "Open WebUI" in page


def test_the_gallery_filters_images_made_via_an_api_token(alice_client, alice):
    from gallery.models import Image
    from gallery.provenance import verification
    from tests.helpers import finished

    row, _ = tokens.create_token(owner=alice, name="script", days=None)
    made = []
    for colour in range(3):
        image = finished(
            verification.add_to_gallery(owner=alice, data=_png(colour), visibility="shared")
        )
        Image.objects.filter(pk=image.pk).update(prompt=f"kite number {colour}")
        made.append(image)
    Image.objects.filter(pk=made[1].pk).update(api_token=row)
    for query in ({"via": "api", "kind": "all"}, {"via": "api", "kind": "all", "q": "kite"}):
        page = alice_client.get(reverse("gallery:gallery"), query)
        shown = [tile.pk for tile in page.context["page"].images]
        assert shown == [made[1].pk], query
    everything = alice_client.get(reverse("gallery:gallery"), {"kind": "all", "q": "kite"})
    assert len(everything.context["page"].images) == 3


def _png(colour: int) -> bytes:
    import io

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), (colour * 40, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def test_without_a_model_and_with_none_offered_the_answer_is_400_on_model(client, bob, settings):
    # A key that lists no configured model: nothing is offered, so no default either.
    ModelListing.objects.update_or_create(
        base_url=settings.OPENAI_BASE_URL,
        defaults={"listed": [{"id": "dall-e-2"}], "checked_at": timezone.now()},
    )
    _, secret = tokens.create_token(owner=bob, name="script", days=None)
    response = call(client, secret)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "model", error
