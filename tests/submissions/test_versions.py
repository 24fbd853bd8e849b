"""Model versions: recorded by the company, frozen on submission, compared side by side."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import CaseEvent
from core.errors import ActionRefused
from review import demo
from review.services import submit_intake
from submissions import services
from submissions.models import ModelVersion
from tests.submissions.conftest import PDF

pytestmark = pytest.mark.django_db
DIGEST = "ab" * 32


def test_liaison_adds_a_version_through_the_page(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(
        reverse("submissions:version_new", kwargs={"number": case.number}),
        {
            "label": "v1.0-rc1",
            "vcs_reference": "a1b2c3d",
            "packaging": "container_image",
            "artifact_sha256": DIGEST,
            "container_image": "",
            "changelog": "First build.",
        },
    )
    assert response.status_code == 302
    version = case.versions.get()
    assert version.digest == f"sha256:{DIGEST}" and version.created_by == liaison
    assert CaseEvent.objects.filter(case=case, verb="version_added").exists()


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"artifact_sha256": "xyz"}, "64 hexadecimal"),
        ({"container_image": "registry.acme/atlas:latest"}, "pinned by digest"),
        ({"vcs_reference": " "}, "VCS reference"),
    ],
)
def test_bad_version_fields_are_refused_and_kept(client, liaison, case_at, fields, message):
    case = case_at("intake")
    client.force_login(liaison)
    data = {"label": "v-typed", "vcs_reference": "abc", "changelog": "typed changelog"}
    response = client.post(
        reverse("submissions:version_new", kwargs={"number": case.number}), {**data, **fields}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "typed changelog" in response.content.decode()
    assert not case.versions.exists()


def test_a_submitted_version_is_frozen_and_a_revision_is_a_new_row(liaison, case_at):
    case = case_at("triage")
    version = case.versions.get()
    assert version.is_frozen
    with pytest.raises(ActionRefused, match="frozen"):
        services.update_version(version=version, actor=liaison, data={"label": "changed"})
    version.refresh_from_db()
    assert version.label == "v1.0-rc1"
    revision = services.add_version(case=case, actor=liaison, label="v1.0-rc2", vcs_reference="f00")
    assert case.versions.count() == 2 and not revision.is_frozen


def test_an_unsubmitted_version_can_be_corrected(liaison, case_at):
    case = case_at("intake")
    version = services.add_version(case=case, actor=liaison, label="v1", vcs_reference="abc")
    services.update_version(version=version, actor=liaison, data={"artifact_sha256": DIGEST})
    version.refresh_from_db()
    assert version.artifact_sha256 == DIGEST
    submit_intake(case=demo.fill_intake(case, liaison), actor=liaison)
    version.refresh_from_db()
    assert version.is_frozen


def test_frozen_version_edit_page_is_refused(client, liaison, case_at):
    case = case_at("triage")
    client.force_login(liaison)
    url = reverse(
        "submissions:version_edit", kwargs={"number": case.number, "pk": case.versions.get().pk}
    )
    assert client.get(url).status_code == 403


def test_a_cleared_case_takes_a_revised_version(liaison, case_at):
    case = case_at("cleared")
    services.add_version(case=case, actor=liaison, label="v2", vcs_reference="beef")
    assert case.versions.filter(label="v2", submitted_at__isnull=True).exists()


def test_duplicate_label_is_refused(liaison, case_at):
    case = case_at("intake")
    services.add_version(case=case, actor=liaison, label="v1", vcs_reference="abc")
    with pytest.raises(services.BadInput, match="already recorded"):
        services.add_version(case=case, actor=liaison, label="v1", vcs_reference="abd")


def test_other_company_cannot_add_a_version(client, other_liaison, case_at):
    case = case_at("intake")
    client.force_login(other_liaison)
    url = reverse("submissions:version_new", kwargs={"number": case.number})
    assert client.post(url, {"label": "x", "vcs_reference": "y"}).status_code == 404
    assert not ModelVersion.objects.filter(case=case).exists()


def test_compare_shows_field_and_document_differences(client, liaison, manager, case_at):
    case = case_at("intake")
    v1 = services.add_version(
        case=case, actor=liaison, label="v1", vcs_reference="aaa", artifact_sha256=DIGEST
    )
    services.upload_document(
        case=case,
        actor=liaison,
        kind="deployment_plan",
        file=SimpleUploadedFile("plan.pdf", PDF),
        original_name="plan-v1.pdf",
        model_version=v1,
    )
    v2 = services.add_version(
        case=case, actor=liaison, label="v2", vcs_reference="bbb", artifact_sha256=DIGEST
    )
    services.upload_document(
        case=case,
        actor=liaison,
        kind="deployment_plan",
        file=SimpleUploadedFile("plan.pdf", PDF + b"%x\n"),
        original_name="plan-v2.pdf",
        model_version=v2,
    )
    case = demo.advance(
        case, "triage", {"liaison": liaison, "manager": manager}
    )  # staff see submitted cases
    client.force_login(manager)
    response = client.get(
        reverse("submissions:version_compare", kwargs={"number": case.number}),
        {"a": v1.pk, "b": v2.pk},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "aaa" in page and "bbb" in page
    assert "plan-v1.pdf" in page and "plan-v2.pdf" in page
    assert page.count('class="portal-row--differs"') >= 2  # VCS reference and the plan differ


def test_compare_is_a_404_for_an_unassigned_evaluator(client, evaluator, case_at):
    case = case_at("intake")
    client.force_login(evaluator)
    url = reverse("submissions:version_compare", kwargs={"number": case.number})
    assert client.get(url).status_code == 404


def test_no_version_is_added_after_withdrawal(client, liaison, case_at):
    from review.services import withdraw

    case = withdraw(case=case_at("intake"), actor=liaison)
    with pytest.raises(ActionRefused, match="withdrawn"):
        services.add_version(case=case, actor=liaison, label="late", vcs_reference="abc")
    client.force_login(liaison)
    url = reverse("submissions:version_new", kwargs={"number": case.number})
    assert client.post(url, {"label": "late", "vcs_reference": "abc"}).status_code == 403
    assert not case.versions.exists()
