from django.conf import settings


def studio(request) -> dict:
    return {"using_standin": settings.USING_STANDIN}
