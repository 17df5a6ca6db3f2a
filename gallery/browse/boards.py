"""Favourites and boards: a person's stars and named collections of images.

Boards are private to their owner; a board may hold any image its owner can see. Callers
check visibility (gallery.access) before passing an image here."""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from gallery.models import Board, BoardImage, Favourite, Image, Job, Visibility

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


def star_all(*, user, images: list[int]) -> int:
    """Star every one of these images (already starred ones stay starred); returns how many
    are starred now."""
    Favourite.objects.bulk_create(
        [Favourite(user=user, image_id=pk) for pk in images], ignore_conflicts=True
    )
    return len(images)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise BoardError("Give the board a name.")
    if not name.isprintable():  # NUL and other control characters (PostgreSQL refuses NUL)
        raise BoardError("Board names cannot contain control characters.")
    if len(name) > BOARD_NAME_MAX:
        raise BoardError(f"Board names are at most {BOARD_NAME_MAX} characters.")
    return name


def create_board(*, owner, name: str) -> Board:
    board, _ = Board.objects.get_or_create(owner=owner, name=_clean_name(name))
    return board


def rename_board(*, board: Board, name: str) -> None:
    name = _clean_name(name)
    if name == board.name:
        return
    if Board.objects.filter(owner_id=board.owner_id, name=name).exclude(pk=board.pk).exists():
        raise BoardError(f"You already have a board called “{name}”.")
    try:
        with transaction.atomic():
            Board.objects.filter(pk=board.pk).update(name=name, changed_at=timezone.now())
    except IntegrityError:  # the same name taken a moment ago
        raise BoardError(f"You already have a board called “{name}”.") from None
    board.name = name


def delete_board(*, board: Board) -> None:
    """Delete the board; its images stay where they are (in the gallery, on other boards)."""
    board.delete()


def set_cover(*, board: Board, image: Image | None) -> None:
    """Choose the board's cover (None: the latest image added again)."""
    Board.objects.filter(pk=board.pk).update(cover=image)


def add_to_board(*, board: Board, image: Image) -> None:
    add_all_to_board(board=board, images=[image.pk])


def add_all_to_board(*, board: Board, images: list[int]) -> None:
    """Put these images on the board (those already on it stay as they were)."""
    BoardImage.objects.bulk_create(
        [BoardImage(board=board, image_id=pk) for pk in images], ignore_conflicts=True
    )
    Board.objects.filter(pk=board.pk).update(changed_at=timezone.now())


def remove_from_board(*, board: Board, image: Image) -> None:
    BoardImage.objects.filter(board=board, image=image).delete()
    Board.objects.filter(pk=board.pk).update(changed_at=timezone.now())


@dataclass(frozen=True)
class Summary:
    """What the boards page shows of one board."""

    board: Board
    count: int
    cover_id: int | None  # the image whose thumbnail is the cover; None: an empty board
    changed_at: datetime


def summaries(owner) -> list[Summary]:
    """The person's boards with their image counts and covers, in one query. Only images the
    person may still see count: not in the trash, and shared or their own."""
    seen = BoardImage.objects.filter(board=OuterRef("pk"), image__trashed_at__isnull=True)
    counted = Q(boardimage__image__trashed_at__isnull=True)
    if not owner.is_staff:
        seen = seen.filter(Q(image__visibility=Visibility.SHARED) | Q(image__owner=owner))
        counted &= Q(boardimage__image__visibility=Visibility.SHARED) | Q(
            boardimage__image__owner=owner
        )
    boards = Board.objects.filter(owner=owner).annotate(
        image_count=Count("boardimage", filter=counted),
        latest_id=Subquery(seen.order_by("-added_at", "-id").values("image_id")[:1]),
        cover_usable=Exists(seen.filter(image_id=OuterRef("cover_id"))),
    )
    return [
        Summary(
            board=board,
            count=board.image_count,
            cover_id=board.cover_id if board.cover_usable else board.latest_id,
            changed_at=board.changed_at,
        )
        for board in boards
    ]


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
        Board.objects.filter(pk=board.pk).update(changed_at=timezone.now())
