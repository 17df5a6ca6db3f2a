from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Benchmarks, chaos runs and the gallery seeder: tools for developers, installed only
    when STUDIO_DEV_TOOLS=true and left out of the container image."""

    name = "devtools"
    verbose_name = "Developer tools"
