"""Downloading the signed PDF: the company and CAISI may, nobody else."""

import hashlib

import pytest
from django.urls import reverse

from clearance.services import render_statement_pdf


@pytest.fixture
def statement(case_at, statement_settings):
    statement = case_at("cleared").clearance_statements.get()
    render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    return statement


def download_url(statement) -> str:
    return reverse(
        "statement_download",
        kwargs={"number": statement.case.number, "statement": statement.number},
    )


def test_liaison_downloads_the_signed_pdf(client, statement, liaison):
    client.force_login(liaison)
    response = client.get(download_url(statement))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{statement.number}.pdf"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == statement.pdf_sha256


@pytest.mark.parametrize("who", ["manager", "official", "auditor", "evaluator"])
def test_caisi_staff_on_the_case_download_it(client, statement, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(download_url(statement)).status_code == 200


def test_other_company_liaison_gets_404(client, statement, other_liaison):
    client.force_login(other_liaison)
    assert client.get(download_url(statement)).status_code == 404


def test_unassigned_evaluator_gets_404(client, statement, other_evaluator):
    client.force_login(other_evaluator)
    assert client.get(download_url(statement)).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client, statement):
    response = client.get(download_url(statement))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_statement_of_another_case_is_404(client, statement, case_at, liaison):
    other_case = case_at("testing", title="Second review")
    client.force_login(liaison)
    url = reverse(
        "statement_download", kwargs={"number": other_case.number, "statement": statement.number}
    )
    assert client.get(url).status_code == 404


def test_pdf_not_rendered_yet_is_404_and_the_case_page_says_so(client, case_at, liaison):
    statement = case_at("cleared").clearance_statements.get()
    client.force_login(liaison)
    assert client.get(download_url(statement)).status_code == 404
    page = client.get(statement.case.get_absolute_url()).content.decode()
    assert "Being signed: the signed PDF will be ready here in a moment." in page
    assert 'role="status" aria-live="polite"' in page
    assert download_url(statement) not in page


def test_case_page_offers_the_download_once_rendered(client, statement, liaison):
    client.force_login(liaison)
    page = client.get(statement.case.get_absolute_url()).content.decode()
    assert download_url(statement) in page
    assert reverse("verify", kwargs={"code": statement.verification_code}) in page
