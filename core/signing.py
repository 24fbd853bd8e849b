"""The portal's signing identity: the key and certificate that sign statements and records.

Statement PDFs are signed with it through pyhanko (clearance/pdf.py); the
timeline's checkpoints and exported records are signed here with a plain
detached signature that anyone can check with the certificate and
`cryptography` (or `openssl dgst -sha256 -verify`).
"""

from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SigningIdentityMissing(ImproperlyConfigured):
    """The key or certificate that signs statements is not where the settings say."""


def identity_paths() -> tuple[Path, Path]:
    """Return the key's and the certificate's paths, refusing if either is missing."""
    key, cert = Path(settings.CLEARANCE_SIGNING_KEY), Path(settings.CLEARANCE_SIGNING_CERT)
    for path in (key, cert):
        if not path.is_file():
            raise SigningIdentityMissing(
                f"No signing identity at {path}: set CLEARANCE_SIGNING_KEY and "
                "CLEARANCE_SIGNING_CERT, or run `python manage.py create_signing_identity`."
            )
    return key, cert


def certificate_pem() -> bytes:
    """Return the portal's certificate, PEM-encoded."""
    return identity_paths()[1].read_bytes()


def certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(certificate_pem())


def certificate_sha256() -> str:
    """Return the SHA-256 fingerprint of the portal's certificate, in hex."""
    return certificate().fingerprint(hashes.SHA256()).hex()


def _private_key():
    key_path, cert_path = identity_paths()
    passphrase = settings.CLEARANCE_SIGNING_PASSPHRASE
    try:
        return serialization.load_pem_private_key(
            key_path.read_bytes(), password=passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError) as error:
        raise SigningIdentityMissing(
            f"The signing key {key_path} cannot be read: {error}"
        ) from None


def sign(data: bytes) -> bytes:
    """Return a detached signature of the data: RSA PKCS#1 v1.5, ECDSA or Ed25519 over SHA-256."""
    key = _private_key()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise SigningIdentityMissing(f"The signing key is of a kind this portal cannot use: {key!r}")


def verify(data: bytes, signature: bytes, cert: x509.Certificate | None = None) -> bool:
    """Whether the signature over the data was made with the certificate's key (the portal's)."""
    public_key = (cert or certificate()).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True
