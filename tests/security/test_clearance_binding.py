"""A clearance is bound to what CAISI reached and tested, never to what a company typed.

The red team cleared a revised version whose weights CAISI never received, and
saw a statement certify a digest (3c7964…) other than that of the weights CAISI
held (f42bf7…). Each attack is a test here.
"""

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import create_api_token
from clearance.services import render_statement_pdf
from core.errors import ActionRefused, BadInput
from review import demo
from review.forms import ActionForm
from review.lifecycle import TRANSITIONS
from review.services import gate_blockers, issue_clearance, resubmit, share_findings
from submissions import services
from submissions.models import AccessMethod
from tests.clearance.helpers import pdf_text

WEIGHTS = b"\x00safetensors-header" + b"\x07" * 40_000
WEIGHTS_SHA256 = hashlib.sha256(WEIGHTS).hexdigest()
OTHER_SHA256 = hashlib.sha256(b"what the company typed").hexdigest()


def weights_grant(case, liaison, version):
    return services.grant_access(
        case=case,
        actor=liaison,
        model_version=version,
        method=AccessMethod.WEIGHTS_UPLOAD,
        nda_reference="NDA-9",
        nda_signed_on=timezone.localdate(),
        valid_until=timezone.now() + dt.timedelta(days=30),
    )


def upload(grant, liaison, data=WEIGHTS, expected=WEIGHTS_SHA256):
    return services.upload_artifact(
        grant=grant,
        actor=liaison,
        file=SimpleUploadedFile("model.safetensors", data),
        original_name="model.safetensors",
        expected_sha256=expected,
    )


@pytest.fixture
def revising(case_at, cast):
    """A case whose findings are shared, with a revised version recorded and nothing more."""
    case = case_at("findings")
    version = services.add_version(
        case=case,
        actor=cast.liaison,
        label="v2.0",
        vcs_reference="git:v2",
        artifact_sha256=f"sha256:{WEIGHTS_SHA256.upper()}",
    )
    return case, version


# --- resubmission ------------------------------------------------------------------


def test_resubmission_without_the_revised_versions_own_access_is_refused(revising, cast):
    case, version = revising
    with pytest.raises(ActionRefused) as refused:
        resubmit(case=case, actor=cast.liaison)
    blockers = refused.value.blockers
    assert "No model access is recorded for version v2.0." in blockers
    assert any("describes an earlier version" in b and "v2.0" in b for b in blockers)
    case.refresh_from_db()
    assert case.status == "findings"


def test_access_granted_to_the_first_version_does_not_count_for_the_revision(revising, cast):
    case, version = revising
    first = case.versions.get(label="v1.0-rc1")
    assert first.access_grants.exists()  # the demo's endpoint grant
    services.carry_documentation_forward(version=version, actor=cast.liaison)
    assert gate_blockers(case, "resubmit") == ["No model access is recorded for version v2.0."]


def test_resubmission_waits_for_the_revised_weights_then_goes_ahead(revising, cast):
    case, version = revising
    grant = weights_grant(case, cast.liaison, version)
    services.carry_documentation_forward(version=version, actor=cast.liaison)
    assert gate_blockers(case, "resubmit") == [
        "The uploaded weights' checksum has not been verified for version v2.0."
    ]
    upload(grant, cast.liaison)
    assert gate_blockers(case, "resubmit") == []
    assert resubmit(case=case, actor=cast.liaison).status == "testing"
    verbs = list(case.events.values_list("verb", flat=True))
    assert "documentation_carried_forward" in verbs


def test_replacing_the_documents_for_the_revision_confirms_them_too(revising, cast):
    case, version = revising
    upload(weights_grant(case, cast.liaison, version), cast.liaison)
    assert any("describes an earlier version" in b for b in gate_blockers(case, "resubmit"))
    demo.provide_documents(case, cast.liaison, cast.manager)
    assert gate_blockers(case, "resubmit") == []


# --- the weights must be the declared ones ------------------------------------------


