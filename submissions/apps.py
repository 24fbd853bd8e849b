from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    # Secrets kept under CREDENTIAL_ENCRYPTION_KEYS, re-encrypted by `reencrypt_credentials`.
    encrypted_fields = (("AccessGrant", "credentials_encrypted"),)
