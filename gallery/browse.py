"""Browsing the gallery: filters read from the URL, search, and keyset pagination.

Every view of the gallery is a URL (`?q=fox&who=mine&model=gpt-image-1&cursor=...`) so any
view can be shared. Pages are cut with a signed keyset cursor on (created_at, id), never
OFFSET, so page 1,000 costs what page 1 costs and rows inserted meanwhile neither repeat nor
skip anything. A value that cannot be used (unknown filter value, forged or stale cursor)
is dropped with a message saying so; it never fails the page.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from . import search
from .access import parse_id, visible_images
from .models import Board, Image

PAGE_SIZE = 48
RANKED_LIMIT = 1000
CURSOR_SALT = "gallery.cursor"

KINDS = {
    "generate": [Image.Source.GENERATED],
    "edit": [Image.Source.EDITED],
    "upload": [Image.Source.UPLOAD],
    "composite": [Image.Source.COMPOSITE],
}
FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
QUALITIES = ("low", "medium", "high", "auto")
BACKGROUNDS = ("transparent", "opaque", "auto")
ORDERS = ("newest", "relevance")
_MODEL = re.compile(r"^[\w.\-:/]{1,100}$")
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
# Large columns a grid never shows.
_HEAVY = ("manifest_json", "provenance", "revised_prompt")


class _Clean:
    """URL values with control characters removed (PostgreSQL refuses NUL in a string)."""

    def __init__(self, data):
        self.data = data

    def get(self, name: str, default: str = "") -> str:
        value = self.data.get(name, default)
        return "".join(ch for ch in str(value) if ch.isprintable() or ch == " ")


@dataclass
class Page:
    images: list[Image]
    params: dict[str, str]  # the filters that were applied, for links
    next_cursor: str | None = None
    messages: list[str] = field(default_factory=list)
    board: Board | None = None


def browse(user, data, *, page_size: int = PAGE_SIZE) -> Page:
    """One page of the gallery for `user`, as asked for by the query dict `data`."""
    data = _Clean(data)
    messages: list[str] = []
    params: dict[str, str] = {}
    images = visible_images(user)
    facets: list[str | None] = []
    images, board = _filter(images, user, data, params, messages, facets)
    query = search.parse(data.get("q", ""))
    query.facets = [f for f in facets if f and not f.startswith("-")]
    query.excluded_facets = [f[1:] for f in facets if f and f.startswith("-")]
    messages.extend(query.messages)
    if query:
        params["q"] = str(query)
    order = _choice(data, "order", ORDERS, messages)
    if order == "relevance" and query:
        params["order"] = order
        page = _ranked_page(images, query, data.get("cursor", ""), page_size, messages)
    else:
        page = _newest_page(images, query, data.get("cursor", ""), page_size, messages)
    page.params, page.messages, page.board = params, messages, board
    return page


def _filter(images, user, data, params, messages, facets):
    """Apply the URL's filters; `facets` collects the FTS tokens of the ones applied."""
    who = data.get("who", "").strip()
    if who == "mine":
        images = images.filter(owner=user)
        params["who"] = who
        facets.append(search.facet("o", user.pk))
    elif who and who != "everyone":
        person = get_user_model().objects.filter(username=who).first()
        if person is None:
            messages.append(f"Nobody is called “{who[:100]}”; showing everyone's images.")
        else:
            images = images.filter(owner=person)
            params["who"] = who
            facets.append(search.facet("o", person.pk))

    model = data.get("model", "").strip()
    if model:
        if _MODEL.match(model):
            images = images.filter(model=model)
            params["model"] = model
            facets.append(search.facet("m", model))
        else:
            messages.append("That model name is not valid; showing every model.")

    kind = _choice(data, "kind", (*KINDS, "all"), messages)
    if kind in KINDS:
        images = images.filter(source__in=KINDS[kind])
        params["kind"] = kind
        facets.append(search.facet("s", KINDS[kind][0]))
    elif kind == "all":
        params["kind"] = kind
    else:
        # Uploads are inputs, not results: hidden unless asked for.
        images = images.exclude(source=Image.Source.UPLOAD)
        facets.append("-" + search.facet("s", Image.Source.UPLOAD))

    size = data.get("size", "").strip()
    if size:
        match = _SIZE.match(size)
        if match:
            images = images.filter(width=int(match[1]), height=int(match[2]))
            params["size"] = size
            facets.append(search.facet("w", f"{int(match[1])}x{int(match[2])}"))
        else:
            messages.append("Sizes look like 1024x1024; showing every size.")

    for name, column, values, key in (
        ("quality", "quality", QUALITIES, "q"),
        ("background", "background", BACKGROUNDS, "b"),
        ("provenance", "provenance_state", Image.Provenance.values, "p"),
    ):
        value = _choice(data, name, values, messages)
        if value:
            images = images.filter(**{column: value})
            params[name] = value
            facets.append(search.facet(key, value))

    fmt = _choice(data, "format", FORMATS, messages)
    if fmt:
        images = images.filter(content_type=FORMATS[fmt])
        params["format"] = fmt
        facets.append(search.facet("f", fmt))

    ai = _choice(data, "ai", ("yes", "no"), messages)
    if ai:
        images = images.filter(ai_generated=ai == "yes")
        params["ai"] = ai
        facets.append(search.facet("a", 1 if ai == "yes" else 0))

    start, end = _day(data, "from", messages), _day(data, "to", messages)
    if start:
        images = images.filter(created_at__gte=_midnight(start))
        params["from"] = start.isoformat()
    if end:
        images = images.filter(created_at__lt=_midnight(end + timedelta(days=1)))
        params["to"] = end.isoformat()

    if data.get("starred") in ("1", "on", "yes", "true"):
        images = images.filter(favourites__user=user)
        params["starred"] = "1"

    board = None
    board_id = data.get("board", "").strip()
    if board_id:
        pk = parse_id(board_id)
        board = Board.objects.filter(owner=user, pk=pk).first() if pk else None
        if board is None:
            messages.append("That board does not exist or is not yours; showing all images.")
        else:
            images = images.filter(boardimage__board=board)
            params["board"] = str(board.pk)
    return images, board


