"""The deployment checklist: the company's answers, the summary and the gaps CAISI sees."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from cases.models import CaseEvent
from submissions import services
from submissions.checklist import GROUPS, PRACTICES
from submissions.models import ChecklistEntry
from tests.submissions.conftest import PDF

pytestmark = pytest.mark.django_db


def test_checklist_holds_the_four_groups_with_baseline_practices():
    assert [g.title for g in GROUPS] == [
        "Research and development",
        "Pre-deployment",
        "Post-deployment",
        "Societal impact",
    ]
    assert len(PRACTICES) == 22
    assert all(p.baseline for p in PRACTICES.values())


def test_liaison_answers_practices_with_evidence_and_a_note(client, liaison, case_at):
    case = case_at("documentation")
    doc = services.upload_document(
        case=case,
        actor=liaison,
        kind="safety_report",
        report_type="red_teaming",
        file=SimpleUploadedFile("rt.pdf", PDF),
        original_name="rt.pdf",
    )
    client.force_login(liaison)
    url = reverse("submissions:checklist", kwargs={"number": case.number})
    response = client.post(
        url,
        {
            "red_teaming-status": "implemented",
            "red_teaming-evidence": str(doc.pk),
            "monitoring-status": "planned",
            "monitoring-note": "Dashboards ship with GA.",
        },
    )
    assert response.status_code == 302
    entries = {e.practice: e for e in ChecklistEntry.objects.filter(case=case)}
    assert entries["red_teaming"].evidence_document == doc
    assert entries["monitoring"].note == "Dashboards ship with GA."
    assert CaseEvent.objects.filter(case=case, verb="checklist_updated").count() == 1


def test_manager_sees_the_summary_and_the_gaps(client, liaison, manager, case_at):
    case = case_at("documentation")
    services.record_checklist(
        case=case,
        actor=liaison,
        answers={
            "red_teaming": {"status": "implemented", "note": "See the safety report."},
            "monitoring": {"status": "planned"},
            "incident_reporting": {"status": "implemented"},
        },
    )
    client.force_login(manager)
    page = client.get(reverse("submissions:checklist", kwargs={"number": case.number}))
    text = page.content.decode()
    assert "3 of 22 answered" in text
    assert "Monitor the deployed model — Planned" in text
    assert "Report incidents — implemented, no evidence" in text
    assert "Red-team the model and share what is found —" not in text
    assert 'name="red_teaming-status"' not in text  # read-only for CAISI


def test_manager_cannot_post_answers(client, manager, case_at):
    case = case_at("documentation")
    client.force_login(manager)
    url = reverse("submissions:checklist", kwargs={"number": case.number})
    assert client.post(url, {"red_teaming-status": "implemented"}).status_code == 403
    assert not ChecklistEntry.objects.exists()


def test_evidence_from_another_case_is_refused(liaison, case_at):
    mine, other = case_at("documentation"), case_at("documentation", title="Other")
    doc = services.upload_document(
        case=other,
        actor=liaison,
        kind="other",
        file=SimpleUploadedFile("x.pdf", PDF),
        original_name="x.pdf",
    )
    with pytest.raises(services.BadInput, match="document of this case"):
        services.record_checklist(
            case=mine,
            actor=liaison,
            answers={"red_teaming": {"status": "implemented", "evidence_document": doc}},
        )


def test_an_unknown_status_is_refused_and_what_was_typed_is_kept(client, liaison, case_at):
    case = case_at("documentation")
    client.force_login(liaison)
    response = client.post(
        reverse("submissions:checklist", kwargs={"number": case.number}),
        {"red_teaming-status": "bogus", "monitoring-note": "typed note"},
    )
    assert response.status_code == 400
    assert "typed note" in response.content.decode()
    assert not ChecklistEntry.objects.exists()


def test_clearing_a_status_removes_the_answer(liaison, case_at):
    case = case_at("documentation")
    services.record_checklist(
        case=case, actor=liaison, answers={"monitoring": {"status": "planned"}}
    )
    services.record_checklist(case=case, actor=liaison, answers={"monitoring": {"status": ""}})
    assert not ChecklistEntry.objects.filter(case=case).exists()


def test_checklist_is_a_404_for_another_company(client, other_liaison, case_at):
    case = case_at("documentation")
    client.force_login(other_liaison)
    url = reverse("submissions:checklist", kwargs={"number": case.number})
    assert client.get(url).status_code == 404


# --- sections, labels, justification, and the documentation gate ----------------------


def checklist_url(case) -> str:
    return reverse("submissions:checklist", kwargs={"number": case.number})


def test_each_group_is_a_fieldset_and_each_status_is_labelled_by_its_practice(
    client, liaison, case_at
):
    case = case_at("documentation")
    client.force_login(liaison)
    body = client.get(checklist_url(case)).content.decode()
    for group in GROUPS:
        section = body.split(f'data-testid="checklist-section-{group.key}"')[1]
        section = section.split("</fieldset>")[0]
        assert f">{group.title}</legend>" in section
        assert f'name="section" value="{group.key}"' in section  # its own save button
        for practice in group.practices:
            label = f'for="id_{practice.key}-status">{escape(practice.title)}</label>'
            assert label in section
    assert ">Status</label>" not in body


def test_saving_a_section_saves_only_that_section(client, liaison, case_at):
    case = case_at("documentation")
    client.force_login(liaison)
    response = client.post(
        checklist_url(case),
        {
            "section": "research",
            "novel_risks-status": "implemented",
            "novel_risks-note": "Red-team programme.",
            "monitoring-status": "planned",  # Post-deployment: typed, not saved
            "monitoring-note": "Typed in another section.",
        },
    )
    assert set(ChecklistEntry.objects.values_list("practice", flat=True)) == {"novel_risks"}
    # What was typed elsewhere is still on the page, and the page says it is not saved.
    assert response.status_code == 200
    body = response.content.decode()
    assert "Not saved yet: your changes in “Post-deployment”" in body
    assert "Typed in another section." in body
    post = body.split('data-testid="checklist-section-post_deployment"')[1].split("</fieldset>")[0]
    assert 'data-testid="section-unsaved"' in post
    assert '<option value="planned" selected>' in post


def test_a_section_saved_with_nothing_else_typed_returns_to_it(client, liaison, case_at):
    case = case_at("documentation")
    client.force_login(liaison)
    response = client.post(
        checklist_url(case), {"section": "societal_impact", "human_rights-status": "partial"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#section-societal_impact")
    assert ChecklistEntry.objects.get().practice == "human_rights"


def test_an_unknown_section_is_a_400(client, liaison, case_at):
    case = case_at("documentation")
    client.force_login(liaison)
    assert client.post(checklist_url(case), {"section": "nope"}).status_code == 400
    assert not ChecklistEntry.objects.exists()


def test_not_applicable_needs_a_justification_on_the_page(client, liaison, case_at):
    case = case_at("documentation")
    client.force_login(liaison)
    response = client.post(
        checklist_url(case),
        {"section": "societal_impact", "synthetic_content-status": "not_applicable"},
    )
    assert response.status_code == 400
    assert "say in the note why it does not apply" in response.content.decode()
    assert not ChecklistEntry.objects.exists()
    client.post(
        checklist_url(case),
        {
            "section": "societal_impact",
            "synthetic_content-status": "not_applicable",
            "synthetic_content-note": "The model produces text only.",
        },
    )
    assert ChecklistEntry.objects.get().status == "not_applicable"


def test_the_service_and_the_api_refuse_an_unjustified_not_applicable(liaison, case_at):
    from rest_framework.test import APIClient

    from accounts.services import create_api_token

    case = case_at("documentation")
    with pytest.raises(services.BadInput, match="why it does not apply"):
        services.record_checklist(
            case=case,
            actor=liaison,
            answers={"synthetic_content": {"status": "not_applicable", "note": "  "}},
        )
    _, raw = create_api_token(user=liaison, name="t", read_only=False)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/cases/{case.number}/checklist/"
    refused = api.patch(
        url, {"answers": {"synthetic_content": {"status": "not_applicable"}}}, format="json"
    )
    assert refused.status_code == 400
    assert "why it does not apply" in refused.content.decode()
    assert not ChecklistEntry.objects.exists()
    answer = {"status": "not_applicable", "note": "Text only."}
    ok = api.patch(url, {"answers": {"synthetic_content": answer}}, format="json")
    assert ok.status_code == 200
    assert ChecklistEntry.objects.get().note == "Text only."


def test_the_documentation_gate_names_each_unanswered_section_and_links_to_it(
    client, liaison, manager, case_at
):
    from review import demo
    from review.services import gate_blockers

    case = case_at("documentation")
    demo.provide_documents(case, liaison, manager)
    answered = {"status": "implemented", "note": "Yes."}
    ChecklistEntry.objects.filter(case=case, practice__in=["monitoring", "human_rights"]).delete()
    blockers = gate_blockers(case, "accept_documentation")
    assert [str(b) for b in blockers] == [
        "The deployment checklist's “Post-deployment” section has 1 practice unanswered: "
        "Monitor the deployed model.",
        "The deployment checklist's “Societal impact” section has 1 practice unanswered: "
        "Do human rights due diligence.",
    ]
    assert blockers[0].url == checklist_url(case) + "#section-post_deployment"
    client.force_login(manager)
    page = client.get(case.get_absolute_url()).content.decode()
    gate = page.split('data-testid="blockers-accept_documentation"')[1].split("</ul>")[0]
    assert f'href="{checklist_url(case)}#section-societal_impact"' in gate
    services.record_checklist(
        case=case, actor=liaison, answers={"monitoring": answered, "human_rights": answered}
    )
    assert gate_blockers(case, "accept_documentation") == []
