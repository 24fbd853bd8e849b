"""The statement's PDF: what it says, its signature, and rendering only once."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from clearance.models import NON_ENDORSEMENT
from clearance.services import render_statement_pdf
from review.services import issue_clearance
from submissions.models import ModelVersion

from .helpers import first_page_png, pdf_text, signature_status


@pytest.fixture
def statement(case_at, statement_settings):
    return case_at("cleared").clearance_statements.get()


def rendered(statement):
    render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    return statement.pdf.read()


def test_pdf_states_non_endorsement_digest_and_code(statement, artifacts_dir):
    data = rendered(statement)
    text = pdf_text(data)
    assert NON_ENDORSEMENT in text
    assert statement.digest in text
    assert statement.verification_code in text
    assert f"/verify/{statement.verification_code}/" in text
    for expected in ("Acme AI", "Atlas", "v1.0-rc1", statement.vcs_reference, statement.number):
        assert expected in text
    pdf_path = Path(artifacts_dir) / "clearance-statement.pdf"
    pdf_path.write_bytes(data)
    assert first_page_png(pdf_path, Path(artifacts_dir) / "clearance-statement-page1").exists()


def test_pdf_lists_review_dates_findings_conditions_and_official(statement, official):
    text = pdf_text(rendered(statement))
    for step in ("Triage", "Model access", "Documentation", "Testing", "Findings", "Cleared"):
        assert step in text
    assert "Role-play prompts bypass the refusal policy" in text
    assert "HIGH" in text  # severities print in capitals
    assert "Re-review before enabling fine-tuning access." in text
    assert official.get_full_name() in text


def test_pdf_never_shows_draft_findings(case_at, statement_settings, cast):
    from findings.models import Finding, FindingState
    from review import demo

    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    shared = case.findings.get()
    # A draft begun after the findings were shared stays internal.
    Finding.objects.create(
        case=case,
        model_version=shared.model_version,
        severity="low",
        category=shared.category,
        title="Internal draft about tokenizer",
        description="Not shared.",
        state=FindingState.DRAFT,
        created_by=cast.evaluator,
    )
    issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="Restricted API.",
    )
    text = pdf_text(rendered(case.clearance_statements.get()))
    assert shared.title in text
    assert "Internal draft about tokenizer" not in text


def test_signature_is_valid_pades_from_the_configured_identity(statement, signing_identity):
    status = signature_status(rendered(statement), signing_identity.cert)
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert "CAISI clearance statements" in status.signing_cert.subject.human_friendly


def test_one_changed_byte_breaks_the_signature(statement, signing_identity):
    data = bytearray(rendered(statement))
    # Change a byte inside the signed range: a character of the first page's text stream.
    position = data.index(b"stream") + 20
    data[position] ^= 0x01
    status = signature_status(bytes(data), signing_identity.cert)
    assert not status.intact
    assert not status.bottom_line


def test_recorded_sha256_matches_the_stored_file(statement):
    data = rendered(statement)
    assert statement.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert statement.pdf.name == f"statements/{statement.number}.pdf"


def test_rendering_again_does_nothing(statement):
    data = rendered(statement)
    first = (statement.pdf_sha256, statement.pdf_rendered_at)
    assert render_statement_pdf(statement_id=statement.pk) is None
    statement.refresh_from_db()
    assert (statement.pdf_sha256, statement.pdf_rendered_at) == first
    assert statement.pdf.read() == data


def test_signing_is_recorded_on_the_timeline(statement):
    rendered(statement)
    event = statement.case.events.get(verb="statement_signed")
    assert event.details == {"statement": statement.number, "sha256": statement.pdf_sha256}
    assert not event.internal


def test_leftover_file_of_a_failed_attempt_is_replaced(statement):
    default_storage.save(statement.pdf_filename, __import__("io").BytesIO(b"%PDF-1.7 half"))
    data = rendered(statement)
    assert statement.pdf.name == statement.pdf_filename
    assert data.startswith(b"%PDF") and len(data) > 1000
    folder = Path(default_storage.path("statements"))
    assert [p.name for p in folder.iterdir()] == [f"{statement.number}.pdf"]


def test_missing_signing_identity_is_a_clear_error(statement, settings, tmp_path):
    from clearance.pdf import SigningIdentityMissing

    settings.CLEARANCE_SIGNING_KEY = str(tmp_path / "absent.key")
    with pytest.raises(SigningIdentityMissing, match="create_signing_identity"):
        render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    assert not statement.pdf


def test_pdf_uses_only_installed_fonts(statement, tmp_path):
    pdffonts = shutil.which("pdffonts")
    if not pdffonts:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = tmp_path / "s.pdf"
    path.write_bytes(rendered(statement))
    fonts = subprocess.run(  # noqa: S603 - fixed arguments
        [pdffonts, str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "DejaVu" in fonts


@pytest.mark.django_db(transaction=True)
def test_render_waits_for_but_is_not_refused_by_a_lock_on_the_case(case_at, statement_settings):
    import threading

    from django.db import connection, transaction

    from cases.models import Case

    statement = case_at("cleared").clearance_statements.get()
    locked, release = threading.Event(), threading.Event()

    def hold_case_row():
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=statement.case_id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_case_row)
    holder.start()
    assert locked.wait(timeout=10)
    threading.Timer(2.0, release.set).start()
    try:
        result = render_statement_pdf(statement_id=statement.pk)
    finally:
        release.set()
        holder.join()
    assert result is not None and result.pdf_sha256
