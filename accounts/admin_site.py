"""The Django admin, open only to a session that passed its second factor."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig

from accounts import session_keys as keys


class SecondFactorAdminSite(AdminSite):
    """The admin site, refusing any session that has not passed the second factor.

    SecondFactorMiddleware already sends such a session to the verification (or
    enrolment) page; this holds as well if the middleware were ever left out.
    """

    site_header = "CAISI Review Portal administration"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and bool(
            request.session.get(keys.SECOND_FACTOR_DEVICE)
        )


class PortalAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.SecondFactorAdminSite"
