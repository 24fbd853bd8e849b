"""The documentation package (step 4): review, completeness, the model card check, the gate."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import ActionRefused
from review import demo
from review.services import accept_documentation, gate_blockers
from submissions import services
from submissions.modelcard import check_model_card
from submissions.models import DocumentState
from tests.submissions.conftest import MODEL_CARD, PDF

pytestmark = pytest.mark.django_db


def upload(case, liaison, kind, name="doc.pdf", content=PDF, **kw):
    return services.upload_document(
        case=case,
        actor=liaison,
        kind=kind,
        file=SimpleUploadedFile(name, content),
        original_name=name,
        **kw,
    )


def test_manager_asks_for_changes_and_the_company_sees_the_comment(
    client, liaison, manager, case_at
):
    case = case_at("documentation")
    doc = upload(case, liaison, "deployment_plan")
    client.force_login(manager)
    client.post(
        reverse("submissions:document_review", kwargs={"number": case.number, "pk": doc.pk}),
        {"decision": "changes", "comment": "Describe the content filters."},
    )
    doc.refresh_from_db()
    assert doc.state == DocumentState.CHANGES_REQUESTED
    client.force_login(liaison)
    assert "Describe the content filters." in client.get(case.get_absolute_url()).content.decode()


def test_asking_for_changes_needs_a_comment(liaison, manager, case_at):
    case = case_at("documentation")
    doc = upload(case, liaison, "deployment_plan")
    with pytest.raises(services.BadInput, match="comment"):
        services.review_document(document=doc, actor=manager, accept=False, comment=" ")
    doc.refresh_from_db()
    assert doc.state == DocumentState.SUBMITTED


def test_only_a_case_manager_reviews(liaison, evaluator, manager, case_at, client):
    case = case_at("documentation")
    doc = upload(case, liaison, "deployment_plan")
    with pytest.raises(services.NotAllowed):
        services.review_document(document=doc, actor=liaison, accept=True)
    client.force_login(liaison)
    url = reverse("submissions:document_review", kwargs={"number": case.number, "pk": doc.pk})
    assert client.post(url, {"decision": "accept"}).status_code == 403
    doc.refresh_from_db()
    assert doc.state == DocumentState.SUBMITTED


def test_safety_report_needs_its_type(liaison, case_at):
    case = case_at("documentation")
    with pytest.raises(services.BadInput, match="safety report covers"):
        upload(case, liaison, "safety_report")


def test_gate_lists_missing_and_unaccepted_kinds(liaison, case_at):
    case = case_at("documentation")
    upload(case, liaison, "deployment_plan")
    blockers = gate_blockers(case, "accept_documentation")
    assert "The model card is missing." in blockers
    assert "The deployment plan (version 1) is awaiting review." in blockers
    with pytest.raises(ActionRefused):
        accept_documentation(case=case, actor=case.case_manager)


def test_gate_reads_the_latest_version_of_each_kind(liaison, manager, case_at):
    case = case_at("documentation")
    demo.provide_documents(case, liaison, manager)
    assert gate_blockers(case, "accept_documentation") == []
    upload(case, liaison, "deployment_plan", content=PDF + b"%v2\n")
    assert gate_blockers(case, "accept_documentation") == [
        "The deployment plan (version 2) is awaiting review."
    ]


def test_complete_accepted_package_moves_the_case_to_testing(liaison, manager, case_at):
    case = case_at("documentation")
    demo.provide_documents(case, liaison, manager)
    assert accept_documentation(case=case, actor=manager).status == "testing"


def test_model_card_with_every_section_passes_the_check():
    assert check_model_card(MODEL_CARD.decode()).complete


def test_model_card_check_names_missing_sections():
    check = check_model_card("# Card\n\n## Uses\nChat.\n\n## Training data\nWeb.\n")
    assert "Out-of-scope uses" in check.missing
    assert "Evaluation" in check.missing
    assert "Intended uses" not in check.missing and "Training data" not in check.missing


def test_unparsable_model_card_gets_a_clear_message_not_a_500(client, liaison, case_at):
    case = case_at("documentation")
    broken = b"---\nlicense: [unclosed\n---\n# Card\n"
    doc = upload(case, liaison, "model_card", name="card.md", content=broken)
    assert "metadata block" in " ".join(doc.card_problems)
    client.force_login(liaison)
    page = client.get(case.get_absolute_url())
    assert page.status_code == 200
    assert "metadata block" in page.content.decode()


def test_missing_card_sections_show_on_the_completeness_panel(client, liaison, manager, case_at):
    case = case_at("documentation")
    upload(case, liaison, "model_card", name="card.md", content=b"# Card\n## Uses\nChat.\n")
    client.force_login(manager)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "The model card lacks:" in page and "Out-of-scope uses" in page


def test_completeness_panel_marks_present_accepted_and_missing(client, liaison, manager, case_at):
    case = case_at("documentation")
    doc = upload(case, liaison, "deployment_plan")
    services.review_document(document=doc, actor=manager, accept=True)
    upload(case, liaison, "risk_mitigation")
    client.force_login(liaison)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'data-testid="completeness-deployment_plan" data-state="accepted"' in page
    assert 'data-testid="completeness-risk_mitigation" data-state="submitted"' in page
    assert 'data-testid="completeness-model_card" data-state="missing"' in page


def test_document_list_is_a_404_for_an_unassigned_evaluator(client, evaluator, case_at):
    case = case_at("documentation")
    client.force_login(evaluator)
    url = reverse("submissions:documents", kwargs={"number": case.number})
    assert client.get(url).status_code == 404