def _choice(data, name: str, allowed, messages: list[str]) -> str:
    value = data.get(name, "").strip()
    if not value:
        return ""
    if value in allowed:
        return value
    options = ", ".join(allowed)
    messages.append(f"{name.capitalize()} must be one of: {options}; that filter was not used.")
    return ""


def _day(data, name: str, messages: list[str]) -> date | None:
    value = data.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        messages.append(f"Dates look like 2026-11-26; the “{name}” date was not used.")
        return None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- newest first, keyset on (created_at, id)


def encode_cursor(created_at: datetime, pk: int) -> str:
    micros = int(created_at.timestamp() * 1_000_000)
    return signing.Signer(salt=CURSOR_SALT).sign(f"{micros}.{pk}")


def decode_cursor(token: str) -> tuple[datetime, int] | None:
    try:
        micros, pk = signing.Signer(salt=CURSOR_SALT).unsign(token).split(".")
        moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        return moment.replace(microsecond=int(micros) % 1_000_000), int(pk)
    except (signing.BadSignature, ValueError, TypeError, OverflowError, OSError):
        return None


STALE_CURSOR = "That page link is not valid (or is from another version); showing the first page."


def _after_cursor(images, token: str, messages: list[str]):
    if not token:
        return images
    position = decode_cursor(token[:200])
    if position is None:
        messages.append(STALE_CURSOR)
        return images
    return _after(images, *position)


def _after(images, moment: datetime, pk: int):
    # The first condition bounds the index range; the second breaks ties by id.
    return images.filter(created_at__lte=moment).filter(Q(created_at__lt=moment) | Q(pk__lt=pk))


