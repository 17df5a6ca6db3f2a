from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import registry


@login_required
@require_GET
def estimate(request):
    """The expected cost of what the create form currently asks for (htmx partial)."""
    return render(request, "gallery/create.html#estimate", {"estimate": estimate_for(request.GET)})


def estimate_for(data) -> dict | None:
    model = registry.get(data.get("model", "")) or registry.default_model()
    try:
        n = min(max(int(data.get("n") or 1), 1), 10)
    except ValueError:
        n = 1
    size = data.get("size") or "auto"
    quality = data.get("quality") or "auto"
    try:
        partials = min(max(int(data.get("partial_images") or 0), 0), 3) if model.streaming else 0
    except ValueError:
        partials = 0
    usd = model.estimate(
        prompt=data.get("prompt", ""), size=size, quality=quality, n=n, partial_images=partials
    )
    return {"usd": usd, "n": n, "model": model, "partials": partials}
