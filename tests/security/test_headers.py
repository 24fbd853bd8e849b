"""Response headers: CSP without inline script, no framing, nosniff, referrer, HSTS, no-store."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from submissions import services as submissions
from tests.browser_thread import in_own_thread
from tests.conftest import ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
# Playwright's sync API runs an event loop in the test thread (see tests/e2e/conftest.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = (part.strip().split() for part in policy.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


def test_pages_carry_a_policy_without_inline_script_and_no_framing(client, cast):
    client.force_login(cast.liaison)
    response = client.get(reverse("cases:dashboard"))
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["style-src"] == ["'self'"]  # no inline style either
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_only_the_api_docs_allow_inline_style(client, db):
    docs = directives(client.get(reverse("api-docs")))
    assert docs["style-src"] == ["'self'", "'unsafe-inline'"]
    assert docs["script-src"] == ["'self'"]


def test_the_public_pages_carry_the_same_policy(client, db):
    response = client.get(reverse("login"))
    assert directives(response)["script-src"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or EVENT_HANDLER.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize("who", ["liaison", "manager", "evaluator", "official", "auditor"])
def test_rendered_case_pages_have_no_inline_script(client, cast, case_at, who):
    case = case_at("testing")
    client.force_login(getattr(cast, who))
    for url in [reverse("cases:dashboard"), case.get_absolute_url()]:
        html = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(html), url


@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_confidential_pages_are_never_stored(client, cast, case_at, who):
    case = case_at("documentation")
    client.force_login(getattr(cast, who))
    urls = [
        reverse("cases:dashboard"),
        case.get_absolute_url(),
        reverse("accounts:api_tokens"),
        reverse("accounts:security"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_downloads_are_never_stored(client, cast, case_at, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = case_at("documentation")
    document = submissions.upload_document(
        case=case,
        actor=cast.liaison,
        kind="deployment_plan",
        file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%%EOF\n"),
        original_name="plan.pdf",
    )
    client.force_login(cast.liaison)
    url = reverse(
        "submissions:document_download", kwargs={"number": case.number, "pk": document.pk}
    )
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_api_responses_are_never_stored(client, cast, case_at):
    from accounts.services import create_api_token

    case = case_at("triage")
    _, raw = create_api_token(user=cast.liaison, name="pipeline")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    for url in ["/api/v1/cases/", f"/api/v1/cases/{case.number}/status/"]:
        response = client.get(url, **auth)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    refused = client.get("/api/v1/cases/")
    assert "no-store" in refused["Cache-Control"]


def test_production_settings_send_hsts_and_secure_cookies():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DEBUG="0",
        SECRET_KEY="k7#Qx!2mZ9vL@4pR8sT1wY6uE3oI0aN5bC-jH_gF+dK=lM^zX%",
        ALLOWED_HOSTS="portal.caisi.example",
        DJANGO_SETTINGS_MODULE="caisi_portal.settings",
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    result = subprocess.run(  # noqa: S603  (this interpreter, a fixed program)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "True", "True"]


def test_hsts_header_is_sent_over_https_when_configured(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def swagger_page(url: str) -> tuple[str, str, list[str]]:
    """Open Swagger UI in Chromium; return the policy, the API's title and CSP complaints."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        complaints = []
        page.on(
            "console",
            lambda message: (
                complaints.append(message.text)
                if "Content Security Policy" in message.text
                or "Content-Security-Policy" in message.text
                else None
            ),
        )
        response = page.goto(url)
        page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
        page.wait_for_selector(".opblock-tag", timeout=15_000)
        title = page.inner_text(".swagger-ui .info .title")
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=f"{ARTIFACTS}/swagger-under-csp.png")
        policy = response.headers["content-security-policy"]
        browser.close()
    return policy, title, complaints


@pytest.mark.e2e
def test_swagger_ui_runs_under_the_policy(live_server, db):
    policy, title, complaints = in_own_thread(lambda: swagger_page(f"{live_server.url}/api/docs/"))
    assert "script-src 'self';" in policy + ";"
    assert "CAISI Review Portal API" in title
    assert complaints == []
