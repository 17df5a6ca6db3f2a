"""The Content Credentials panel as an inclusion tag, so the image page (whose view belongs to
the gallery) and the Verify page show the same panel from the same context.

It only formats a stored summary (gallery.provenance's summary dict): nothing here reads C2PA.
"""

from datetime import UTC, datetime

from django import template
from django.urls import reverse
from django.utils.html import format_html

from gallery import provenance

register = template.Library()

ACTION_LABELS = {
    "c2pa.created": "Created",
    "c2pa.opened": "Opened",
    "c2pa.placed": "Placed",
    "c2pa.edited": "Edited",
    "c2pa.converted": "Converted",
    "c2pa.cropped": "Cropped",
    "c2pa.resized": "Resized",
    "c2pa.color_adjustments": "Colour adjustments",
    "c2pa.filtered": "Filtered",
    "c2pa.drawing": "Drawing",
    "c2pa.published": "Published",
    "c2pa.watermarked": "Watermarked",
    "c2pa.removed": "Removed",
    "c2pa.transcoded": "Transcoded",
    "c2pa.repackaged": "Repackaged",
}

# Plain words for the IPTC digital source types people meet most.
SOURCE_TYPE_LABELS = {
    "trainedAlgorithmicMedia": "generative AI",
    "compositeWithTrainedAlgorithmicMedia": "edited with generative AI",
    "algorithmicMedia": "made by an algorithm (not generative AI)",
    "digitalCapture": "camera capture",
    "compositeSynthetic": "composite with synthetic elements",
    "composite": "composite",
    "digitalCreation": "made with digital tools",
    "minorHumanEdits": "minor human edits",
}

RELATIONSHIP_LABELS = {
    "parentOf": "made from",
    "componentOf": "component",
    "inputTo": "input to",
}


def model_mismatch(model: str | None, software_agents: list[str]) -> bool:
    """True when the manifest names software agents and none of them is the requested model.

    Agents are "name" or "name version" (claim v2), so "gpt-image-1 1.0" matches gpt-image-1.
    No agents at all is not a mismatch: there is nothing to compare.
    """
    if not model or not software_agents:
        return False
    wanted = model.strip().casefold()
    return not any(
        agent.casefold() == wanted or agent.casefold().startswith(wanted + " ")
        for agent in software_agents
    )


@register.inclusion_tag("gallery/provenance_panel.html")
def provenance_panel(image=None, summary=None, manifest_json=None, thumbnails=None):
    """`{% provenance_panel image %}` for a stored image, or
    `{% provenance_panel summary=... manifest_json=... thumbnails=... %}` for a file being
    verified (thumbnails: ingredient path "0.1" -> URL)."""
    if image is not None:
        summary = image.provenance
        raw_url = reverse("gallery:image-manifest", args=[image.pk])
        has_manifest = bool(image.manifest_json)
        model = image.model
    else:
        raw_url = None
        has_manifest = bool(manifest_json)
        model = None
    thumbnails = thumbnails or {}
    ingredients = []
    for ingredient in provenance.shown_ingredients(summary or {}):
        key = provenance.ingredient_key(ingredient["path"])
        if image is not None and ingredient["thumbnail"]:
            url = reverse("gallery:image-ingredient-thumbnail", args=[image.pk, key])
        else:
            url = thumbnails.get(key)
        ingredients.append({**ingredient, "key": key, "thumbnail_url": url})
    agents = (summary or {}).get("software_agents") or []
    return {
        "summary": summary,
        "state": summary["state"] if summary else "pending",
        "ingredients": ingredients,
        "ingredients_hidden": len((summary or {}).get("ingredients") or []) - len(ingredients),
        "failure_count": len((summary or {}).get("failures") or [])
        + len((summary or {}).get("ingredient_failures") or []),
        "model": model,
        "mismatch": model_mismatch(model, agents),
        "software_agents": agents,
        "raw_url": raw_url,
        "has_manifest": has_manifest,
        "manifest_json": manifest_json,
    }


@register.simple_tag
def cc_time(value):
    """A recorded time as <time> in UTC, or the recorded text when it does not parse."""
    moment = isodate(value)
    if not isinstance(moment, datetime):
        return value or "–"
    text = moment.strftime("%-d %b %Y, %H:%M") + (" UTC" if moment.tzinfo else "")
    return format_html('<time datetime="{}">{}</time>', value, text)


@register.filter
def isodate(value):
    """An ISO 8601 text (as C2PA records times) as a datetime, or the text when it is not."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return value
    # Shown as UTC (the template says so); a naive time is left as recorded.
    return moment.astimezone(UTC) if moment.tzinfo else moment


@register.filter
def action_label(code):
    return ACTION_LABELS.get(code, code)


@register.filter
def source_type_label(short_name):
    return SOURCE_TYPE_LABELS.get(short_name, short_name)


@register.filter
def relationship_label(value):
    return RELATIONSHIP_LABELS.get(value, value)