def test_weights_that_do_not_hash_to_the_declared_digest_are_refused(case_at, cast):
    case = case_at("access")
    version = services.add_version(
        case=case,
        actor=cast.liaison,
        label="v1.0-weights",
        vcs_reference="git:w",
        artifact_sha256=OTHER_SHA256,
    )
    grant = weights_grant(case, cast.liaison, version)
    # The company gives the real file's digest with the upload: still not the declared one.
    with pytest.raises(BadInput, match="not the digest version v1.0-weights declares"):
        upload(grant, cast.liaison)
    # It gives the declared digest with other bytes: the bytes are hashed and refused.
    with pytest.raises(BadInput, match="not the expected"):
        upload(grant, cast.liaison, expected=OTHER_SHA256)
    grant.refresh_from_db()
    assert not grant.checksum_verified and not grant.artifact and not grant.is_ready()


def test_weights_whose_version_digest_is_changed_afterwards_are_no_longer_usable(case_at, cast):
    case = case_at("findings")
    version = services.add_version(
        case=case,
        actor=cast.liaison,
        label="v2.0",
        vcs_reference="git:v2",
        artifact_sha256=WEIGHTS_SHA256,
    )
    grant = upload(weights_grant(case, cast.liaison, version), cast.liaison)
    assert grant.is_ready()
    services.update_version(
        version=version, actor=cast.liaison, data={"artifact_sha256": OTHER_SHA256}
    )
    grant.refresh_from_db()
    assert not grant.is_ready()
    services.carry_documentation_forward(version=version, actor=cast.liaison)
    assert any("hash to" in b for b in gate_blockers(case, "resubmit"))


def test_a_weights_upload_on_the_web_with_another_digest_says_why(case_at, cast, client):
    case = case_at("access")
    version = services.add_version(
        case=case, actor=cast.liaison, label="v1.1", vcs_reference="g", artifact_sha256=OTHER_SHA256
    )
    grant = weights_grant(case, cast.liaison, version)
    client.force_login(cast.liaison)
    response = client.post(
        reverse("submissions:artifact_upload", kwargs={"number": case.number, "pk": grant.pk}),
        {
            "expected_sha256": WEIGHTS_SHA256,
            "file": SimpleUploadedFile("model.safetensors", WEIGHTS),
        },
    )
    assert response.status_code == 400
    assert "not the digest version v1.1 declares" in response.content.decode()


def test_digests_are_stored_one_way_whatever_prefix_or_case_they_arrive_in(case_at, cast):
    case = case_at("intake")
    version = services.add_version(
        case=case,
        actor=cast.liaison,
        label="v9",
        vcs_reference="g",
        artifact_sha256=f"  SHA256:{WEIGHTS_SHA256.upper()} ",
        container_image=f"registry.example/atlas@SHA256:{WEIGHTS_SHA256.upper()}",
    )
    assert version.artifact_sha256 == WEIGHTS_SHA256
    assert version.container_image == f"registry.example/atlas@sha256:{WEIGHTS_SHA256}"
    assert version.digest == f"sha256:{WEIGHTS_SHA256}"


# --- clearance -------------------------------------------------------------------------


def _retested(case, cast, *, with_weights: bool, evaluate: bool = True):
    """Resubmit v2.0 (endpoint access only, or its weights), test it and resolve findings."""
    version = case.versions.get(label="v2.0")
    if with_weights:
        upload(weights_grant(case, cast.liaison, version), cast.liaison)
    else:
        demo.grant_access(case, cast.liaison, version=version)
    services.carry_documentation_forward(version=version, actor=cast.liaison)
    resubmit(case=case, actor=cast.liaison)
    if evaluate:
        demo.record_evaluation(case, cast.evaluator)
        share_findings(case=case, actor=cast.manager)
    demo.resolve_findings(case, cast.manager)
    case.refresh_from_db()
    return version


