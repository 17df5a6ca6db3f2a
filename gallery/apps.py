from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GalleryConfig(AppConfig):
    name = "gallery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_repair_search_index, sender=self)


def _repair_search_index(sender, using, **kwargs) -> None:
    from django.db import connections

    from gallery.browse.search import repair_sqlite_triggers

    repair_sqlite_triggers(connections[using])
