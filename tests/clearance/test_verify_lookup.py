"""The public side of verification: a form to type a code, a public 404, no confidential chrome."""

import pytest
from django.urls import reverse


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def statement(case_at):
    return case_at("cleared").clearance_statements.get()


SIGNED_IN_CHROME = ("Back to your cases", "Sign out", "Confidential")


def test_verify_form_is_public(client):
    response = client.get(reverse("verify_lookup"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<form class="usa-form" method="get"' in page
    assert 'name="code"' in page and 'for="id_code"' in page
    assert "Confidential" not in page


def test_a_typed_code_goes_to_its_statement(client, statement):
    response = client.get(reverse("verify_lookup"), {"code": f"  {statement.verification_code} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("verify", args=[statement.verification_code])


def test_the_pasted_verification_address_works_too(client, statement):
    response = client.get(reverse("verify_lookup"), {"code": statement.get_verification_url()})
    assert response["Location"] == reverse("verify", args=[statement.verification_code])


@pytest.mark.parametrize("typed", ["", "not a code!", "<script>alert(1)</script>", "x" * 301])
def test_a_malformed_code_is_a_400_keeping_what_was_typed(client, typed):
    response = client.get(reverse("verify_lookup"), {"code": typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="usa-error-message"' in page
    assert "<script>alert(1)</script>" not in page
    if typed and len(typed) <= 300:
        assert f'value="{typed.replace("<", "&lt;").replace(">", "&gt;")}"' in page


def test_an_unknown_code_is_a_public_404_even_when_signed_in(client, statement, cast):
    client.force_login(cast.liaison)
    response = client.get(reverse("verify", args=["x" * 32]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "No statement with this code" in page
    assert 'data-testid="verify-form"' in page
    for chrome in SIGNED_IN_CHROME:
        assert chrome not in page
    assert cast.liaison.email not in page


def test_the_verification_page_has_no_confidential_footer_or_signed_in_chrome(
    client, statement, cast
):
    client.force_login(cast.official)
    page = client.get(reverse("verify", args=[statement.verification_code])).content.decode()
    for chrome in SIGNED_IN_CHROME:
        assert chrome not in page
    assert 'data-testid="public-footer"' in page
    history = page[page.index('data-testid="history"') :]
    assert "Issued on" in history


def test_signed_in_pages_keep_the_confidential_footer(client, statement, cast):
    client.force_login(cast.liaison)
    assert "Confidential" in client.get(statement.case.get_absolute_url()).content.decode()
