"""Favourites and boards: a person's stars and named collections of images.

Boards are private to their owner; a board may hold any image its owner can see. Callers
check visibility (gallery.access) before passing an image here."""

from django.db import IntegrityError, transaction

from gallery.models import Board, BoardImage, Favourite, Image, Job

BOARD_NAME_MAX = 100


class BoardError(ValueError):
    """A board operation a person asked for cannot be done; the message says why."""


def toggle_favourite(*, user, image: Image) -> bool:
    """Star the image, or unstar it when it is starred; returns whether it is starred now."""
    deleted, _ = Favourite.objects.filter(user=user, image=image).delete()
    if deleted:
        return False
    try:
        with transaction.atomic():
            Favourite.objects.create(user=user, image=image)
    except IntegrityError:
        pass  # a double click raced us; the star is there either way
    return True


def starred_ids(*, user, images) -> set[int]:
    """Which of these images the person has starred (one query for a page)."""
    return set(
        Favourite.objects.filter(user=user, image__in=[i.pk for i in images]).values_list(
            "image_id", flat=True
        )
    )


def create_board(*, owner, name: str) -> Board:
    name = " ".join(name.split())
    if not name:
        raise BoardError("Give the board a name.")
    if not name.isprintable():  # NUL and other control characters (PostgreSQL refuses NUL)
        raise BoardError("Board names cannot contain control characters.")
    if len(name) > BOARD_NAME_MAX:
        raise BoardError(f"Board names are at most {BOARD_NAME_MAX} characters.")
    board, _ = Board.objects.get_or_create(owner=owner, name=name)
    return board


def add_to_board(*, board: Board, image: Image) -> None:
    BoardImage.objects.get_or_create(board=board, image=image)


def remove_from_board(*, board: Board, image: Image) -> None:
    BoardImage.objects.filter(board=board, image=image).delete()


def add_job_outputs(job: Job, images: list[Image]) -> None:
    """Put a finished job's images on the board chosen on the create page, if any. Runs in
    the transaction that stores the images; the row lock keeps the board from being deleted
    under us, so a vanished board can never cost the paid-for images."""
    if job.board_id is None:
        return
    board = Board.objects.select_for_update().filter(pk=job.board_id).first()
    if board is not None:
        BoardImage.objects.bulk_create(
            [BoardImage(board=board, image=image) for image in images], ignore_conflicts=True
        )
