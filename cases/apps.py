from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self):
        # Registers the outbox's drain task, which lives outside tasks.py.
        from . import outbox  # noqa: F401
