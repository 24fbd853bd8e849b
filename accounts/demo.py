"""The demo's authenticators: a random key each, stored on the device and printed by seed_demo."""

import secrets

from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_DEVICE_NAME = "Demo authenticator"
# 160 bits, the length RFC 4226 recommends for an HOTP/TOTP key.
DEMO_KEY_BYTES = 20


def demo_authenticator(*, user) -> TOTPDevice:
    """Give a demo user a confirmed authenticator with a random key (once; later runs keep it)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user,
        name=DEMO_DEVICE_NAME,
        defaults={"key": secrets.token_bytes(DEMO_KEY_BYTES).hex(), "confirmed": True},
    )
    return device
