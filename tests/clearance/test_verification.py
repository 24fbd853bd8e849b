"""The public verification page: what it shows, what it hides, and its rate limit."""

import pytest
from django.urls import reverse

from review import demo
from review.services import issue_clearance, resubmit, revoke_clearance, share_findings
from submissions.models import ModelVersion


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def statement(case_at):
    return case_at("cleared").clearance_statements.get()


def verify_url(statement) -> str:
    return reverse("verify", kwargs={"code": statement.verification_code})


def test_anyone_sees_a_valid_statement_without_signing_in(client, statement):
    response = client.get(verify_url(statement))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Valid" in page
    for shown in (
        statement.number,
        "Acme AI",
        "Atlas",
        statement.version_label,
        statement.digest,
    ):
        assert shown in page
    # Never cached, so a revocation shows at once; never listed by search engines.
    assert "max-age=0" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_verification_page_shows_scope_and_conditions(client, statement):
    page = client.get(verify_url(statement)).content.decode()
    assert statement.scope and statement.scope in page
    assert statement.conditions and statement.conditions in page


def test_verification_page_shows_nothing_confidential(client, statement):
    page = client.get(verify_url(statement)).content.decode()
    case = statement.case
    for secret in (
        "Role-play prompts bypass the refusal policy",  # a finding
        case.architecture,
        case.training_data_description,
        case.intended_uses,
        "NDA-2026-117",
        statement.vcs_reference,
    ):
        assert secret not in page


def test_unknown_code_is_404(client, statement):
    response = client.get(reverse("verify", kwargs={"code": "x" * 32}))
    assert response.status_code == 404


def test_revocation_shows_at_once(client, statement, official):
    assert "Valid" in client.get(verify_url(statement)).content.decode()
    revoke_clearance(
        case=statement.case, actor=official, reason="Deployment outside the cleared scope."
    )
    page = client.get(verify_url(statement)).content.decode()
    assert "Revoked" in page
    assert "Valid" not in page
    statement.refresh_from_db()
    assert statement.status == "revoked"
    assert statement.status_changed_at is not None
    # The reason stays between CAISI and the company.
    assert "Deployment outside the cleared scope." not in page


def test_lookups_beyond_the_limit_are_refused(client, statement, settings):
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(verify_url(statement)).status_code == 200
    refused = client.get(verify_url(statement))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert statement.number not in refused.content.decode()


def test_guessing_codes_counts_against_the_limit(client, statement, settings):
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 2
    for n in range(2):
        assert client.get(reverse("verify", kwargs={"code": f"guess{n}"})).status_code == 404
    assert client.get(verify_url(statement)).status_code == 429


def test_limit_is_per_client_address(client, statement, settings):
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 1
    assert client.get(verify_url(statement), REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get(verify_url(statement), REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get(verify_url(statement), REMOTE_ADDR="10.0.0.2").status_code == 200


def test_behind_a_proxy_the_limit_is_per_forwarded_client(client, statement, settings):
    settings.VERIFY_RATE_LIMIT_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1
    url = verify_url(statement)
    via = {"REMOTE_ADDR": "10.0.0.9"}
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.5", **via).status_code == 200
    # Entries left of the proxy's own are the client's to write: not trusted.
    forged = "198.51.100.1, 203.0.113.5"
    assert client.get(url, HTTP_X_FORWARDED_FOR=forged, **via).status_code == 429
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.6", **via).status_code == 200


def test_verification_page_needs_few_queries(client, statement, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        client.get(verify_url(statement))


def test_posting_to_the_verification_page_is_refused(client, statement):
    assert client.post(verify_url(statement)).status_code == 405


def test_statement_for_a_revised_version_supersedes_the_first(client, case_at, cast):
    case = case_at("cleared")
    first = case.clearance_statements.get()
    demo.revise(case, cast.liaison, label="v1.1")
    resubmit(case=case, actor=cast.liaison)
    demo.record_evaluation(case, cast.evaluator)
    share_findings(case=case, actor=cast.manager)
    demo.resolve_findings(case, cast.manager)
    issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="Atlas v1.1 behind the API.",
    )

    first.refresh_from_db()
    second = case.clearance_statements.get(status="issued")
    assert first.status == "superseded"
    assert first.superseded_by == second
    assert second.version_label == "v1.1"
    assert second.number == f"{case.number}-S2"
    assert second.declared_digest != first.declared_digest
    issued = case.events.filter(verb="issue_clearance").order_by("seq").last()
    assert issued.details["supersedes"] == [first.number]
    page = client.get(verify_url(first)).content.decode()
    assert "Superseded" in page and second.number in page
    assert "Valid" in client.get(verify_url(second)).content.decode()


def test_statement_records_exactly_what_was_cleared(statement, official):
    version = statement.model_version
    assert statement.vcs_reference == version.vcs_reference
    # The demo reaches the model through an endpoint: CAISI verified no digest.
    assert statement.digest == ""
    assert statement.digest_verification == "endpoint_only"
    assert statement.declared_digest == version.digest
    assert statement.official == official
    assert statement.official_name == official.get_full_name()
    assert statement.status == "issued"
    assert statement.case.events.get(verb="issue_clearance").details["statement"] == (
        statement.number
    )


def test_verification_code_is_long_random_and_url_safe(case_at):
    import re

    codes = {
        case_at("cleared", title=f"T{n}").clearance_statements.get().verification_code
        for n in range(2)
    }
    assert len(codes) == 2
    for code in codes:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", code)  # 32 base64 chars = 192 bits
