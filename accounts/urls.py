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
    path("me/security/keys/", webauthn.security_keys, name="security_keys"),
    path(
        "me/security/keys/<int:pk>/remove/",
        webauthn.security_key_remove,
        name="security_key_remove",
    ),
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

# Companies join and manage their own people.
from accounts import organization_views as org  # noqa: E402

urlpatterns += [
    path("request-access/", org.request_access, name="request_access"),
    path("request-access/sent/", org.request_access_sent, name="request_access_sent"),
    path("invitations/<str:token>/", org.invitation_accept, name="invitation_accept"),
    path("desk/access-requests/", org.access_requests, name="access_requests"),
    path(
        "desk/access-requests/<int:pk>/decide/",
        org.access_request_decide,
        name="access_request_decide",
    ),
    path("organization/", org.organization_people, name="organization_people"),
    path("organization/invite/", org.organization_invite, name="organization_invite"),
    path(
        "organization/invitations/<int:pk>/withdraw/",
        org.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("organization/people/<int:pk>/remove/", org.person_remove, name="person_remove"),
    path(
        "organization/people/<int:pk>/administrator/",
        org.person_administrator,
        name="person_administrator",
    ),
    path(
        "organization/people/<int:pk>/point-of-contact/",
        org.person_point_of_contact,
        name="person_point_of_contact",
    ),
    path(
        "organization/service-accounts/",
        org.service_account_create,
        name="service_account_create",
    ),
    path(
        "organization/service-accounts/<int:pk>/tokens/",
        org.service_token_create,
        name="service_token_create",
    ),
    path(
        "organization/tokens/<int:pk>/revoke/",
        org.service_token_revoke,
        name="service_token_revoke",
    ),
    path("organizations/<slug:slug>/audit/", org.organization_audit, name="organization_audit"),
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
