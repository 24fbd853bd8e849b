from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organizations"

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in and deactivation receivers)
