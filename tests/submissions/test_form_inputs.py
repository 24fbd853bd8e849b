"""Forms that read what people type: parameter counts as "70B", digests as "sha256:ABC…"."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.forms import IntakeForm
from cases.quantities import format_parameter_count
from submissions.forms import ArtifactUploadForm, ModelVersionForm
from tests.submissions.test_intake import base_fields, intake_url
from tests.submissions.test_uploads import artifact_url, weights_grant

pytestmark = pytest.mark.django_db

DIGEST = hashlib.sha256(b"weights").hexdigest()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("70B", 70_000_000_000),
        ("70b", 70_000_000_000),
        ("1.2T", 1_200_000_000_000),
        ("400000000000", 400_000_000_000),
        ("400,000,000,000", 400_000_000_000),
        (" 7.5 B ", 7_500_000_000),
        ("350M", 350_000_000),
    ],
)
def test_parameter_count_is_read_as_people_write_it(client, liaison, case_at, typed, stored):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(intake_url(case), base_fields(case, parameter_count=typed))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.parameter_count == stored


@pytest.mark.parametrize("typed", ["seventy billion", "1.5", "70Q", "-70B", "0.0000000001K"])
def test_a_count_that_means_no_whole_number_is_refused_and_kept(client, liaison, case_at, typed):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(
        intake_url(case), base_fields(case, parameter_count=typed, architecture="MoE")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "with K, M, B or T" in page and 'value="MoE"' in page
    case.refresh_from_db()
    assert case.parameter_count is None and case.architecture == ""


def test_a_count_too_large_to_record_is_a_400_not_a_500(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(intake_url(case), base_fields(case, parameter_count="99999999T"))
    assert response.status_code == 400
    assert "more parameters than the portal can record" in response.content.decode()


def test_a_saved_count_is_shown_short_on_the_form_and_the_case_page(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    client.post(intake_url(case), base_fields(case, parameter_count="400000000000"))
    assert 'value="400B"' in client.get(intake_url(case)).content.decode()
    assert "400B" in client.get(case.get_absolute_url()).content.decode()
    # Shown back, the short form reads to the same number.
    form = IntakeForm(base_fields(case, parameter_count="400B"), instance=case)
    assert form.is_valid() and form.cleaned_data["parameter_count"] == 400_000_000_000


@pytest.mark.parametrize(
    ("value", "shown"),
    [(70_000_000_000, "70B"), (1_200_000_000_000, "1.2T"), (7_241_732_096, "7,241,732,096")],
)
def test_counts_are_shown_short_only_when_exact(value, shown):
    assert format_parameter_count(value) == shown


@pytest.mark.parametrize(
    "typed", [DIGEST, DIGEST.upper(), f"sha256:{DIGEST}", f"SHA256:{DIGEST.upper()}", f" {DIGEST} "]
)
def test_version_digest_is_stored_one_way_however_it_is_typed(typed):
    form = ModelVersionForm(
        {
            "label": "v1",
            "vcs_reference": "abc123",
            "packaging": "weights_archive",
            "artifact_sha256": typed,
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["artifact_sha256"] == DIGEST


@pytest.mark.parametrize("typed", ["sha256:xyz", DIGEST[:-1], "md5:" + DIGEST])
def test_a_digest_that_is_no_sha256_is_refused_with_a_clear_message(typed):
    form = ArtifactUploadForm({"expected_sha256": typed}, {"file": SimpleUploadedFile("w", b"w")})
    assert not form.is_valid()
    assert "64 hexadecimal characters" in form.errors["expected_sha256"][0]


def test_the_weights_upload_prefills_the_versions_digest(liaison_client, liaison, case_at):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    page = liaison_client.get(artifact_url(case, grant)).content.decode()
    assert f'value="sha256:{DIGEST}"' in page


def test_weights_upload_accepts_a_prefixed_uppercase_digest(liaison_client, liaison, case_at):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    response = liaison_client.post(
        artifact_url(case, grant),
        {
            "expected_sha256": f"SHA256:{DIGEST.upper()}",
            "file": SimpleUploadedFile("model.safetensors", b"weights"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant.refresh_from_db()
    assert grant.checksum_verified and grant.artifact_sha256 == DIGEST
    assert reverse("cases:detail", args=[case.number]) == response["Location"]
