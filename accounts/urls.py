from django.urls import path

app_name = "accounts"
urlpatterns = []

# Settings for programs: personal API tokens.
from accounts import settings_views  # noqa: E402

urlpatterns += [
    path("me/api-tokens/", settings_views.api_tokens, name="api_tokens"),
    path(
        "me/api-tokens/<int:pk>/revoke/", settings_views.api_token_revoke, name="api_token_revoke"
    ),
]

# Two-step verification.
from accounts import mfa_views  # noqa: E402

urlpatterns += [
    path("accounts/two-step/", mfa_views.mfa_verify, name="mfa_verify"),
    path("accounts/two-step/set-up/", mfa_views.mfa_enrol, name="mfa_enrol"),
    path(
        "accounts/two-step/recovery-codes/",
        mfa_views.mfa_recovery_codes,
        name="mfa_recovery_codes",
    ),
    path("me/security/", mfa_views.security_settings, name="security"),
    path(
        "me/security/recovery-codes/",
        mfa_views.recovery_codes_renew,
        name="recovery_codes_renew",
    ),
]

# The idle-timeout warning's "Stay signed in".
from accounts import session_views  # noqa: E402

urlpatterns += [
    path("accounts/session/stay/", session_views.stay_signed_in, name="stay_signed_in"),
]
