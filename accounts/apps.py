from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self):
        from accounts import (
            cache_signals,  # noqa: F401  (keeps the shared cache's generations current)
            signals,  # noqa: F401  (connects the sign-in and deactivation receivers)
        )
