"""Browsing the gallery: filters read from the URL, search, and keyset pagination.

Every view of the gallery is a URL (`?q=fox&who=mine&model=gpt-image-1&cursor=...`) so any
view can be shared. Newest first means most recently stored, which is the id order; pages
are cut with a signed keyset cursor on the id, never OFFSET, so page 1,000 costs what page 1
costs and rows inserted meanwhile neither repeat nor skip anything. A value that cannot be
used (unknown filter value, forged or stale cursor) is dropped with a message saying so; it
never fails the page.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connections
from django.utils import timezone

from gallery.access import parse_id, visible_images
from gallery.browse import search, semantic
from gallery.models import Board, BoardImage, Favourite, Image, Visibility

PAGE_SIZE = 48
WINDOWS = (1024, 4096)  # PostgreSQL search: the newest ids checked row by row first
RANKED_LIMIT = 1000
COUNT_LIMIT = 1000  # a search's result count stops here ("1,000+ images")
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


@dataclass(slots=True)
class Tile:
    """What a gallery tile shows, made from one row: a page holds 48, and a model instance
    each (with its field machinery) costs most of a page's Python."""

    pk: int
    prompt: str
    thumbnail_width: int
    thumbnail_height: int
    provenance_state: str
    ai_generated: bool
    owner_name: str
    visibility: str
    links: dict[str, str] = field(default_factory=dict)  # set by the view
    is_starred: bool = False  # set by the view


_TILE_COLUMNS = (
    "pk",
    "prompt",
    "thumbnail_width",
    "thumbnail_height",
    "provenance_state",
    "ai_generated",
    "owner__username",
    "visibility",
)


def _tiles(images) -> list[Tile]:
    return [Tile(*row) for row in images.values_list(*_TILE_COLUMNS)]


def _tiles_by_id(images, ids: list[int]) -> list[Tile]:
    """The tiles of these ids, in this order (an id no longer there is left out)."""
    by_id = {tile.pk: tile for tile in _tiles(images.filter(pk__in=ids))}
    return [by_id[pk] for pk in ids if pk in by_id]


class _Clean:
    """URL values with control characters removed (PostgreSQL refuses NUL in a string)."""

    def __init__(self, data):
        self.data = data

    def get(self, name: str, default: str = "") -> str:
        value = self.data.get(name, default)
        return "".join(ch for ch in str(value) if ch.isprintable() or ch == " ")


@dataclass
class Page:
    images: list[Tile]
    params: dict[str, str]  # the filters that were applied, for links
    next_cursor: str | None = None
    messages: list[str] = field(default_factory=list)
    board: Board | None = None
    count: int | None = None  # a search's matches, up to COUNT_LIMIT (None: not counted)
    count_more: bool = False  # there are more than `count`

    @property
    def count_label(self) -> str:
        if self.count is None:
            return ""
        plural = "" if self.count == 1 and not self.count_more else "s"
        return f"{self.count:,}{'+' if self.count_more else ''} image{plural}"


def browse(user, data, *, page_size: int = PAGE_SIZE) -> Page:
    """One page of the gallery for `user`, as asked for by the query dict `data`."""
    data = _Clean(data)
    messages: list[str] = []
    params: dict[str, str] = {}
    images = visible_images(user)
    facets: list[str | None] = []
    images, board = _filter(images, user, data, params, messages, facets)
    query = search.parse(data.get("q", ""))
    query.facets = [f for f in facets if f]
    if not user.is_staff:
        # What visible_images() lets through, as tokens: in a studio where most images are
        # private, FTS5 would otherwise offer mostly matches SQL then refuses.
        tokens = [search.facet("v", Visibility.SHARED), search.facet("o", user.pk)]
        query.any_facets = [t for t in tokens if t]
    messages.extend(query.messages)
    if query:
        params["q"] = str(query)
    order = _choice(data, "order", ORDERS, messages)
    if data.get("similar") in ("1", "on") and query:
        params["similar"] = "1"
        ranked = semantic.ranked_ids(data.get("q", "")[: search.MAX_LENGTH], images, user)
        page = _ranked_page(images, ranked, data.get("cursor", ""), page_size, messages)
    elif order == "relevance" and query:
        params["order"] = order
        ranked = search.ranked_ids(query, using=images.db, limit=RANKED_LIMIT)
        page = _ranked_page(images, ranked, data.get("cursor", ""), page_size, messages)
        if len(ranked) == RANKED_LIMIT and page.next_cursor is None:
            messages.append(f"Relevance order shows the best {RANKED_LIMIT:,} matches.")
    else:
        members = _members(user, board, params)
        before = _before(data.get("cursor", ""), messages)
        page = _newest_page(images, query, members, before, page_size)
    page.params, page.messages, page.board = params, messages, board
    if query and page.count is None and not data.get("cursor"):
        page.count, page.count_more = _count(images, query)
    return page