def _newest_page(images, query, token: str, page_size: int, messages: list[str]) -> Page:
    images = _after_cursor(images, token, messages)
    if query and connections[images.db].vendor == "sqlite":
        return _fts5_newest(images, query, page_size)
    rows = list(
        images.search(query)
        .select_related("owner")
        .defer(*_HEAVY)
        .order_by("-created_at", "-id")[: page_size + 1]
    )
    return _page(rows, page_size)


def _fts5_newest(images, query, page_size: int) -> Page:
    """SQLite, newest first. Walk the newest-first index in growing windows and keep the
    rows FTS5 matches within each window's id range (a rowid range is a cheap seek into the
    index; a per-row FTS lookup costs ~0.3 ms). Common words fill a page from the first
    window. When the first window shows matches are sparse and there are few of them in
    all, fetch them all instead and let their ids drive the query."""
    newest = ("-created_at", "-id")
    if query.facets:
        # Filters narrow the FTS intersection, and walking a filtered index is slow when the
        # filters are selective: try the match set first.
        every = search.sqlite_match_ids(query, using=images.db)
        if every is not None:
            rows = images.filter(pk__in=every).select_related("owner").defer(*_HEAVY)
            return _page(list(rows.order_by(*newest)[: page_size + 1]), page_size)
    found: list[int] = []
    window, remaining, first = 1024, images, not query.facets
    while len(found) <= page_size:
        ids = list(remaining.order_by(*newest).values_list("pk", flat=True)[:window])
        if not ids:
            break
        matched = search.sqlite_match_ids_between(query, min(ids), max(ids), using=images.db)
        found.extend(pk for pk in ids if pk in matched)
        if len(found) > page_size or len(ids) < window:
            break
        last = Image.objects.using(images.db).values_list("created_at", flat=True).get(pk=ids[-1])
        remaining = _after(images, last, ids[-1])
        if first:
            first = False
            every = search.sqlite_match_ids(query, using=images.db)
            if every is not None:
                found.extend(
                    remaining.filter(pk__in=every)
                    .order_by(*newest)
                    .values_list("pk", flat=True)[: page_size + 1 - len(found)]
                )
                break
        window = min(window * 4, 65536)
    chosen = found[: page_size + 1]
    by_id = Image.objects.select_related("owner").defer(*_HEAVY).in_bulk(chosen)
    return _page([by_id[pk] for pk in chosen if pk in by_id], page_size)


def _page(rows: list[Image], page_size: int) -> Page:
    more = len(rows) > page_size
    rows = rows[:page_size]
    cursor = encode_cursor(rows[-1].created_at, rows[-1].pk) if more else None
    return Page(images=rows, params={}, next_cursor=cursor)


# --- relevance: the best RANKED_LIMIT matches, ranked by the engine


def _ranked_page(images, query, token: str, page_size: int, messages: list[str]) -> Page:
    start = 0
    if token:
        try:
            start = int(signing.Signer(salt=CURSOR_SALT + ".ranked").unsign(token[:200]))
        except (signing.BadSignature, ValueError):
            messages.append(STALE_CURSOR)
    ranked = search.ranked_ids(query, using=images.db, limit=RANKED_LIMIT)
    allowed = set(images.filter(pk__in=ranked).values_list("pk", flat=True))
    ordered = [pk for pk in ranked if pk in allowed]
    chosen = ordered[start : start + page_size]
    rows = Image.objects.select_related("owner").defer(*_HEAVY).in_bulk(chosen)
    more = start + page_size < len(ordered)
    cursor = (
        signing.Signer(salt=CURSOR_SALT + ".ranked").sign(str(start + page_size)) if more else None
    )
    if len(ranked) == RANKED_LIMIT and not more:
        messages.append(f"Relevance order shows the best {RANKED_LIMIT:,} matches.")
    return Page(images=[rows[pk] for pk in chosen if pk in rows], params={}, next_cursor=cursor)
