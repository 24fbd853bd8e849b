"""A draft finding can be corrected or deleted until it is shared, and not after."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import create_api_token
from core.errors import ActionRefused, BadInput, NotAllowed
from findings import services
from findings.forms import FindingForm
from findings.models import Category, Finding
from review import demo
from review.services import assign_evaluator, share_findings


@pytest.fixture
def testing_case(case_at, cast):
    case = case_at("testing")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    return case


def api_as(user) -> APIClient:
    _, raw = create_api_token(user=user, name="t", read_only=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_draft_is_edited_and_the_timeline_keeps_what_it_said(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    edited = services.edit_draft_finding(
        finding=finding, actor=cast.evaluator, data={"severity": "low", "title": "Narrower"}
    )
    assert (edited.severity, edited.title) == ("low", "Narrower")
    event = testing_case.events.get(verb="finding_edited")
    assert event.internal
    assert event.details["before"] == {
        "severity": "high",
        "title": "Role-play prompts bypass the refusal policy",
    }
    assert event.details["after"] == {"severity": "low", "title": "Narrower"}


def test_a_draft_is_deleted_and_the_timeline_keeps_it(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    services.delete_draft_finding(finding=finding, actor=cast.manager)
    assert not Finding.objects.filter(pk=finding.pk).exists()
    event = testing_case.events.get(verb="finding_deleted")
    assert event.internal and event.details["title"] == finding.title
    assert event.details["severity"] == "high"


def test_a_shared_finding_can_be_neither_edited_nor_deleted(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    with pytest.raises(ActionRefused, match="was shared"):
        services.edit_draft_finding(finding=finding, actor=cast.evaluator, data={"title": "x"})
    with pytest.raises(ActionRefused, match="was shared"):
        services.delete_draft_finding(finding=finding, actor=cast.evaluator)
    assert Finding.objects.get(pk=finding.pk).title == finding.title


def test_the_auditor_may_not_change_a_draft(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    with pytest.raises(NotAllowed):
        services.delete_draft_finding(finding=finding, actor=cast.auditor)


def test_severity_has_no_default_in_the_form_or_the_service(testing_case, cast):
    form = FindingForm(
        {"title": "T", "description": "D", "category": "other", "severity": ""},
        case=testing_case,
    )
    assert not form.is_valid() and "severity" in form.errors
    assert form.fields["severity"].choices[0] == ("", "Choose a severity…")
    with pytest.raises(BadInput, match="severity"):
        services.draft_finding(
            case=testing_case,
            actor=cast.evaluator,
            severity="",
            category="other",
            title="T",
            description="D",
        )


def test_the_category_follows_the_cited_evaluation_unless_chosen(testing_case, cast):
    run = services.record_evaluation_run(
        case=testing_case,
        actor=cast.evaluator,
        category=Category.HALLUCINATION,
        title="Citations",
        metrics={},
    )
    follows = services.draft_finding(
        case=testing_case,
        actor=cast.evaluator,
        severity="medium",
        category="",
        title="Invented citations",
        description="D",
        evaluation=run,
    )
    assert follows.category == Category.HALLUCINATION
    chosen = services.draft_finding(
        case=testing_case,
        actor=cast.evaluator,
        severity="medium",
        category=Category.OTHER,
        title="Other",
        description="D",
        evaluation=run,
    )
    assert chosen.category == Category.OTHER


def test_the_web_pages_edit_and_delete_a_draft(testing_case, cast, client):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    kwargs = {"number": testing_case.number, "pk": finding.pk}
    client.force_login(cast.evaluator)
    page = client.get(reverse("findings:finding", kwargs=kwargs)).content.decode()
    assert 'data-testid="draft-actions"' in page
    response = client.post(
        reverse("findings:finding_edit", kwargs=kwargs),
        {
            "title": "Edited on the page",
            "severity": "medium",
            "category": "",
            "description": "D",
            "evaluation": finding.evaluation_id,
            "sample_ids": "jb-017",
        },
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert (finding.title, finding.sample_ids) == ("Edited on the page", ["jb-017"])
    assert finding.category == finding.evaluation.category
    assert client.post(reverse("findings:finding_delete", kwargs=kwargs)).status_code == 302
    assert not Finding.objects.filter(pk=finding.pk).exists()


def test_the_company_cannot_reach_a_draft_to_edit_or_delete_it(testing_case, cast, client):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    kwargs = {"number": testing_case.number, "pk": finding.pk}
    client.force_login(cast.liaison)
    assert client.get(reverse("findings:finding_edit", kwargs=kwargs)).status_code == 404
    assert client.post(reverse("findings:finding_delete", kwargs=kwargs)).status_code == 404
    assert Finding.objects.filter(pk=finding.pk).exists()


# --- the API, with every role -----------------------------------------------------------

# PATCH and DELETE of a draft: who gets what. The company and the outsiders never
# learn the draft exists; the auditor and the official may read but not change it.
EXPECTED_WRITE = {
    "liaison": 404,
    "other_liaison": 404,
    "manager": 200,
    "evaluator": 200,
    "other_evaluator": 404,
    "official": 403,
    "auditor": 403,
}


@pytest.mark.parametrize("role", sorted(EXPECTED_WRITE))
def test_every_role_patching_and_deleting_a_draft_through_the_api(testing_case, cast, role):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/findings/{finding.pk}/"
    client = api_as(getattr(cast, role))
    patched = client.patch(url, {"severity": "low"}, format="json")
    assert patched.status_code == EXPECTED_WRITE[role], patched.json()
    deleted = client.delete(url)
    expected_delete = 204 if EXPECTED_WRITE[role] == 200 else EXPECTED_WRITE[role]
    assert deleted.status_code == expected_delete
    assert Finding.objects.filter(pk=finding.pk).exists() == (expected_delete != 204)


def test_the_api_refuses_to_change_a_shared_finding(testing_case, cast):
    finding = demo.record_evaluation(testing_case, cast.evaluator)
    share_findings(case=testing_case, actor=cast.manager)
    url = f"/api/v1/cases/{testing_case.number}/findings/{finding.pk}/"
    client = api_as(cast.evaluator)
    assert client.patch(url, {"title": "x"}, format="json").status_code == 409
    assert client.delete(url).status_code == 409
    assert client.get(url).json()["title"] == finding.title


def test_the_api_requires_a_severity_and_takes_the_evaluations_category(testing_case, cast):
    run = services.record_evaluation_run(
        case=testing_case,
        actor=cast.evaluator,
        category=Category.DEMOGRAPHIC_BIAS,
        title="Bias probe",
        metrics={},
    )
    client = api_as(cast.evaluator)
    url = f"/api/v1/cases/{testing_case.number}/findings/"
    body = {"title": "T", "description": "D", "evaluation": run.pk}
    assert client.post(url, body, format="json").status_code == 400
    created = client.post(url, {**body, "severity": "low"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["category"] == Category.DEMOGRAPHIC_BIAS
