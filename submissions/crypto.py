"""Encryption at rest of access credentials: MultiFernet over keys from the environment.

The first key of CREDENTIAL_ENCRYPTION_KEYS encrypts; every key decrypts, so
a new key can be put first and the rows re-encrypted at leisure with
`manage.py reencrypt_credentials`.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


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
