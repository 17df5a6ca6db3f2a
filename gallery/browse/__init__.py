"""Browsing the gallery: `page` turns a URL into a page of tiles, `search` is the full-text
grammar and its two engines, `boards` holds stars and boards, `lineage` which image came from
which. Callers use the names below."""

from gallery.browse.page import (  # noqa: F401 (the room's public names)
    BACKGROUNDS,
    CURSOR_SALT,
    FORMATS,
    KINDS,
    ORDERS,
    PAGE_SIZE,
    QUALITIES,
    RANKED_LIMIT,
    STALE_CURSOR,
    WINDOWS,
    Page,
    Tile,
    browse,
    decode_cursor,
    encode_cursor,
)
