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
from accounts import mfa_views, webauthn  # noqa: E402

urlpatterns += [
    path("accounts/two-step/", mfa_views.mfa_verify, name="mfa_verify"),
    path("accounts/two-step/set-up/", mfa_views.mfa_enrol, name="mfa_enrol"),
    path(
        "accounts/two-step/recovery-codes/",
        mfa_views.mfa_recovery_codes,
        name="mfa_recovery_codes",
    ),
    path("me/security/", mfa_views.security_settings, name="security"),
    path("accounts/two-step/security-key/", webauthn.security_key, name="security_key"),
    path(
        "me/security/recovery-codes/",
        mfa_views.recovery_codes_renew,
        name="recovery_codes_renew",
    ),
]

# Single sign-on through the OpenID providers (accounts/sso.py).
from accounts import sso  # noqa: E402

urlpatterns += [
    path(
        "accounts/sso/company/",
        sso.ProviderStartView.as_view(provider_name="company"),
        name="sso_company_start",
    ),
    path(
        "accounts/sso/company/callback/",
        sso.ProviderCallbackView.as_view(provider_name="company"),
        name="sso_company_callback",
    ),
    path(
        "accounts/sso/company/verify/",
        sso.ProviderStartView.as_view(provider_name="company", step_up=True),
        name="sso_step_up",
    ),
    path(
        "accounts/sso/staff/",
        sso.ProviderStartView.as_view(provider_name="staff"),
        name="sso_staff_start",
    ),
    path(
        "accounts/sso/staff/callback/",
        sso.ProviderCallbackView.as_view(provider_name="staff"),
        name="sso_staff_callback",
    ),
]
