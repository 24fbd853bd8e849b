from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases"

    def ready(self):
        from cases import signals  # noqa: F401  (keeps the shared cache's case generations current)
