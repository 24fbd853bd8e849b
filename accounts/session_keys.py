"""Names of the values the portal keeps in a session for sign-in hardening (not secrets)."""

# When the person signed in and when they were last seen (epoch seconds): the timeouts.
SIGNED_IN_AT = "security:signed_in_at"
LAST_SEEN = "security:last_seen"
# The device that verified this session's second factor, and whether one is owed at all.
SECOND_FACTOR_DEVICE = "security:second_factor_device"
SECOND_FACTOR_REQUIRED = "security:second_factor_required"
# Recovery codes waiting to be shown once, right after enrolment.
NEW_RECOVERY_CODES = "security:new_recovery_codes"
# Single sign-on: the provider this session signed in through, what its assertion
# proved (`acr`, `amr`), the ID token kept for the provider's sign-out, and an
# invitation token waiting for the person's first sign-in through a provider.
SSO_PROVIDER = "sso:provider"
SSO_ACR = "sso:acr"
SSO_AMR = "sso:amr"
SSO_ID_TOKEN = "sso:id_token"  # noqa: S105 - a session key, not a secret
SSO_INVITATION = "sso:invitation"
# Whether the person holds a security key (staff must, unless signed in through the staff provider).
SECURITY_KEY_ENROLLED = "security:security_key_enrolled"
