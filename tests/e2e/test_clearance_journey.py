"""The official issues a clearance in the browser; the liaison downloads the signed PDF;
the public verification page shows it valid, then revoked."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings

from clearance.models import Condition, Scope
from review import demo
from tests.clearance.conftest import (  # noqa: F401 - fixtures used below
    live_worker,
    signing_identity,
    start_worker,
    statement_settings,
    wait_for,
    worker_env,
)
from tests.clearance.helpers import first_page_png, pdf_text, signature_status

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("statement_settings", "live_worker"),
]


def test_official_issues_liaison_downloads_and_verification_follows_revocation(
    browser, live_server, sign_in, cast, case_at, artifacts_dir
):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case_url = f"{live_server.url}/cases/{case.number}/"

    official = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(official, cast.official.email)
    official.goto(case_url)
    official.click("[data-testid=actions] >> text=Issue clearance")
    # Labels, not the inputs: USWDS draws its own checkboxes over visually hidden ones.
    official.click(f'label:has-text("{Scope.PUBLIC_API.label}")')
    official.fill("textarea[name=scope]", "Atlas v1.0-rc1 as deployed behind the restricted API.")
    official.click(f'label:has-text("{Condition.INCIDENTS.label}")')
    official.fill("textarea[name=conditions]", "Re-review before enabling fine-tuning access.")
    official.screenshot(path=f"{artifacts_dir}/clearance-issue-form.png", full_page=True)
    official.click("button[name=step][value=preview]")

    preview = official.locator("[data-testid=statement-preview]")
    assert Scope.PUBLIC_API.label in preview.inner_text()
    assert Condition.INCIDENTS.label in preview.inner_text()
    assert "What becomes public" in official.locator("[data-testid=confirmation]").inner_text()
    assert not case.clearance_statements.exists()
    official.screenshot(path=f"{artifacts_dir}/clearance-issue-preview.png", full_page=True)
    official.click("button[name=step][value=sign]")
    official.wait_for_url(case_url)
    assert "Issue clearance: done." in official.content()

    statement = case.clearance_statements.get()
    region = official.locator(f"[data-testid=statement-{statement.number}] [role=status]")
    assert region.get_attribute("aria-live") == "polite"
    if not statement.pdf_sha256:
        assert "Being signed" in region.inner_text()
        official.screenshot(path=f"{artifacts_dir}/clearance-being-signed.png", full_page=True)
    # The region refreshes itself until the worker has signed the PDF; no reload.
    region.locator("[data-testid=download-pdf]").wait_for(timeout=90_000)
    official.screenshot(path=f"{artifacts_dir}/clearance-signed.png", full_page=True)
    statement.refresh_from_db()
    assert statement.pdf_sha256

    liaison = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    ).new_page()
    sign_in(liaison, cast.liaison.email)
    liaison.goto(case_url)
    panel = liaison.locator(f"[data-testid=statement-{statement.number}]")
    assert "valid" in panel.inner_text().lower()
    liaison.screenshot(path=f"{artifacts_dir}/clearance-liaison-case.png", full_page=True)
    with liaison.expect_download() as download_info:
        panel.locator("[data-testid=download-pdf]").click()
    pdf_path = Path(artifacts_dir) / f"{statement.number}.pdf"
    download_info.value.save_as(pdf_path)
    data = pdf_path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == statement.pdf_sha256
    assert signature_status(data, settings.CLEARANCE_SIGNING_CERT).bottom_line
    assert statement.verification_code in pdf_text(data)
    first_page_png(pdf_path, Path(artifacts_dir) / "clearance-journey-pdf-page1")

    public = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    verify_url = f"{live_server.url}/verify/{statement.verification_code}/"
    public.goto(verify_url)
    status = public.locator("[data-testid=verification-status]")
    assert "Valid" in status.inner_text()
    assert statement.digest in public.locator("[data-testid=digest]").inner_text()
    public.screenshot(path=f"{artifacts_dir}/clearance-verify-valid.png", full_page=True)

    official.goto(case_url)
    official.click("[data-testid=actions] >> text=Revoke clearance")
    official.fill("textarea[name=reason]", "Deployed outside the cleared scope.")
    official.click("main form button[type=submit]")
    official.wait_for_url(case_url)

    public.reload()
    assert re.search(r"Revoked\s+on", status.inner_text())
    assert "Valid" not in status.inner_text()
    assert "Deployed outside the cleared scope." not in public.content()
    public.screenshot(path=f"{artifacts_dir}/clearance-verify-revoked.png", full_page=True)

    other = browser.new_context().new_page()
    sign_in(other, cast.other_liaison.email)
    response = other.goto(
        f"{live_server.url}/cases/{case.number}/statements/{statement.number}/pdf/"
    )
    assert response.status == 404
    for context in (official.context, liaison.context, public.context, other.context):
        context.close()
