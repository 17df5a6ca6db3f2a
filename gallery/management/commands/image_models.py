"""Print the image models the studio offers for new jobs, as the create form does."""

from django.conf import settings
from django.core.management.base import BaseCommand

from gallery.imagesapi import discovery, registry


class Command(BaseCommand):
    help = (
        "Print the models offered for new jobs (what the API key can use, from GET /models, "
        "or the configuration where the API does not list models). --refresh asks the API "
        "first, as the worker does on start and hourly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--refresh", action="store_true", help="ask GET /models now")

    def handle(self, *args, **options):
        if options["refresh"]:
            answer = discovery.refresh()
            if answer.error:
                self.stderr.write(f"GET /models failed: {answer.error}")
        listing = discovery.listing()
        source = "GET /models" if listing is not None else "configuration (no listing)"
        offers = discovery.offers()
        default = discovery.default_offer(offers)
        self.stdout.write(f"Models offered by {settings.OPENAI_BASE_URL} ({source}):")
        rows = [
            (
                ("* " if default and offer.id == default.id else "  ") + offer.id,
                _sizes(offer.model),
                ", ".join(offer.model.qualities),
                ", ".join(offer.model.complexities) or "-",
                ", ".join(offer.model.output_formats),
                ", ".join(offer.model.backgrounds),
                _edits(offer.model),
                str(offer.shutdown_date or "-"),
            )
            for offer in offers
        ]
        header = (
            "  model",
            "sizes",
            "qualities",
            "complexity",
            "formats",
            "backgrounds",
            "edits",
            "shutdown",
        )
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
        self.stdout.write("* the default for new jobs")
        unoffered = [m.id for m in registry.all_models() if not discovery.offer_for(m.id, offers)]
        if unoffered:
            self.stdout.write(f"Not offered (gallery only): {', '.join(unoffered)}")


def _sizes(model: registry.ImageModel) -> str:
    if model.free_sizes:
        return f"auto or WxH (x16, <= {registry.MAX_EDGE} px, <= {registry.MAX_RATIO}:1)"
    return ", ".join(model.sizes)


def _edits(model: registry.ImageModel) -> str:
    parts = [f"<= {model.max_input_images} images", "mask"]
    if model.markup:
        parts.append("markup")
    parts.append(f"fidelity {model.fixed_input_fidelity or 'low/high'}")
    return ", ".join(parts)
