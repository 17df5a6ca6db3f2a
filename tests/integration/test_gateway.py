"""The studio as an OpenAI-compatible image endpoint, driven by the official `openai` SDK
against a running studio (real web server, Celery worker and stand-in upstream)."""

import base64
import io
import json
import secrets

import httpx
import openai
import PIL.Image
import pytest

from tests.stack import running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # Two seconds per upstream call spreads the streamed events out, so partial images
    # reach the client before the final one.
    with running_stack(
        "embedded", tmp_path_factory.mktemp("gateway"), standin_latency=2.0
    ) as running:
        yield running


def shell(stack, script: str) -> dict:
    """Run Python in the studio's environment; its last printed line, as JSON."""
    out = stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1]
    return json.loads(out)


@pytest.fixture(scope="module")
def person(stack) -> dict:
    name = f"nora{secrets.token_hex(3)}"
    return shell(
        stack,
        "import json; from django.contrib.auth import get_user_model; "
        "from gallery.gateway import tokens; "
        f"u = get_user_model().objects.create_user({name!r}, password='x-long-pass-9'); "
        "row, secret = tokens.create_token(owner=u, name='notebook', days=30); "
        "print(json.dumps({'name': u.username, 'id': u.pk, 'token': secret}))",
    )


@pytest.fixture
def client(stack, person) -> openai.OpenAI:
    # No SDK retries: each test sees exactly what the studio answered.
    return openai.OpenAI(
        base_url=f"{stack.url}/v1", api_key=person["token"], max_retries=0, timeout=120
    )


def job_facts(stack, job_id: int) -> dict:
    return shell(
        stack,
        "import json; from gallery.models import Job; "
        f"j = Job.objects.select_related('api_token').get(pk={job_id}); "
        "print(json.dumps({'token': j.api_token.name if j.api_token else None, "
        "'status': j.status, 'kind': j.kind, 'inputs': j.inputs.count(), 'mask': bool(j.mask), "
        "'images': [[i.pk, i.provenance_state, i.ai_generated] for i in j.images.all()]}))",
    )


def png(colour, size=(64, 64), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    PIL.Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_generate_returns_typed_images_that_land_in_the_gallery_with_credentials(stack, client):
    raw = client.images.with_raw_response.generate(
        prompt="a lighthouse at dusk", size="1024x1024", quality="low"
    )
    result = raw.parse()
    assert isinstance(result, openai.types.ImagesResponse)
    assert len(result.data) == 1 and result.usage and result.usage.total_tokens > 0
    picture = PIL.Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert picture.size == (1024, 1024)
    assert result.size == "1024x1024" and result.quality == "low"

    facts = job_facts(stack, int(raw.headers["x-studio-job"]))
    assert facts["token"] == "notebook" and facts["status"] == "succeeded"
    [(image_id, provenance_state, ai_generated)] = facts["images"]
    assert provenance_state in ("valid", "trusted") and ai_generated
    # The exact bytes the client got are the original the gallery keeps.
    original = (
        stack.manage(
            "shell",
            "-c",
            "import base64; from gallery import media; from gallery.models import Image; "
            f"print(base64.b64encode(media.read(Image.objects.get(pk={image_id}).file.name))"
            ".decode())",
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    assert original == result.data[0].b64_json


def test_url_response_format_gives_a_signed_link_to_the_original(stack, client):
    result = client.images.generate(
        prompt="a kite over dunes", size="1024x1024", quality="low", response_format="url"
    )
    url = result.data[0].url
    assert url.startswith(f"{stack.url}/v1/images/files/")
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content[:8] == b"\x89PNG\r\n\x1a\n"
    forged = httpx.get(url[:-3] + "abc")
    assert forged.status_code == 404


def test_stream_sends_partial_images_then_the_completed_image(client):
    events = list(
        client.images.generate(
            prompt="a paper boat on a pond",
            size="1024x1024",
            quality="low",
            stream=True,
            partial_images=2,
        )
    )
    kinds = [event.type for event in events]
    assert kinds[-1] == "image_generation.completed", kinds
    assert "image_generation.partial_image" in kinds, kinds
    partial = next(e for e in events if e.type == "image_generation.partial_image")
    assert isinstance(partial, openai.types.ImageGenPartialImageEvent)
    assert PIL.Image.open(io.BytesIO(base64.b64decode(partial.b64_json))).size
    completed = events[-1]
    assert isinstance(completed, openai.types.ImageGenCompletedEvent)
    assert completed.usage.total_tokens > 0


def test_edit_with_three_images_and_a_mask(stack, client):
    mask = png((0, 0, 0, 0), mode="RGBA")
    raw = client.images.with_raw_response.edit(
        image=[
            ("a.png", png((200, 30, 30)), "image/png"),
            ("b.png", png((30, 200, 30)), "image/png"),
            ("c.png", png((30, 30, 200)), "image/png"),
        ],
        mask=("mask.png", mask, "image/png"),
        prompt="put them on one table",
        size="1024x1024",
        quality="low",
    )
    result = raw.parse()
    assert len(result.data) == 1 and result.data[0].b64_json
    facts = job_facts(stack, int(raw.headers["x-studio-job"]))
    assert facts["kind"] == "edit" and facts["inputs"] == 3 and facts["mask"]
    assert facts["token"] == "notebook" and facts["status"] == "succeeded"


def test_a_bad_token_is_refused_in_openais_envelope(stack):
    stranger = openai.OpenAI(
        base_url=f"{stack.url}/v1", api_key="studio-not-a-token", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as caught:
        stranger.images.generate(prompt="anything")
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        stranger.models.list()


def test_unknown_parameters_and_bad_values_say_which(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="x", extra_body={"colour": "red"})
    assert caught.value.param == "colour"
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="x", size="1000x1")
    assert caught.value.param == "size"


def test_over_budget_is_refused_before_anything_is_sent(stack, client, person):
    shell(
        stack,
        "import json; from decimal import Decimal; from gallery.jobs import budgets; "
        "from django.contrib.auth import get_user_model; "
        f"budgets.set_person_limit(get_user_model().objects.get(pk={person['id']}), "
        "Decimal('0.000001')); print('{}')",
    )
    try:
        before = shell(stack, "from gallery.models import Job; print(Job.objects.count())")
        with pytest.raises(openai.RateLimitError) as caught:
            client.images.generate(prompt="an expensive cathedral", quality="high")
        assert caught.value.code == "insufficient_quota"
        assert caught.value.response.headers["x-should-retry"] == "false"
        after = shell(stack, "from gallery.models import Job; print(Job.objects.count())")
        assert after == before
    finally:
        shell(
            stack,
            "from gallery.jobs import budgets; from django.contrib.auth import get_user_model; "
            f"budgets.set_person_limit(get_user_model().objects.get(pk={person['id']}), None); "
            "print('{}')",
        )


def test_an_idempotent_repeat_answers_with_the_first_job(stack, client):
    key = {"Idempotency-Key": f"retry-{secrets.token_hex(4)}"}
    first = client.images.with_raw_response.generate(
        prompt="a red bicycle", quality="low", size="1024x1024", extra_headers=key
    )
    again = client.images.with_raw_response.generate(
        prompt="a red bicycle", quality="low", size="1024x1024", extra_headers=key
    )
    assert first.headers["x-studio-job"] == again.headers["x-studio-job"]
    assert first.parse().data[0].b64_json == again.parse().data[0].b64_json


def test_models_lists_what_the_studio_offers(client):
    ids = [model.id for model in client.models.list()]
    assert ids and all(isinstance(i, str) for i in ids)
