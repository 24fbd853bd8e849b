"""The demo's authenticators: random keys, printed once, and never a demo on a real portal.

Before the fix each demo staff user's TOTP key was an HMAC of the public demo
password, so anyone who knew the password knew every second factor, and
`seed_demo` created those accounts with DEBUG off too.
"""

import base64
import hashlib
import hmac
import re

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.conftest import current_totp_code

STAFF = ["manager", "evaluator", "official", "auditor"]


def printed_keys(out: str) -> dict[str, bytes]:
    found = re.findall(r"(\S+@caisi\.example): key ([A-Z2-7]+)", out)
    return {email: base64.b32decode(key) for email, key in found}


def key_derived_from_the_password(email: str, password: str) -> bytes:
    """The derivation the demo used to use."""
    digest = hmac.new(password.encode(), f"totp:{email}".encode(), hashlib.sha256).hexdigest()
    return bytes.fromhex(digest[:40])


def test_seed_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.filter(email__endswith=".example").exists()


def test_demo_keys_are_random_printed_and_not_derived_from_the_password(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    keys = printed_keys(capsys.readouterr().out)
    assert set(keys) == {f"{who}@caisi.example" for who in STAFF}
    for email, key in keys.items():
        device = TOTPDevice.objects.get(user__email=email, confirmed=True)
        assert device.bin_key == key
        assert len(key) >= 20
        assert key != key_derived_from_the_password(email, settings.DEMO_PASSWORD)
    assert len(set(keys.values())) == len(keys)


def test_seeding_again_keeps_and_prints_the_stored_keys(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    first = printed_keys(capsys.readouterr().out)
    call_command("seed_demo")
    assert printed_keys(capsys.readouterr().out) == first


def test_demo_code_prints_the_code_of_the_stored_authenticator(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    capsys.readouterr()
    device = TOTPDevice.objects.get(user__email="manager@caisi.example", confirmed=True)
    call_command("demo_code", "manager@caisi.example")
    assert capsys.readouterr().out.strip() == current_totp_code(device)


def test_demo_code_refuses_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG|demo"):
        call_command("demo_code", "manager@caisi.example")
