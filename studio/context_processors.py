from django.conf import settings


def studio(request) -> dict:
    context: dict[str, object] = {"using_standin": settings.USING_STANDIN}
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        # Staff see which offered models shut down within 30 days (one small query).
        from gallery.imagesapi import discovery

        context["models_shutting_down"] = discovery.shutting_down()
    return context
