"""Similar prompts (by meaning, the real WordLlama model) and similar images (perceptual
hashes of real thumbnails): ranking, visibility, and the worker storing what they need."""

import io
import re

import numpy as np
import PIL.Image
import pytest

from gallery import media, tasks
from gallery.access import visible_images
from gallery.browse import features, semantic, similar
from gallery.models import Image, PerceptualHash, PromptEmbedding

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_indexes():
    """Each test's database starts empty again (ids are reused after a rollback)."""
    semantic.INDEX.reset()
    similar.INDEX.reset()
    yield
    semantic.INDEX.reset()
    similar.INDEX.reset()


def picture(kind: str, shade: int = 0) -> bytes:
    """A PNG of soft blobs ('stripes' and 'rings' name two unrelated ones), `shade` lighter:
    a near copy to the eye."""
    seed = {"stripes": 1, "rings": 2}[kind]
    blobs = np.random.default_rng(seed).integers(0, 200, size=(6, 6), dtype=np.uint8)
    soft = np.asarray(PIL.Image.fromarray(blobs).resize((256, 256), PIL.Image.BICUBIC))
    pixels = np.clip(soft.astype(int) + shade, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    PIL.Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(out, format="PNG")
    return out.getvalue()


def make_image(owner, prompt, *, kind="stripes", shade=0, visibility="shared") -> Image:
    stored = media.store_output(picture(kind, shade))
    image = Image.objects.create(
        owner=owner, prompt=prompt, visibility=visibility, **stored.image_fields()
    )
    tasks.describe_images([image.pk])  # what the worker runs when an image lands
    return image


def prompts_for(user, text: str) -> list[str]:
    ids = semantic.ranked_ids(text, visible_images(user), user)
    by_id = dict(Image.objects.filter(pk__in=ids).values_list("pk", "prompt"))
    return [by_id[pk] for pk in ids]


PROMPTS = [
    "kitten sleeping on a couch",
    "a red sports car racing on a highway",
    "snowy mountain lake at sunrise",
    "a golden retriever playing fetch in the park",
    "bowl of ramen with chopsticks, studio lighting",
]


def test_similar_prompts_finds_by_meaning_not_words(alice):
    for prompt in PROMPTS:
        make_image(alice, prompt)
    assert prompts_for(alice, "a cat on a sofa")[0] == "kitten sleeping on a couch"
    assert prompts_for(alice, "automobile speeding down the road")[0].startswith("a red sports")
    assert prompts_for(alice, "puppy with a ball outdoors")[0].startswith("a golden retriever")
    assert prompts_for(alice, "a bowl of noodles")[0].startswith("bowl of ramen")


def test_unrelated_queries_find_nothing(alice):
    for prompt in PROMPTS:
        make_image(alice, prompt)
    assert prompts_for(alice, "quarterly tax spreadsheet") == []


def test_similar_prompts_never_show_other_peoples_private_images(alice, bob, django_user_model):
    make_image(alice, "kitten sleeping on a couch")
    make_image(bob, "a cat napping on a sofa", visibility="private")
    make_image(bob, "a cat lying on a settee")
    assert "a cat napping on a sofa" not in prompts_for(alice, "a cat on a sofa")
    assert set(prompts_for(alice, "a cat on a sofa")) == {
        "kitten sleeping on a couch",
        "a cat lying on a settee",
    }
    assert prompts_for(bob, "a cat on a sofa")[0] == "a cat napping on a sofa"
    staff = django_user_model.objects.create_user("carol", password="pw", is_staff=True)
    assert "a cat napping on a sofa" in prompts_for(staff, "a cat on a sofa")


def test_an_image_made_private_later_leaves_other_peoples_results(alice, bob):
    mine = make_image(bob, "a cat napping on a sofa")
    assert prompts_for(alice, "a cat on a sofa") == ["a cat napping on a sofa"]
    Image.objects.filter(pk=mine.pk).update(visibility="private")  # the index copy is stale
    assert prompts_for(alice, "a cat on a sofa") == []


def test_new_vectors_are_found_without_a_restart(alice):
    make_image(alice, "kitten sleeping on a couch")
    assert prompts_for(alice, "a cat on a sofa") == ["kitten sleeping on a couch"]
    make_image(alice, "a cat curled up on a sofa")
    assert set(prompts_for(alice, "a cat on a sofa")) == {
        "kitten sleeping on a couch",
        "a cat curled up on a sofa",
    }


def test_the_gallery_toggle_orders_by_meaning(alice_client, alice):
    for prompt in PROMPTS:
        make_image(alice, prompt)
    html = alice_client.get("/", {"q": "a cat on a sofa", "similar": "1"}).content.decode()
    ids = [int(pk) for pk in re.findall(r'data-id="(\d+)"', html)]
    assert Image.objects.get(pk=ids[0]).prompt == "kitten sleeping on a couch"
    plain = alice_client.get("/", {"q": "a cat on a sofa"}).content.decode()
    assert 'data-id="' not in plain  # no prompt holds all those words


def test_the_worker_stores_a_vector_and_the_thumbnails_hash(alice):
    image = make_image(alice, "kitten sleeping on a couch")
    vector = PromptEmbedding.objects.get(image=image)
    assert len(vector.vector) == 512 and len(vector.code) == 32
    thumbnail = media.read(image.thumbnail_small.name)
    assert bytes(PerceptualHash.objects.get(image=image).phash) == similar.perceptual_hash(
        thumbnail
    )
    assert features.describe([image.pk]) == 0  # idempotent


def test_backfill_describes_images_stored_before(alice):
    stored = media.store_output(picture("rings"))
    image = Image.objects.create(owner=alice, prompt="rings", **stored.image_fields())
    assert features.backfill() == 2
    assert PromptEmbedding.objects.filter(image=image).exists()
    assert PerceptualHash.objects.filter(image=image).exists()
    assert features.backfill() == 0


def test_similar_images_are_near_copies_the_viewer_may_see(alice, bob):
    original = make_image(alice, "stripes", kind="stripes")
    lighter = make_image(alice, "lighter stripes", kind="stripes", shade=20)
    make_image(alice, "rings", kind="rings")
    hidden = make_image(bob, "bob's stripes", kind="stripes", shade=10, visibility="private")
    near = similar.similar_images(original, alice)
    assert [image for image, _ in near] == [lighter]
    assert hidden in [image for image, _ in similar.similar_images(original, bob)]


def test_image_page_lists_similar_images(alice_client, alice, bob):
    original = make_image(alice, "stripes", kind="stripes")
    lighter = make_image(alice, "lighter stripes", kind="stripes", shade=20)
    hidden = make_image(bob, "bob's stripes", kind="stripes", shade=10, visibility="private")
    html = alice_client.get(f"/images/{original.pk}/").content.decode()
    assert "Similar images" in html
    assert f"/images/{lighter.pk}/" in html
    assert f"/images/{hidden.pk}/" not in html


def test_an_image_made_private_later_leaves_other_peoples_similar_images(alice, bob):
    original = make_image(alice, "stripes", kind="stripes")
    bobs = make_image(bob, "bob's stripes", kind="stripes", shade=10)
    assert [image for image, _ in similar.similar_images(original, alice)] == [bobs]
    Image.objects.filter(pk=bobs.pk).update(visibility="private")  # the index copy is stale
    assert similar.similar_images(original, alice) == []


def test_the_two_pass_scan_keeps_to_what_the_viewer_may_see():
    """Many codes (the first pass on half of each code runs), a third private to others."""
    from types import SimpleNamespace

    from gallery.browse import nearest

    rng = np.random.default_rng(5)
    words = rng.integers(0, 2**63, size=(3000, 4), dtype=np.uint64)
    owners = rng.integers(1, 4, size=3000)
    shared = rng.random(3000) < 0.66
    codes = nearest.Codes(
        shared=nearest.Part(words[shared].T.copy(), np.flatnonzero(shared), owners[shared]),
        private=nearest.Part(words[~shared].T.copy(), np.flatnonzero(~shared), owners[~shared]),
        last_id=3000,
    )
    query = words[7].tobytes()
    viewer = SimpleNamespace(is_staff=False, pk=1)
    ids, distances = nearest.nearest_in(codes, query, user=viewer, count=20)
    assert len(ids) == 20 and list(distances) == sorted(distances)
    assert all(shared[i] or owners[i] == 1 for i in ids)
    full = np.bitwise_count(words[ids] ^ words[7]).sum(axis=1)
    assert list(full) == list(distances)
    if shared[7] or owners[7] == 1:
        assert ids[0] == 7 and distances[0] == 0
    staff = SimpleNamespace(is_staff=True, pk=99)
    assert nearest.nearest_in(codes, query, user=staff, count=1)[0][0] == 7
