"""Boards for real and the gallery's selection bar (issue 18, item 2)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gallery import trash
from gallery.browse import boards
from gallery.models import Board, BoardImage, Favourite, Image, Visibility
from tests.unit.test_trash import client_for, output

pytestmark = pytest.mark.django_db


def test_the_boards_page_shows_count_cover_and_last_change_of_what_the_person_can_see(alice, bob):
    board = Board.objects.create(owner=alice, name="Foxes")
    first, second = output(alice, shade=1), output(alice, shade=2)
    hidden = output(bob, shade=3, visibility=Visibility.PRIVATE)  # made private after adding
    gone = output(alice, shade=4)
    for image in (first, second, hidden, gone):
        boards.add_to_board(board=board, image=image)
    BoardImage.objects.filter(image=hidden).update(added_at=timezone.now() + timedelta(1))
    trash.trash_images([gone.pk])
    (summary,) = boards.summaries(alice)
    assert summary.count == 2
    assert summary.cover_id == second.pk  # the latest she can still see
    boards.set_cover(board=board, image=first)
    (summary,) = boards.summaries(alice)
    assert summary.cover_id == first.pk
    trash.trash_images([first.pk])  # a chosen cover that is gone: the latest again
    (summary,) = boards.summaries(alice)
    assert summary.cover_id == second.pk and summary.count == 1
    page = client_for(alice).get(reverse("gallery:boards")).content.decode()
    assert "1 image ·" in page and f"/images/{second.pk}/thumbnail/256.webp" in page


def test_rename_refuses_a_name_already_taken_and_says_so(alice):
    foxes = Board.objects.create(owner=alice, name="Foxes")
    Board.objects.create(owner=alice, name="Owls")
    client = client_for(alice)
    response = client.post(reverse("gallery:board-rename", args=[foxes.pk]), {"name": " Owls "})
    assert response.status_code == 302
    assert (
        "You already have a board called “Owls”"
        in client.get(response["Location"]).content.decode()
    )
    assert Board.objects.get(pk=foxes.pk).name == "Foxes"
    client.post(reverse("gallery:board-rename", args=[foxes.pk]), {"name": "Red foxes"})
    assert Board.objects.get(pk=foxes.pk).name == "Red foxes"


def test_deleting_a_board_keeps_its_images(alice):
    board = Board.objects.create(owner=alice, name="Foxes")
    image = output(alice)
    boards.add_to_board(board=board, image=image)
    client_for(alice).post(reverse("gallery:board-delete", args=[board.pk]))
    assert not Board.objects.filter(pk=board.pk).exists()
    assert Image.objects.filter(pk=image.pk, trashed_at=None).exists()


def test_someone_elses_board_is_404_whatever_is_asked(alice, bob):
    board = Board.objects.create(owner=alice, name="Foxes")
    image = output(bob)
    client = client_for(bob)
    for name, data in (
        ("gallery:board-rename", {"name": "Mine now"}),
        ("gallery:board-delete", {}),
        ("gallery:board-cover", {"image": image.pk}),
    ):
        assert client.post(reverse(name, args=[board.pk]), data).status_code == 404
    selection = {"action": "board", "board": board.pk, "image": image.pk}
    assert client.post(reverse("gallery:selection"), selection).status_code == 404
    assert Board.objects.get(pk=board.pk).name == "Foxes" and not BoardImage.objects.exists()


def test_the_selection_changes_only_what_the_person_may_and_says_how_many(alice, bob):
    mine = [output(bob, shade=i) for i in range(1, 4)]
    hers = output(alice, shade=9)
    client = client_for(bob)
    ids = [image.pk for image in (*mine, hers)]
    response = client.post(
        reverse("gallery:selection"), {"action": "private", "image": ids}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Made private 3 images. 1 left as they were" in text
    assert response["HX-Trigger"] and str(hers.pk) not in response["HX-Trigger"]
    assert set(
        Image.objects.filter(visibility=Visibility.PRIVATE).values_list("pk", flat=True)
    ) == {image.pk for image in mine}
    # Starring needs only sight of an image: hers too.
    client.post(reverse("gallery:selection"), {"action": "star", "image": ids})
    assert Favourite.objects.filter(user=bob).count() == 4
    board = Board.objects.create(owner=bob, name="Picks")
    client.post(reverse("gallery:selection"), {"action": "board", "board": board.pk, "image": ids})
    assert BoardImage.objects.filter(board=board).count() == 4
    response = client.post(
        reverse("gallery:selection"), {"action": "delete", "image": ids}, HTTP_HX_REQUEST="true"
    )
    assert ">Undo</button>" in response.content.decode()
    assert Image.objects.filter(trashed_at__isnull=False).count() == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode", "image": "1"}, "Choose what to do with the selected images."),
        ({"action": "star"}, "Select one or more images first."),
        ({"action": "star", "image": "x"}, "Select one or more images first."),
    ],
)
def test_a_selection_that_makes_no_sense_gets_a_clear_message(alice, data, message):
    response = client_for(alice).post(reverse("gallery:selection"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and message in response.content.decode()


def test_the_gallery_page_costs_the_same_queries_with_the_selection_bar_and_sidebar(alice):
    for index in range(3):
        Board.objects.create(owner=alice, name=f"Board {index}")
    for shade in range(1, 4):
        output(alice, shade=shade)
    client = client_for(alice)
    client.get(reverse("gallery:gallery"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("gallery:gallery"))
    for shade in range(4, 30):
        output(alice, shade=shade)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("gallery:gallery")).content.decode()
    assert len(many) == len(few)  # no query per tile or per board
    assert page.count('class="tile-select"') == 29
    assert page.count('class="board-drop"') == 3
