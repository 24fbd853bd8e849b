"""Browser fixtures: Playwright's sync API driving Debian's Chromium, headless."""

import os

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import User
from tests.conftest import confirmed_authenticator, current_totp_code

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run there unless told this thread is synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def csp_violations(page) -> list[str]:
    """Collect what the Content-Security-Policy blocks on this page, as Chromium reports it.

    An inline style or script anywhere in a journey shows up here; the page
    fixture fails its test if the list is not empty at the end.
    """
    blocked: list[str] = []

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", note)
    return blocked


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked = csp_violations(page)
    yield page
    context.close()
    assert not blocked, blocked


@pytest.fixture
def sign_in(live_server):
    """Return a function that signs a person in through the sign-in form."""

    def sign_in(page, email: str, password: str = "demo-pass-2026"):
        user = User.objects.get(email__iexact=email)
        device = None
        if services.requires_second_factor(user):
            device = confirmed_authenticator(user)
            # Two sign-ins of one person within a 30-second step would reuse a code,
            # which django-otp rightly refuses; the test forgets the last one used.
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        if device is not None:
            page.wait_for_url(f"{live_server.url}/accounts/two-step/**")
            page.fill("input[name=code]", current_totp_code(device))
            page.click("[data-testid=mfa-verify] button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

    return sign_in
