"""Which image models the API key can use: the worker asks GET /models on start and then
hourly and keeps the answer (ids and shutdown dates) in the database, where every web process
reads it. The form offers only those models; a gateway that does not list models leaves the
studio on its configuration (registry.offered explains the fallback).

Reading never calls the API: only the worker does, so a page never waits on it.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from gallery.imagesapi import client, registry

log = logging.getLogger(__name__)

# Staff are warned about a model this many days before it shuts down.
WARN_DAYS = 30


@dataclass(frozen=True)
class Answer:
    """What GET /models said: the image models listed (None: the API does not list models),
    or why it could not be asked (`error`; what was known before then still holds)."""

    listed: list[dict] | None
    error: str = ""


def ask() -> Answer:
    """Ask the API which models the key can use. Holds no database connection."""
    try:
        return Answer(client.list_models())
    except client.APIError as error:
        log.warning("could not list the API's models: %s", error.message)
        return Answer(None, error.message)


def keep(answer: Answer) -> None:
    """Keep an answer for the current base URL; a failed ask keeps the previous listing."""
    from gallery.models import ModelListing

    base_url = settings.OPENAI_BASE_URL
    now = timezone.now()
    if answer.error:
        ModelListing.objects.update_or_create(
            base_url=base_url,
            defaults={"error": answer.error, "checked_at": now},
            create_defaults={"listed": None, "error": answer.error, "checked_at": now},
        )
        return
    ModelListing.objects.update_or_create(
        base_url=base_url, defaults={"listed": answer.listed, "error": "", "checked_at": now}
    )
    if answer.listed is None:
        log.info("%s does not list models; offering the configured ones", base_url)
    else:
        log.info("%s lists image models: %s", base_url, _ids(answer.listed))


def refresh() -> Answer:
    """Ask and keep (the worker does this on start and hourly)."""
    answer = ask()
    keep(answer)
    return answer


def listing() -> list[dict] | None:
    """The image models the API last listed for the current base URL (None: not known)."""
    from gallery.models import ModelListing

    row = ModelListing.objects.filter(base_url=settings.OPENAI_BASE_URL).first()
    return row.listed if row else None


def offers() -> list[registry.Offer]:
    """The models a person may choose for a new job, newest first."""
    return registry.offered(listing())


def offer_for(model_id: str, offers_now: list[registry.Offer] | None = None):
    """The offer for `model_id` (an id or a dated snapshot of an offered model), or None."""
    offers_now = offers() if offers_now is None else offers_now
    model = registry.get(model_id)
    for offer in offers_now:
        if offer.id == model_id or (model is not None and offer.model.id == model.id):
            return offer
    return None


def default_offer(offers_now: list[registry.Offer] | None = None) -> registry.Offer | None:
    """STUDIO_DEFAULT_MODEL when it is offered, else the newest offered model."""
    offers_now = offers() if offers_now is None else offers_now
    chosen = settings.STUDIO_DEFAULT_MODEL
    return (chosen and offer_for(chosen, offers_now)) or registry.newest(offers_now)


def shutting_down(days: int = WARN_DAYS) -> list[registry.Offer]:
    """Offered models whose shutdown date is within `days` days (for the staff banner)."""
    today = timezone.localdate()
    horizon = today + timedelta(days=days)
    return [o for o in offers() if o.shutdown_date and today <= o.shutdown_date <= horizon]


def unavailable_reason(model_id: str) -> str | None:
    """Why a new job cannot use `model_id` (None when it can)."""
    if offer_for(model_id) is not None:
        return None
    model = registry.get(model_id)
    if model is None:
        return f"{model_id} is not a configured model."
    replacement = registry.replacement_for(model_id)
    instead = f" Use {replacement.label} instead." if replacement else ""
    if model.is_retired():
        return f"{model.label} was shut down on {model.shutdown_date:%Y-%m-%d}.{instead}"
    return f"{model.label} is not available with this API key.{instead}"


def _ids(listed: list[dict]) -> str:
    return ", ".join(entry["id"] for entry in listed) or "none"