def test_clearance_may_not_name_a_version_other_than_the_one_under_test(revising, cast):
    case, version = revising
    _retested(case, cast, with_weights=True)
    first = case.versions.get(label="v1.0-rc1")
    with pytest.raises(ActionRefused) as refused:
        issue_clearance(case=case, actor=cast.official, version=first, scope="API")
    assert any("is not the version under test (v2.0)" in b for b in refused.value.blockers)


def test_clearance_is_refused_without_a_version_named(revising, cast):
    case, _ = revising
    _retested(case, cast, with_weights=True)
    with pytest.raises(ActionRefused, match="version is required"):
        issue_clearance(case=case, actor=cast.official, scope="API")


def test_clearance_names_only_a_version_with_an_evaluation_recorded(case_at, cast):
    """The revised version is back in testing with nothing run on it: nothing to clear."""
    case = case_at("findings")
    # The revised version goes back to testing but CAISI records nothing on it.
    services.add_version(
        case=case,
        actor=cast.liaison,
        label="v2.0",
        vcs_reference="g",
        artifact_sha256=WEIGHTS_SHA256,
    )
    _retested(case, cast, with_weights=True, evaluate=False)
    assert case.status == "testing"
    assert "No evaluation is recorded on version v2.0." in gate_blockers(case, "issue_clearance")
    form = ActionForm(transition=TRANSITIONS["issue_clearance"], case=case)
    assert list(form.fields["version"].queryset) == []


def test_the_action_form_offers_only_the_version_caisi_reached_and_tested(revising, cast):
    case, version = revising
    _retested(case, cast, with_weights=True)
    form = ActionForm(transition=TRANSITIONS["issue_clearance"], case=case)
    assert list(form.fields["version"].queryset) == [version]


def test_the_statement_certifies_the_digest_of_the_weights_caisi_received(
    revising, cast, client, statement_settings
):
    case, version = revising
    _retested(case, cast, with_weights=True)
    demo.clear(case, cast.official, scope="Atlas v2.0 behind the API.")
    statement = case.clearance_statements.get(status="issued")
    assert statement.digest == f"sha256:{WEIGHTS_SHA256}"
    assert statement.digest_verification == "received_weights"
    event = case.events.filter(verb="issue_clearance").order_by("seq").last()
    assert event.details["digest"] == statement.digest
    assert event.details["digest_verification"] == "received_weights"

    render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    text = pdf_text(statement.pdf.read())
    assert f"sha256:{WEIGHTS_SHA256}" in text
    assert "Verified by CAISI: SHA-256 computed on the weights CAISI received" in text

    cache.clear()
    page = client.get(reverse("verify", kwargs={"code": statement.verification_code}))
    body = page.content.decode()
    assert f"sha256:{WEIGHTS_SHA256}" in body
    assert "Verified by CAISI: SHA-256 computed on the weights CAISI received" in body


def test_an_endpoint_only_statement_says_the_digest_was_not_verified(
    revising, cast, client, statement_settings
):
    case, version = revising
    _retested(case, cast, with_weights=False)
    demo.clear(case, cast.official)
    statement = case.clearance_statements.get(status="issued")
    assert statement.digest == ""
    assert statement.declared_digest == f"sha256:{WEIGHTS_SHA256}"
    render_statement_pdf(statement_id=statement.pk)
    statement.refresh_from_db()
    text = pdf_text(statement.pdf.read())
    assert "Not verified by CAISI: CAISI reached the model through an API endpoint only" in text
    assert "as declared by the company; not verified by CAISI" in text
    cache.clear()
    body = client.get(reverse("verify", kwargs={"code": statement.verification_code})).content
    assert b"not verified by CAISI" in body
    assert b"API endpoint only" in body


def test_the_api_refuses_a_version_label_the_case_does_not_have(revising, cast, client):
    case, _ = revising
    _retested(case, cast, with_weights=True)
    _, raw = create_api_token(user=cast.official, name="t", read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/cases/{case.number}/actions/issue_clearance/"
    response = api.post(url, {"version": "v7", "scope": "API"}, format="json")
    assert response.status_code == 400, response.json()
    assert "no version with that label" in str(response.json())
