"""Encryption at rest of secrets (credentials, webhook secrets): MultiFernet over env keys.

The first key of CREDENTIAL_ENCRYPTION_KEYS encrypts; every key decrypts, so
a new key can be put first and the rows re-encrypted at leisure with
`manage.py reencrypt_credentials`.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction


class CredentialsUnreadable(Exception):
    """No configured key decrypts these credentials."""


def _keys() -> list[bytes]:
    keys = [key.encode() for key in settings.CREDENTIAL_ENCRYPTION_KEYS]
    if not keys:
        raise ImproperlyConfigured("CREDENTIAL_ENCRYPTION_KEYS must be set when DEBUG is off.")
    return keys


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError as error:
        raise ImproperlyConfigured(f"A credential key is not a valid Fernet key: {error}") from None


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable("No configured key decrypts these credentials.") from None


def rotate(token: str) -> str:
    """Return the token re-encrypted under the newest key."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable("No configured key decrypts these credentials.") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()


def encrypted_fields() -> list[tuple[type, str]]:
    """Return every (model, field) holding a secret under these keys.

    Each app names its own in its AppConfig's `encrypted_fields`, so this layer
    needs to import none of them.
    """
    found = []
    for config in apps.get_app_configs():
        for model_name, field in getattr(config, "encrypted_fields", ()):
            found.append((config.get_model(model_name), field))
    return found


def reencrypt_all() -> int:
    """Re-encrypt every stored secret under the newest key; return how many rows changed."""
    count = 0
    for model, field in encrypted_fields():
        for pk in model.objects.exclude(**{field: ""}).values_list("pk", flat=True):
            with transaction.atomic():
                row = model.objects.select_for_update().get(pk=pk)
                rotated = rotate(getattr(row, field))
                if rotated != getattr(row, field):
                    setattr(row, field, rotated)
                    row.save(update_fields=[field])
                    count += 1
    return count
