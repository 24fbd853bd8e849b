"""The statement PDF as an accessible federal document: tagged, US Letter, in order, signed."""

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from clearance.services import render_statement_pdf

from .helpers import first_page_png, signature_status


@pytest.fixture
def statement_pdf(case_at, statement_settings, tmp_path):
    statement = case_at("cleared").clearance_statements.get()
    render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    path = tmp_path / f"{statement.number}.pdf"
    path.write_bytes(statement.pdf.read())
    return statement, path


def pdfinfo(path: Path, *options: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed arguments
        ["/usr/bin/pdfinfo", *options, str(path)], check=True, capture_output=True, text=True
    ).stdout


def structure_roles(reader: PdfReader) -> list[str]:
    """Return the structure tree's element types in document order."""
    roles: list[str] = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, list):
            for kid in node:
                walk(kid)
            return
        if not hasattr(node, "get"):
            return  # a marked-content id: content, not structure
        if "/S" in node:
            roles.append(str(node["/S"]))
        if "/K" in node:
            walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"]["/K"])
    return roles


def test_pdf_is_tagged_us_letter_with_title(statement_pdf):
    statement, path = statement_pdf
    info = pdfinfo(path)
    assert "Tagged:          yes" in info
    assert "Page size:       612 x 792 pts (letter)" in info
    assert f"Title:           CAISI clearance statement {statement.number}" in info


def test_pdf_declares_pdf_ua_language_and_shows_its_title(statement_pdf):
    _, path = statement_pdf
    assert 'pdfuaid:part="1"' in pdfinfo(path, "-meta")
    root = PdfReader(path).trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert root["/MarkInfo"]["/Marked"]


def test_pdf_reading_order_follows_the_document(statement_pdf):
    roles = structure_roles(PdfReader(statement_pdf[1]))
    assert roles.count("/H1") == 1
    # The title first, then the sections in the order printed; tables with header cells.
    assert roles.index("/H1") < roles.index("/P") < roles.index("/H2")
    assert "/Table" in roles and "/TH" in roles and "/TD" in roles


def test_tagged_pdf_keeps_a_valid_signature(statement_pdf, signing_identity):
    _, path = statement_pdf
    status = signature_status(path.read_bytes(), signing_identity.cert)
    assert status.bottom_line
    assert status.docmdp_ok


def test_review_steps_table_is_never_split_across_pages(statement_pdf, artifacts_dir):
    _, path = statement_pdf
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages]
    with_first_row = [i for i, text in enumerate(pages) if "Intake (case opened)" in text]
    with_last_row = [i for i, text in enumerate(pages) if "Cleared (issue clearance)" in text]
    assert with_first_row == with_last_row, "a row of the steps table sits on another page"
    copy = Path(artifacts_dir) / "clearance-statement-letter.pdf"
    copy.write_bytes(path.read_bytes())
    assert first_page_png(copy, Path(artifacts_dir) / "clearance-statement-letter-page1").exists()
