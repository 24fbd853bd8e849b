"""A liaison makes a token and registers a webhook in Chromium, then the token works."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.e2e.conftest import csp_violations
from tests.e2e.conftest import sign_in as sign_in  # noqa: F401  (the shared fixture)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        blocked = csp_violations(page)
        yield page
        browser.close()
        assert not blocked, blocked


@pytest.mark.e2e
def test_liaison_creates_token_and_webhook_in_the_browser(
    live_server, page, sign_in, liaison, case_at, artifacts_dir
):
    case = case_at("intake")
    # A company account passes its second factor on the way in, as it must.
    sign_in(page, liaison.email, settings.DEMO_PASSWORD)

    page.click("nav >> text=API & webhooks")
    page.fill("input[name=name]", "release pipeline")
    page.check("input[value=read_only]")
    page.fill("input[name=expires_in_days]", "90")
    page.click("button:has-text('Create token')")
    token = page.inner_text("[data-testid=token-value]").strip()
    page.screenshot(path=f"{artifacts_dir}/api-token-created.png", full_page=True)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(f"/api/v1/cases/{case.number}/status/").json()["status"] == "intake"

    page.reload()  # the page came by redirect: a reload creates nothing, shows the token no more
    assert token not in page.content()
    assert page.locator("[data-testid=tokens] tbody tr").count() == 1
    assert "release pipeline" in page.inner_text("[data-testid=tokens]")
    assert "minutes ago" in page.inner_text("[data-testid=tokens]")  # last used just now

    page.click("nav[aria-label=Sections] >> text=Webhooks")
    page.fill("input[name=url]", "https://hooks.acme.example/caisi")
    page.click("button:has-text('Register')")
    secret = page.inner_text("[data-testid=secret-value]").strip()
    assert secret.startswith("whsec_")
    page.screenshot(path=f"{artifacts_dir}/api-webhook-registered.png", full_page=True)

    page.goto(f"{live_server.url}/me/api-tokens/")
    page.click("button:has-text('Revoke')")
    assert "revoked" in page.inner_text("[data-testid=tokens]").lower()  # tags show upper-case
    page.screenshot(path=f"{artifacts_dir}/api-token-revoked.png", full_page=True)
    assert client.get(f"/api/v1/cases/{case.number}/status/").status_code == 401


@pytest.mark.e2e
def test_swagger_ui_renders_from_the_portal_alone(live_server, page, artifacts_dir):
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{live_server.url}/api/docs/")
    # Swagger UI's bundle is large; a busy machine may take a while to run it.
    page.wait_for_selector("text=CAISI Review Portal API", timeout=60_000)
    page.wait_for_selector("text=/api/v1/cases/{number}/status/")
    page.screenshot(path=f"{artifacts_dir}/api-docs.png", full_page=False)
    assert hosts == {live_server.url.split("/")[2]}  # no CDN, nothing from elsewhere
