"""The renderer reads only the statement's own assets; the signing identity command."""

from pathlib import Path

import pytest
from django.core.management import call_command

from clearance.pdf import StatementURLFetcher, assets_dir
from review.services import issue_clearance
from submissions.models import ModelVersion


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/logo.png",
        "ftp://example.com/x",
        # A path that starts inside the assets folder and climbs out of it.
        (assets_dir() / ".." / "statement.html").as_uri(),
    ],
)
def test_fetcher_refuses_anything_but_the_statement_assets(url):
    with pytest.raises(ValueError, match="does not fetch"):
        StatementURLFetcher().fetch(url)


def test_fetcher_reads_the_statement_stylesheet_and_inline_data():
    css = StatementURLFetcher().fetch((assets_dir() / "statement.css").as_uri())
    assert b"size: letter" in css.read()
    data = StatementURLFetcher().fetch("data:text/plain;base64,aGVsbG8=")
    assert data.read() == b"hello"


def test_company_text_cannot_make_the_renderer_fetch(case_at, statement_settings, official):
    from clearance.pdf import render_html
    from review import demo

    case = case_at("findings")
    demo.resolve_findings(case, case.case_manager)
    issue_clearance(
        case=case,
        actor=official,
        version=ModelVersion.objects.under_test(case),
        scope='<img src="http://169.254.169.254/x"><link rel=stylesheet href="file:///etc/x">',
    )
    html = render_html(case.clearance_statements.get())
    assert '<img src="http' not in html
    assert "&lt;img" in html


def test_create_signing_identity_writes_a_key_and_certificate(settings, tmp_path):
    from cryptography import x509

    settings.CLEARANCE_SIGNING_KEY = str(tmp_path / "id" / "k.pem")
    settings.CLEARANCE_SIGNING_CERT = str(tmp_path / "id" / "c.pem")
    settings.CLEARANCE_SIGNING_PASSPHRASE = "secret"
    call_command("create_signing_identity")
    cert = x509.load_pem_x509_certificate(Path(settings.CLEARANCE_SIGNING_CERT).read_bytes())
    assert "CAISI" in cert.subject.rfc4514_string()
    key = Path(settings.CLEARANCE_SIGNING_KEY)
    assert b"ENCRYPTED" in key.read_bytes()
    assert key.stat().st_mode & 0o077 == 0
    assert (tmp_path / "id" / ".gitignore").read_text() == "*\n"

    before = key.read_bytes()
    call_command("create_signing_identity")  # a second run keeps the identity
    assert key.read_bytes() == before
    call_command("create_signing_identity", "--force")
    assert key.read_bytes() != before


def test_sweep_runs_on_the_beat_schedule():
    from caisi_portal.celery import app

    app.loader.import_default_modules()
    app.finalize()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "clearance.tasks.render_pending_statements" in tasks
