"""Who may take the API's sensitive acts: the identity step-up, for programs.

A browser steps up to the verified identity level before a liaison submits an
intake, answers a finding or reports an incident (accounts/middleware.py). A
program cannot be sent to the provider, so its token acts for a person who has
proved that level at a sign-in through the company provider; until they have,
these acts are a 403 problem saying so. A service account is not a person and
never has: those three acts are for people.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import sso

VERIFIED_IDENTITY_REQUIRED = (
    "This act needs a verified identity: the token's owner must sign in to the portal "
    "with Login.gov once and verify their identity (IAL2) when asked; programs then act "
    "on it. Service accounts cannot take this act."
)


# Said in the schema of each operation this permission holds.
SCHEMA_NOTE = (
    " While the portal asks for Login.gov's identity step-up, a company person's token "
    "takes this act only once its owner has verified their identity (IAL2) at a sign-in "
    "through Login.gov; until then, and for a service account's token, it is a 403 "
    "problem saying so."
)
SENSITIVE_CASE_ACTIONS = sso.SENSITIVE_CASE_ACTIONS


class VerifiedIdentityForSensitiveActs(BasePermission):
    """Refuse a sensitive act (a view's `is_sensitive_act(request)`) without a verified identity."""

    message = VERIFIED_IDENTITY_REQUIRED

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or not view.is_sensitive_act(request):
            return True
        user = request.user
        if not sso.step_up_applies(user):
            return True
        if request.auth is None:  # the browser's own session: its step-up counts
            return sso.identity_verified(request)
        return not user.is_service_account and sso.has_verified_identity(user)
