"""A gallery tile and its star button, rendered in Python.

A page holds 48 tiles. As template markup each tile cost about thirty variable lookups and an
include (some 0.5 ms, most of the page's rendering time); as format_html calls they cost a
fraction of that. The markup is the same as it was in the template.
"""

from django import template
from django.contrib import messages
from django.middleware.csrf import get_token
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from gallery import units
from gallery.jobs import engine
from gallery.models import Image, Visibility
from gallery.views.trash import UNDO_KEY

register = template.Library()

# An upload is "pending" while the worker makes its thumbnails and reads its credentials.
_LABELS = {**dict(Image.Provenance.choices), Image.Provenance.PENDING: "Processing"}

_AI_MARK = mark_safe('<span class="cc-ai">AI</span>')
# Only the owner (and staff) see a private tile, so the lock tells them others do not.
_LOCK = mark_safe(
    '<span class="lock-badge" title="Private: only you can see it">'
    '<svg viewBox="0 0 16 16" width="11" height="11" aria-hidden="true" focusable="false">'
    '<path fill="currentColor" d="M4 7V5a4 4 0 0 1 8 0v2h1a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H3'
    'a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h1zm2 0h4V5a2 2 0 0 0-4 0v2z"/></svg>'
    '<span class="visually-hidden">Private</span></span>'
)
_TILE = (
    # The selection bar's box (gallery.html's form "selection"), then the link.
    '<input type="checkbox" class="tile-select" name="image" value="{pk}" form="selection" '
    'aria-label="Select image {pk}">'
    '<a class="tile-link" href="{detail}" data-id="{pk}" data-full="{original}" '
    'data-prompt="{prompt_300}" data-owner="{owner}">'
    '<img src="{small}" srcset="{small} 256w, {large} 512w" '
    'sizes="(max-width: 600px) 50vw, 256px" width="{width}" height="{height}" '
    'alt="{prompt_200}" loading="lazy" decoding="async">'
    '<span class="cc-badge" data-state="{state}" title="Content Credentials: {label}{ai_title}">'
    '<span class="cc-mark">CR</span>'
    '<span class="visually-hidden"> Content Credentials: {label}</span>{ai_mark}</span>{lock}</a>'
    '<figcaption class="caption">{prompt_120} · {owner}</figcaption>'
)


@register.simple_tag
def tile(image) -> str:
    """The selection box, link, thumbnail, Content Credentials badge and caption of one
    gallery tile (the view sets image.links and image.owner_name)."""
    links = image.links
    ai = image.ai_generated
    return format_html(
        _TILE,
        pk=image.pk,
        detail=links["detail"],
        original=links["original"],
        small=links["small"],
        large=links["large"],
        width=image.thumbnail_width,
        height=image.thumbnail_height,
        prompt_300=image.prompt[:300],
        prompt_200=image.prompt[:200],
        prompt_120=image.prompt[:120],
        owner=image.owner_name,
        state=image.provenance_state,
        label=_LABELS.get(image.provenance_state, image.provenance_state),
        ai_title=" · AI-generated" if ai else "",
        ai_mark=_AI_MARK if ai else "",
        lock=_LOCK if image.visibility == Visibility.PRIVATE else "",
    )


_STAR = (
    '<form class="star-form" action="{action}" method="post" hx-post="{action}" '
    'hx-swap="outerHTML">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    '<input type="hidden" name="next" value="{next}">'
    '<button type="submit" class="star" aria-pressed="{pressed}" aria-label="Star image {pk}" '
    'title="{title}">{mark}</button></form>'
)


@register.simple_tag(takes_context=True)
def star_button(context, image) -> str:
    """The star toggle of a tile (a form, so it works without JavaScript; htmx swaps it)."""
    request = context["request"]
    starred = getattr(image, "is_starred", False)
    return format_html(
        _STAR,
        action=image.links["star"],
        csrf=context.get("csrf_token") or get_token(request),
        next=context.get("next") or request.get_full_path(),
        pressed="true" if starred else "false",
        pk=image.pk,
        title="Unstar" if starred else "Star",
        mark="★" if starred else "☆",
    )


@register.simple_tag
def queue_position(job) -> int | None:
    """A queued job's place in line (1 = next). The engine decides the order, so the page asks
    it here rather than the model knowing about the engine."""
    return engine.queue_position(job)


@register.simple_tag(takes_context=True)
def pending_toasts(context) -> list[dict]:
    """What the page says after an action: the messages waiting, and the last delete's Undo
    (gallery.views.trash.offer_undo), each shown once."""
    request = context.get("request")
    if request is None:
        return []
    toasts = [{"text": str(m), "level": m.level_tag} for m in messages.get_messages(request)]
    session = getattr(request, "session", None)
    undo = session.pop(UNDO_KEY, None) if session is not None else None
    if undo:
        toasts.append({"text": undo["text"], "level": "success", "undo": undo})
    return toasts


@register.filter
def file_size(byte_count) -> str:
    """Every file size on every page: '84 KB', '3.2 MB' (gallery.units)."""
    return units.file_size(byte_count)


@register.filter
def size_label(size) -> str:
    """An API size for people: '1024x1536' as '1024×1536 px'."""
    return units.size_label(str(size or ""))


@register.simple_tag
def dimensions(width, height) -> str:
    """Pixel dimensions as W×H px."""
    return units.dimensions(width, height)
