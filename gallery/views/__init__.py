"""Pages and htmx partials, one module per resource. Views stay thin: a form validates, a
service acts, a template shows."""


def form_status(request) -> int:
    """htmx swaps only 200 responses; a plain form post gets the honest 400 with the same page."""
    return 200 if request.htmx else 400
