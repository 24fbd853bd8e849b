"""The liaison's whole journey in Chromium: intake over two visits, a version, access,
the four required documents through the progress-bar upload, and submission."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases.models import Case
from submissions.models import Document, DocumentState
from tests.submissions.conftest import MODEL_CARD, PDF

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Records the progress bar's highest value in sessionStorage, which outlives
# the redirect the upload script makes when the server accepts the file.
WATCH_PROGRESS = """() => {
  sessionStorage.setItem("maxProgress", "0");
  const bar = document.querySelector("[data-progress]");
  new MutationObserver(() => {
    const now = Number(bar.getAttribute("aria-valuenow"));
    if (!bar.hidden && now > Number(sessionStorage.getItem("maxProgress"))) {
      sessionStorage.setItem("maxProgress", String(now));
    }
  }).observe(bar, {attributes: true});
}"""

DROP_FILE = """([name, text]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], name, {type: "text/plain"}));
  return transfer;
}"""


@pytest.fixture
def journey_files(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    files = {
        "model_card": tmp_path / "atlas-model-card.md",
        "safety_report": tmp_path / "red-team report.pdf",
        "deployment_plan": tmp_path / "deployment-plan.pdf",
    }
    files["model_card"].write_bytes(MODEL_CARD)
    files["safety_report"].write_bytes(PDF + b"%" + b"r" * 400_000 + b"\n")
    files["deployment_plan"].write_bytes(PDF)
    return files


def upload(page, artifacts_dir, kind, *, path=None, drop=None, report_type=None, shot=None):
    page.select_option("select[name=kind]", kind)
    if report_type:
        page.select_option("select[name=report_type]", report_type)
    if drop:
        transfer = page.evaluate_handle(DROP_FILE, list(drop))
        page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
        assert "Ready: " + drop[0] in page.inner_text("[data-dropzone]")
    else:
        page.set_input_files("input[name=file]", str(path))
    page.evaluate(WATCH_PROGRESS)
    if shot:
        page.screenshot(path=f"{artifacts_dir}/{shot}", full_page=True)
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r".*/documents/$"))
    assert page.evaluate("sessionStorage.getItem('maxProgress')") == "100"


def test_liaison_takes_a_case_from_empty_to_submitted(
    page, live_server, sign_in, cast, artifacts_dir, journey_files
):
    release = timezone.localdate() + dt.timedelta(days=200)

    # First visit: open the case and save part of the intake as a draft.
    sign_in(page, cast.liaison.email)
    page.click("text=Open a new case")
    page.fill("input[name=title]", "Atlas 5 pre-release review")
    page.fill("input[name=model_name]", "Atlas 5")
    page.click("button:has-text('Open the case')")
    page.wait_for_url(re.compile(r".*/cases/CAISI-\d{4}-\d{4,}/intake/$"))
    number = re.search(r"CAISI-\d{4}-\d{4,}", page.url).group(0)
    case_url = f"{live_server.url}/cases/{number}/"
    page.fill("textarea[name=description]", "A general-purpose multimodal assistant.")
    page.fill("input[name=architecture]", "Decoder-only transformer, mixture of experts")
    page.fill("input[name=modality]", "text and images")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r".*/intake/$"))
    assert "Draft saved" in page.inner_text("main")
    page.screenshot(path=f"{artifacts_dir}/journey-01-intake-draft.png", full_page=True)
    page.click("button:has-text('Sign out')")

    # Second visit: the draft is still there; finish the intake.
    sign_in(page, cast.liaison.email)
    page.goto(f"{case_url}intake/")
    assert page.input_value("input[name=architecture]").startswith("Decoder-only")
    page.fill("input[name=parameter_count]", "140000000000")
    page.fill("input[name=training_compute]", "6.2e24 FLOP")
    page.fill("textarea[name=training_data_description]", "Licensed and public data to 2026-04.")
    page.fill("textarea[name=intended_uses]", "Drafting, coding, analysis via restricted API.")
    page.select_option("select[name=release_type]", "restricted_api")
    page.fill("input[name=planned_release_date]", release.isoformat())
    page.click("button[name=return]")
    page.wait_for_url(case_url)

    # A model version, pinned by commit and digest.
    page.click("text=Add a version")
    page.fill("input[name=label]", "v5.0-rc1")
    page.fill("input[name=vcs_reference]", "9f3e2a1c")
    page.select_option("select[name=packaging]", "container_image")
    page.fill("input[name=container_image]", "registry.acme.example/atlas@sha256:" + "c" * 64)
    page.click("button:has-text('Save version')")
    page.wait_for_url(case_url)
    assert "v5.0-rc1" in page.inner_text("[data-testid=versions]")

    # Model access through an https endpoint, with credentials and the NDA.
    page.click("text=Grant access")
    page.check("input[name=method][value=api_endpoint]")
    page.fill("input[name=api_url]", "https://eval.acme.example/v1")
    page.fill("textarea[name=api_credentials]", "sk-e2e-secret")
    page.fill("input[name=nda_reference]", "NDA-2026-301")
    page.fill("input[name=nda_signed_on]", timezone.localdate().isoformat())
    until = timezone.localtime() + dt.timedelta(days=60)
    page.fill("input[name=valid_until]", until.strftime("%Y-%m-%dT%H:%M"))
    page.screenshot(path=f"{artifacts_dir}/journey-02-access.png", full_page=True)
    page.click("button:has-text('Record access')")
    page.wait_for_url(case_url)
    assert "sk-e2e-secret" not in page.content()
    assert "live" in page.inner_text("[data-testid=access]").lower()

    # The four required documents, through the progress bar; one is dropped.
    page.goto(f"{case_url}documents/upload/")
    upload(page, artifacts_dir, "model_card", path=journey_files["model_card"])
    page.goto(f"{case_url}documents/upload/")
    upload(
        page,
        artifacts_dir,
        "safety_report",
        path=journey_files["safety_report"],
        report_type="red_teaming",
        shot="journey-03-upload-form.png",
    )
    page.goto(f"{case_url}documents/upload/")
    upload(page, artifacts_dir, "deployment_plan", path=journey_files["deployment_plan"])
    page.goto(f"{case_url}documents/upload/")
    upload(
        page,
        artifacts_dir,
        "risk_mitigation",
        drop=("risk-mitigation.txt", "Rate limits, monitoring, user authentication.\n"),
    )
    page.screenshot(path=f"{artifacts_dir}/journey-04-documents.png", full_page=True)
    assert page.locator("[data-testid=document-row]").count() == 4

    # A refused upload shows its reason on the page without losing the form.
    page.goto(f"{case_url}documents/upload/")
    page.fill("input[name=title]", "kept title")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "fake.pdf", "mimeType": "application/pdf", "buffer": b"<html></html>"}],
    )
    page.click("button:has-text('Upload')")
    page.wait_for_selector("[data-upload-errors]:not([hidden])")
    assert "not a PDF" in page.inner_text("[data-upload-errors]")
    assert page.input_value("input[name=title]") == "kept title"
    page.screenshot(path=f"{artifacts_dir}/journey-05-refused-upload.png", full_page=True)

    # Submit the intake: the case goes to CAISI's triage.
    page.goto(case_url)
    page.screenshot(path=f"{artifacts_dir}/journey-06-case-ready.png", full_page=True)
    page.click("[data-testid=actions] >> text=Submit intake")
    page.click("button:has-text('Submit intake')")
    page.wait_for_url(case_url)
    assert page.locator("[data-status=triage]").count() >= 1
    page.screenshot(path=f"{artifacts_dir}/journey-07-submitted.png", full_page=True)

    case = Case.objects.get(number=number)
    assert case.status == "triage"
    assert case.versions.get().is_frozen
    assert set(
        Document.objects.filter(case=case, state=DocumentState.SUBMITTED).values_list(
            "kind", flat=True
        )
    ) == {"model_card", "safety_report", "deployment_plan", "risk_mitigation"}
    assert case.access_grants.get().credentials_encrypted


def test_case_manager_reviews_the_package_and_reads_the_checklist_gaps(
    page, live_server, sign_in, cast, case_at, artifacts_dir, journey_files
):
    from django.core.files.base import ContentFile

    from submissions import services

    case = case_at("documentation")
    card = services.upload_document(
        case=case,
        actor=cast.liaison,
        kind="model_card",
        file=ContentFile(b"# Atlas card\n\n## Uses\nChat.\n"),
        original_name="card.md",
    )
    services.record_checklist(
        case=case,
        actor=cast.liaison,
        answers={
            "red_teaming": {"status": "implemented", "evidence_document": card},
            "monitoring": {"status": "planned", "note": "Ships with general availability."},
        },
    )

    sign_in(page, cast.manager.email)
    page.goto(f"{live_server.url}/cases/{case.number}/documents/")
    row = page.locator("[data-testid=document-row]", has_text="card.md")
    assert "Missing sections" in row.inner_text()
    row.locator("input[value=changes]").check()
    row.locator("textarea[name=comment]").fill("Add the out-of-scope uses and evaluation.")
    row.locator("button:has-text('Save review')").click()
    page.wait_for_url(re.compile(r".*/documents/$"))
    assert "changes requested" in page.inner_text("[data-testid=document-row]").lower()
    page.screenshot(path=f"{artifacts_dir}/journey-08-manager-review.png", full_page=True)

    page.goto(f"{live_server.url}/cases/{case.number}/checklist/")
    summary = page.inner_text("[data-testid=checklist-summary]")
    assert "2 of 22 answered" in summary
    page.click("text=21 gaps")
    assert "Monitor the deployed model — Planned" in page.inner_text("[data-testid=checklist-gaps]")
    assert page.locator("select[name='red_teaming-status']").count() == 0
    page.screenshot(path=f"{artifacts_dir}/journey-09-checklist-summary.png", full_page=True)

    page.click("button:has-text('Sign out')")
    sign_in(page, cast.liaison.email)
    page.goto(f"{live_server.url}/cases/{case.number}/")
    panel = page.inner_text("[data-testid=documents]")
    assert "Add the out-of-scope uses and evaluation." in panel
    assert "The model card lacks" in panel
