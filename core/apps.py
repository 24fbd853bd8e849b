from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        # The <case:…> path converter, registered once for every app's URLconf.
        # Registers the outbox's drain task, which lives outside a tasks.py.
        from core import (
            converters,  # noqa: F401
            outbox,  # noqa: F401
        )
