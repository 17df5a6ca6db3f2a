"""The gallery page (search, filters, infinite scroll), its selection bar, stars and boards."""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from gallery import access, browse, trash
from gallery.browse import boards
from gallery.imagesapi import registry
from gallery.models import Board, Image, Visibility
from gallery.views.trash import offer_undo


@dataclass(frozen=True)
class _StarState:
    """What the star partial shows of one image: the fields of a gallery Tile it reads."""

    pk: int
    links: dict[str, str]
    is_starred: bool


def _tile_links() -> dict[str, str]:
    """URL patterns for a tile, reversed once per page rather than five times per tile."""
    names = {
        "detail": ("gallery:image-detail", []),
        "original": ("gallery:image-original", []),
        "small": ("gallery:image-thumbnail", [256]),
        "large": ("gallery:image-thumbnail", [512]),
        "star": ("gallery:image-star", []),
    }
    return {
        name: reverse(view, args=[0, *extra]).replace("/0/", "/{pk}/", 1)
        for name, (view, extra) in names.items()
    }


# The search form's submit button: its presence says the query string came from the form,
# every filter in it, mostly empty, rather than from a link someone shared.
FROM_FORM = "search"
# Longer addresses are not redirected to: Django refuses redirects over 16,384 characters, and
# a query that long (thousands of characters, escaped three to nine times over) is no link to
# share anyway. The page is answered at the address it was asked for.
SHARE_URL_MAX = 8000


def _share_url(query) -> str:
    """The gallery URL with only the parameters in use: the one to share or bookmark."""
    kept = [
        (name, value)
        for name, values in query.lists()
        if name != FROM_FORM
        for value in values
        if value.strip()
    ]
    return reverse("gallery:gallery") + ("?" + urlencode(kept) if kept else "")


@login_required
@require_GET
def gallery(request):
    share_url = _share_url(request.GET)
    if FROM_FORM in request.GET and not request.htmx and len(share_url) <= SHARE_URL_MAX:
        # Submitted without JavaScript: the address bar should read ?q=fox, not
        # ?q=fox&who=&model=&kind=... A link with empty parameters still works as it is.
        return redirect(share_url)
    page = browse.browse(request.user, request.GET)
    starred = boards.starred_ids(user=request.user, images=page.images)
    links = _tile_links()
    for image in page.images:
        image.is_starred = image.pk in starred
        image.links = {name: link.format(pk=image.pk) for name, link in links.items()}
    next_url = None
    if page.next_cursor:
        next_url = "?" + urlencode({**page.params, "cursor": page.next_cursor})
    context = {
        "page": page,
        "images": page.images,
        "next_url": next_url,
        "query": page.params.get("q", ""),
        "params": page.params,
        "filtered": bool(set(page.params) - {"q", "similar"}),
        "similar_prompts": request.GET.get("similar") in ("1", "on"),
        "boards": Board.objects.filter(owner=request.user),
        "models": registry.model_ids(),
        "sizes": sorted(
            {s for m in registry.all_models() for s in m.sizes if s != "auto"},
            key=lambda s: [int(n) for n in s.split("x")],
        ),
        "kinds": browse.KINDS,
        "qualities": browse.QUALITIES,
        "backgrounds": browse.BACKGROUNDS,
        "formats": browse.FORMATS,
        "provenance_states": Image.Provenance.choices,
    }
    if request.htmx and request.htmx.target == "gallery-results":
        response = render(request, "gallery/gallery.html#results", context)
        # The form asked htmx to push the URL it sent, every empty field included.
        if len(share_url) <= SHARE_URL_MAX:
            response["HX-Push-Url"] = share_url
        return response
    if request.htmx:
        return render(request, "gallery/gallery.html#page", context)
    return render(request, "gallery/gallery.html", context)


@login_required
@require_POST
def star(request, pk: int):
    image = access.image_for_viewer(request.user, pk)
    state = _StarState(
        pk=image.pk,
        links={name: link.format(pk=image.pk) for name, link in _tile_links().items()},
        is_starred=boards.toggle_favourite(user=request.user, image=image),
    )
    if request.htmx:
        return render(request, "gallery/gallery.html#star", {"image": state})
    return redirect(_back(request))


# What the selection bar can do, and whose images each may touch: anything the person can
# see may go on their boards or be starred; only their own (any, for staff) be changed.
SELECTION_ACTIONS = {
    "board": "Added",
    "star": "Starred",
    "private": "Made private",
    "shared": "Shared",
    "delete": "Moved to the trash",
}


