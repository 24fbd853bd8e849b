"""Settings for programs in Chromium: a token that works, a webhook tested, rotated, deleted."""

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.api.receivers import Receiver, verify_signature, wait_for
from tests.api.receivers import embedded_default as embedded_default  # noqa: F401 - a fixture


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


@pytest.mark.e2e
def test_liaison_tests_rotates_and_deletes_a_webhook_in_the_browser(
    embedded_default, live_server, page, sign_in, liaison, settings, artifacts_dir
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    sign_in(page, liaison.email, settings.DEMO_PASSWORD)
    with Receiver() as receiver:
        page.goto(f"{live_server.url}/me/webhooks/")
        page.fill("input[name=url]", receiver.url)
        page.click("button:has-text('Register')")
        first = page.inner_text("[data-testid=secret-value]").strip()

        page.click("button:has-text('Send test event')")
        assert "webhook.test event is on its way" in page.inner_text("main")
        wait_for(lambda: len(receiver.requests) == 1, message="the test event never arrived")
        assert json.loads(receiver.requests[0]["body"])["type"] == "webhook.test"
        assert verify_signature(receiver.requests[0], first)

        def answer_shown() -> bool:
            page.reload()
            return "delivered (204)" in page.inner_text("[data-testid=last-test]")

        wait_for(answer_shown, message="the page never showed the receiver's answer")

        page.click("summary:has-text('Rotate secret')")
        # The browser holds the form until the confirmation is ticked.
        page.click("button:has-text('Rotate the secret')")
        assert page.locator("[data-testid=secret-value]").count() == 0
        page.check("input[id^=rotate-confirm]")
        page.click("button:has-text('Rotate the secret')")
        second = page.inner_text("[data-testid=secret-value]").strip()
        assert second.startswith("whsec_") and second != first
        assert "old one no longer verifies" in page.inner_text("main")
        page.screenshot(path=f"{artifacts_dir}/webhook-secret-rotated.png", full_page=True)

        page.click("button:has-text('Send test event')")
        wait_for(lambda: len(receiver.requests) == 2, message="the second test never arrived")
        assert verify_signature(receiver.requests[1], second)
        assert not verify_signature(receiver.requests[1], first)

        page.click("summary:has-text('Delete')")
        page.check("input[id^=delete-confirm]")
        page.click("button:has-text('Delete the webhook')")
        assert "deleted" in page.inner_text("main")
        assert "No webhooks yet." in page.inner_text("[data-testid=webhooks]")
        changes = page.inner_text("[data-testid=webhook-changes]")
        for kind in ("Registered", "Test event sent", "Secret rotated", "Deleted"):
            assert kind in changes, kind
        page.screenshot(path=f"{artifacts_dir}/webhook-deleted.png", full_page=True)
