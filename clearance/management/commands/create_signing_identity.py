"""Make a self-signed key and certificate that sign clearance statements (development, demo)."""

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def write_signing_identity(
    *, key_path: Path, cert_path: Path, passphrase: str = "", days: int = 825
) -> x509.Certificate:
    """Write a new RSA key and a self-signed certificate for it; return the certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Center for AI Standards and Innovation"),
            x509.NameAttribute(NameOID.COMMON_NAME, "CAISI clearance statements (development)"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    for path in (key_path, cert_path):
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            # Keys never belong in version control.
            ignore.write_text("*\n")
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


class Command(BaseCommand):
    help = (
        "Create a self-signed key and certificate that sign clearance statements, at "
        "CLEARANCE_SIGNING_KEY and CLEARANCE_SIGNING_CERT. For development and demo only: "
        "production installs a certificate issued to CAISI."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Replace an identity that already exists."
        )
        parser.add_argument("--days", type=int, default=825, help="Validity in days.")

    def handle(self, *args, force: bool, days: int, **options):
        key_path = Path(settings.CLEARANCE_SIGNING_KEY)
        cert_path = Path(settings.CLEARANCE_SIGNING_CERT)
        if (key_path.exists() or cert_path.exists()) and not force:
            if key_path.exists() and cert_path.exists():
                self.stdout.write(f"A signing identity already exists at {cert_path}.")
                return
            raise CommandError(
                f"Only one of {key_path} and {cert_path} exists; use --force to replace both."
            )
        cert = write_signing_identity(
            key_path=key_path,
            cert_path=cert_path,
            passphrase=settings.CLEARANCE_SIGNING_PASSPHRASE,
            days=days,
        )
        fingerprint = cert.fingerprint(hashes.SHA256()).hex(":")
        self.stdout.write(
            self.style.SUCCESS(f"Signing identity written: {key_path}, {cert_path}")
            + f"\nSHA-256 fingerprint {fingerprint}"
        )