@login_required
@require_POST
def selection(request):
    """Act on the images selected on the gallery page: `image` (repeated) and `action`."""
    action = request.POST.get("action", "")
    wanted = {pk for pk in map(access.parse_id, request.POST.getlist("image")) if pk}
    if action not in SELECTION_ACTIONS:
        messages.error(request, "Choose what to do with the selected images.")
        return _selection_done(request, action, [])
    if not wanted:
        messages.error(request, "Select one or more images first.")
        return _selection_done(request, action, [])
    if action in ("board", "star"):
        found = access.visible_images(request.user).filter(pk__in=wanted)
    else:
        found = access.images_for_owner(request.user, wanted)
    ids = sorted(found.values_list("pk", flat=True), reverse=True)
    if not ids:
        # None the person may change (or see): as for one image, as if they did not exist.
        raise Http404("None of the selected images can be changed by you.")
    board = None
    if action == "board":
        board_id = access.parse_id(request.POST.get("board", ""))
        board = get_object_or_404(Board, owner=request.user, pk=board_id or 0)
        boards.add_all_to_board(board=board, images=ids)
    elif action == "star":
        boards.star_all(user=request.user, images=ids)
    elif action in ("private", "shared"):
        access.set_images_visibility(ids, Visibility(action))
    elif action == "delete":
        trash.trash_images(ids)
    n = f"{len(ids)} image{'s' if len(ids) != 1 else ''}"
    text = f"{SELECTION_ACTIONS[action]} {n}{f' to {board.name}' if board else ''}."
    if len(ids) < len(wanted):
        text += f" {len(wanted) - len(ids)} left as they were: you may only change your own."
    if action == "delete" and ids:
        offer_undo(request, text, images=ids)
    else:
        messages.success(request, text)
    return _selection_done(request, action, ids)


def _selection_done(request, action: str, ids: list[int]):
    if not request.htmx:
        return redirect(_back(request))
    response = render(request, "gallery/toasts.html")
    # The page's script updates the tiles it shows (removes deleted ones, fills stars).
    response["HX-Trigger"] = json.dumps({"studio:selection": {"action": action, "ids": ids}})
    return response


@login_required
def board_list(request):
    error = ""
    if request.method == "POST":
        image = None
        if request.POST.get("image"):  # "New board with this image", on an image's page
            image = access.image_for_viewer(request.user, request.POST["image"])
        try:
            board = boards.create_board(owner=request.user, name=request.POST.get("name", ""))
        except boards.BoardError as problem:
            error = str(problem)
            if image is not None:
                messages.error(request, error)
                return redirect(_back(request))
        else:
            if image is not None:
                boards.add_to_board(board=board, image=image)
                messages.success(request, f"Added to the new board “{board.name}”.")
                return redirect(_back(request))
            return redirect(f"{reverse('gallery:gallery')}?board={board.pk}")
    return render(
        request,
        "gallery/boards.html",
        {"summaries": boards.summaries(request.user), "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def board_rename(request, pk: int):
    board = get_object_or_404(Board, pk=pk, owner=request.user)
    try:
        boards.rename_board(board=board, name=request.POST.get("name", ""))
    except boards.BoardError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"Renamed to “{board.name}”.")
    return redirect(_back(request, default=reverse("gallery:boards")))


@login_required
@require_POST
def board_delete(request, pk: int):
    """Delete a board; its images stay in the gallery."""
    board = get_object_or_404(Board, pk=pk, owner=request.user)
    boards.delete_board(board=board)
    messages.success(request, f"Board “{board.name}” deleted; its images are still in the gallery.")
    return redirect("gallery:boards")


@login_required
@require_POST
def board_cover(request, pk: int):
    """Make an image on the board its cover (`image`), or go back to the latest (none)."""
    board = get_object_or_404(Board, pk=pk, owner=request.user)
    image = None
    if request.POST.get("image"):
        image = access.image_for_viewer(
            request.user, request.POST["image"], Image.objects.filter(boardimage__board=board)
        )
    boards.set_cover(board=board, image=image)
    messages.success(request, f"Cover of “{board.name}” {'chosen' if image else 'reset'}.")
    return redirect(_back(request, default=reverse("gallery:boards")))


@login_required
@require_POST
def board_add(request):
    board, image = _board_and_image(request)
    boards.add_to_board(board=board, image=image)
    if request.htmx:
        return render(request, "gallery/gallery.html#board-done", {"board": board, "added": True})
    messages.success(request, f"Added to {board.name}.")
    return redirect(_back(request))


@login_required
@require_POST
def board_remove(request):
    board, image = _board_and_image(request)
    boards.remove_from_board(board=board, image=image)
    if request.htmx:
        return render(request, "gallery/gallery.html#board-done", {"board": board, "added": False})
    messages.success(request, f"Removed from {board.name}.")
    return redirect(_back(request))


def _board_and_image(request):
    board_id = access.parse_id(request.POST.get("board", ""))
    image_id = request.POST.get("image", "")
    if board_id is None:
        raise Http404("Choose a board.")
    board = get_object_or_404(Board, pk=board_id, owner=request.user)
    return board, access.image_for_viewer(request.user, image_id)


def _back(request, default: str = "/") -> str:
    """Where a plain (no-JavaScript) form post returns to: the page it came from, if ours."""
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default