def _count(images, query) -> tuple[int, bool]:
    """How many images match a search, counting no further than COUNT_LIMIT, and whether
    there are more. Never a COUNT(*) of every match: at a million images a common word has
    hundreds of thousands, read on every search. On SQLite, FTS5 offers the newest matches
    (with the filters and visibility that are facets) and stops at the limit; SQL confirms
    them. If SQL refuses some of a full batch, what is left is a lower bound (`more`)."""
    if connections[images.db].vendor == "sqlite":
        ids = search.sqlite_newest_ids(query, before=None, limit=COUNT_LIMIT + 1, using=images.db)
        found = images.filter(pk__in=ids).count()
        more = len(ids) > COUNT_LIMIT
    else:
        found = images.search(query).order_by()[: COUNT_LIMIT + 1].count()
        more = found > COUNT_LIMIT
    return min(found, COUNT_LIMIT), more


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

    if _choice(data, "via", ("api",), messages):
        images = images.filter(api_token__isnull=False)
        params["via"] = "api"

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


EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def _day(data, name: str, messages: list[str]) -> date | None:
    value = data.get(name, "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        messages.append(f"Dates look like 2026-11-26; the “{name}” date was not used.")
        return None
    # The filters compare with midnight of the day after, in the server's time zone: the first
    # and last days of the calendar would overflow. No image is that old or that new.
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        messages.append(
            f"Dates run from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}; "
            f"the “{name}” date was not used."
        )
        return None
    return day


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- newest first, keyset on the id (ids are handed out in the order images are stored)


def encode_cursor(pk: int) -> str:
    return signing.Signer(salt=CURSOR_SALT).sign(str(pk))


def decode_cursor(token: str) -> int | None:
    try:
        return parse_id(signing.Signer(salt=CURSOR_SALT).unsign(token))
    except signing.BadSignature:
        return None


STALE_CURSOR = "That page link is not valid (or is from another version); showing the first page."


def _before(token: str, messages: list[str]) -> int | None:
    """The id a page starts below, from a cursor (None: the first page)."""
    if not token:
        return None
    pk = decode_cursor(token[:200])
    if pk is None:
        messages.append(STALE_CURSOR)
    return pk


def _members(user, board, params):
    """The rows naming a board's images or the person's stars, if the view is limited to
    one of them (few images, and a unique index on (board, image) or (user, image))."""
    if board is not None:
        return BoardImage.objects.filter(board=board)
    if "starred" in params:
        return Favourite.objects.filter(user=user)
    return None


def _newest_page(images, query, members, before: int | None, page_size: int) -> Page:
    """Newest first. Without a search, board or stars, one query down the primary key.
    Otherwise the ids come first, found in the way that stays small at a million images:
    candidates from the narrowest index (a board's or the stars' rows, or SQLite's FTS5)
    that the full query confirms, or PostgreSQL's three steps; then one query for the tiles."""
    if members is None and not query:
        if before is not None:
            images = images.filter(pk__lt=before)
        return _page(_tiles(images.order_by("-id")[: page_size + 1]), page_size)
    if members is not None:
        ids = _walk(partial(_member_ids, members), _confirmer(images, query), before, page_size)
    elif connections[images.db].vendor == "sqlite":
        # Who may see an image is left to SQL at first (as an FTS5 facet it costs a rare word
        # ~2 ms); if SQL refuses most of a batch (a studio of mostly private images), FTS5
        # takes the visibility facet too.
        broad = replace(query, any_facets=[])
        newest = partial(search.sqlite_newest_ids, broad, using=images.db)
        narrower = partial(search.sqlite_newest_ids, query, using=images.db)
        ids = _walk(newest, _confirmer(images, None), before, page_size, narrower=narrower)
    else:
        ids = _postgres_newest(images, query, before, page_size + 1)
    return _page(_tiles_by_id(Image.objects.using(images.db), ids), page_size)


def _postgres_newest(images, query, before: int | None, wanted: int) -> list[int]:
    """PostgreSQL, newest first: the ids of up to `wanted` matches below `before`, in up to
    three steps that each stay small whatever the word (the planner, left alone, reads every
    match of a common word from the index, or walks the whole table for a rare one):
    1. the newest ids, checked row by row: 1,024, then 4,096 more if the first were dense
       enough to fill the page that way (a common word ends here);
    2. every match in the newest two id buckets, through the bucketed index (short lists);
    3. what is older, through the plain index (by now the words are rare)."""
    top = before
    if top is None:
        newest = Image.objects.using(images.db).order_by("-id").values_list("id", flat=True)
        top = (newest.first() or 0) + 1
    ids: list[int] = []
    floor = top
    for size in WINDOWS:
        lower = max(floor - size, 0)
        window = search.apply_row_by_row(images.filter(pk__lt=floor, pk__gte=lower), query)
        ids += window.order_by("-id").values_list("pk", flat=True)[: wanted - len(ids)]
        floor = lower
        # The next window is four times larger: it pays if this one found a quarter page.
        if len(ids) >= wanted or len(ids) * 4 < wanted:
            break
    bucket = (top - 1) >> search.BUCKET_BITS
    older = max(bucket - 1, 0) << search.BUCKET_BITS
    if len(ids) < wanted and floor > older:
        # No id range in SQL: the planner would intersect it with the index as a bitmap.
        buckets = [b for b in (bucket, bucket - 1) if b >= 0]
        matches = search.apply_bucketed(images, query, buckets).order_by()
        recent = [pk for pk in matches.values_list("pk", flat=True) if older <= pk < floor]
        ids += sorted(recent, reverse=True)[: wanted - len(ids)]
        floor = older
    if len(ids) < wanted and floor > 0:
        rest = images.filter(pk__lt=floor).search(query).order_by("-id")
        ids += rest.values_list("pk", flat=True)[: wanted - len(ids)]
    return ids


def _walk(candidates, confirm, before: int | None, page_size: int, narrower=None) -> list[int]:
    """Up to page_size + 1 ids, newest first: `candidates(before, limit)` offers ids below
    `before`, `confirm(ids)` says which of them belong. Batches grow while few are kept; if
    most of a batch is refused and `narrower` candidates are given, they take over."""
    wanted = page_size + 1
    found: list[int] = []
    batch = wanted + wanted // 2
    while len(found) < wanted:
        ids = candidates(before=before, limit=batch)
        if not ids:
            break
        kept = confirm(ids)
        if narrower is not None and len(kept) * 2 < len(ids):
            candidates, narrower = narrower, None
            continue
        found.extend(pk for pk in ids if pk in kept)
        if len(ids) < batch:
            break
        before, batch = ids[-1], min(batch * 4, 20_000)
    return found[:wanted]


def _member_ids(members, *, before: int | None, limit: int) -> list[int]:
    if before is not None:
        members = members.filter(image_id__lt=before)
    return list(members.order_by("-image_id").values_list("image_id", flat=True)[:limit])


def _confirmer(images, query):
    """confirm(ids) for _walk: the ids that pass every filter and, if given, the search."""
    sqlite = connections[images.db].vendor == "sqlite"
    if query and not sqlite:
        images = images.search(query)

    def confirm(ids: list[int]) -> set[int]:
        kept = set(images.filter(pk__in=ids).values_list("pk", flat=True))
        if query and sqlite:
            # One FTS5 read of the ids' range (a rowid range is a cheap seek).
            kept &= search.sqlite_match_ids_between(query, ids[-1], ids[0], using=images.db)
        return kept

    return confirm


def _page(rows: list[Tile], page_size: int) -> Page:
    more = len(rows) > page_size
    rows = rows[:page_size]
    cursor = encode_cursor(rows[-1].pk) if more else None
    return Page(images=rows, params={}, next_cursor=cursor)


# --- relevance: the best RANKED_LIMIT matches, ranked by the engine (or by meaning)


def _ranked_page(images, ranked: list[int], token: str, page_size: int, messages) -> Page:
    """A page of `ranked` (ids, best first) that `images` holds, cut by a signed offset."""
    start = 0
    if token:
        try:
            start = int(signing.Signer(salt=CURSOR_SALT + ".ranked").unsign(token[:200]))
        except (signing.BadSignature, ValueError):
            messages.append(STALE_CURSOR)
    allowed = set(images.filter(pk__in=ranked).values_list("pk", flat=True))
    ordered = [pk for pk in ranked if pk in allowed]
    chosen = ordered[start : start + page_size]
    rows = _tiles_by_id(Image.objects.using(images.db), chosen)
    more = start + page_size < len(ordered)
    cursor = (
        signing.Signer(salt=CURSOR_SALT + ".ranked").sign(str(start + page_size)) if more else None
    )
    # The ranked matches are at hand: they are the count (up to RANKED_LIMIT).
    shown = min(len(ordered), COUNT_LIMIT)
    more_matches = len(ranked) == RANKED_LIMIT or len(ordered) > COUNT_LIMIT
    return Page(images=rows, params={}, next_cursor=cursor, count=shown, count_more=more_matches)
