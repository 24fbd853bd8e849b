"""The upload page sends weights with Uppy over tus in Chromium, and the grant is verified."""

import os

import pytest
from django.urls import reverse

from tests.submissions.test_resumable_uploads import DIGEST, WEIGHTS
from tests.submissions.test_uploads import weights_grant

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop


@pytest.mark.e2e
def test_liaison_uploads_weights_in_pieces_from_the_page(
    live_server,
    page,
    sign_in,
    liaison,
    case_at,
    tmp_path,
    settings_resumable_root,
):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(WEIGHTS)
    sign_in(page, liaison.email)  # with the second factor a company account owes

    url = reverse("submissions:artifact_upload", kwargs={"number": case.number, "pk": grant.pk})
    page.goto(f"{live_server.url}{url}")
    page.set_input_files("#resumable-file", str(weights))
    page.fill("#resumable-sha256", "0" * 64)
    page.click("[data-start]")
    page.wait_for_selector("[data-problem]:not([hidden])")
    assert "not the digest" in page.inner_text("[data-problem]")

    page.fill("#resumable-sha256", DIGEST)
    page.click("[data-start]")
    page.wait_for_url(f"{live_server.url}{case.get_absolute_url()}")
    grant.refresh_from_db()
    assert grant.checksum_verified and grant.artifact_size == len(WEIGHTS)


@pytest.fixture
def settings_resumable_root(settings, tmp_path):
    settings.RESUMABLE_UPLOAD_ROOT = tmp_path / "resumable"
