"""One way to write sizes (gallery.units), and the lock on the owner's private tiles."""

import pytest
from django.urls import reverse

from gallery import units
from gallery.models import Visibility
from tests.helpers import finished
from tests.unit.test_visibility import upload


@pytest.mark.parametrize(
    ("byte_count", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1 KB"),
        (84_321, "84 KB"),
        (999_499, "999 KB"),
        (999_500, "1.0 MB"),
        (3_245_000, "3.2 MB"),
        (None, "0 bytes"),
    ],
)
def test_file_sizes_are_decimal_kb_and_mb(byte_count, shown):
    assert units.file_size(byte_count) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [("1024x1536", "1024×1536 px"), ("auto", "auto"), ("", ""), ("0x10", "0x10")],
)
def test_api_sizes_read_as_width_by_height_in_pixels(size, shown):
    assert units.size_label(size) == shown


@pytest.mark.django_db
def test_the_owners_private_tiles_carry_a_lock_with_a_text_alternative(alice_client, alice):
    shared = finished(upload(alice, Visibility.SHARED, (10, 200, 10)))
    private = finished(upload(alice, Visibility.PRIVATE, (10, 10, 200)))
    page = alice_client.get(reverse("gallery:gallery") + "?kind=all").content.decode()
    tiles = {
        pk: page.split(f'data-id="{pk}"')[1].split("</figure>")[0] for pk in (shared.pk, private.pk)
    }
    assert 'class="lock-badge"' in tiles[private.pk]
    assert '<span class="visually-hidden">Private</span>' in tiles[private.pk]
    assert "lock-badge" not in tiles[shared.pk]


@pytest.mark.django_db
def test_the_image_page_writes_sizes_the_one_way(alice_client, alice):
    image = finished(upload(alice, Visibility.SHARED))
    page = alice_client.get(image.get_absolute_url()).content.decode()
    assert "<dd>64×48 px</dd>" in page
    assert f"image/png · {units.file_size(image.byte_size)}</dd>" in page
