"""The demo's authenticators: keys derived from the demo password, so `make run` is usable."""

import hashlib
import hmac

from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_DEVICE_NAME = "Demo authenticator"


def demo_key(*, email: str, password: str) -> str:
    """Return the hex TOTP key of a demo user: the same on every machine with this password."""
    return hmac.new(password.encode(), f"totp:{email}".encode(), hashlib.sha256).hexdigest()[:40]


def demo_authenticator(*, user, password: str) -> TOTPDevice:
    """Give a demo user the confirmed authenticator with their derived key (once)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user,
        name=DEMO_DEVICE_NAME,
        defaults={"key": demo_key(email=user.email, password=password), "confirmed": True},
    )
    return device
