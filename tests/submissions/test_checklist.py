"""The deployment checklist: the company's answers, the summary and the gaps CAISI sees."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

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
