"""After clearance through the API: the lifecycle actions and incidents, for every role."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import CaseEvent
from review import demo
from review.services import issue_clearance
from submissions.models import ModelVersion
from tests.cases.helpers import the_cast
from tests.incidents.helpers import incident_on, released

pytestmark = pytest.mark.django_db


def action_url(case, action: str) -> str:
    return f"/api/v1/cases/{case.number}/actions/{action}/"


def incidents_url(case) -> str:
    return f"/api/v1/cases/{case.number}/incidents/"


INCIDENT = {
    "summary": "Users shared a prompt that elicits malware code.",
    "severity": "critical",
    "affected_versions": "v1.0",
    "affected_uses": "Coding assistant",
    "users_affected": "Unknown, at least 40",
    "mitigations": "Prompt filter tightened.",
}


def incident_body(**changes) -> dict:
    detected = (timezone.now() - dt.timedelta(hours=5)).isoformat()
    return {**INCIDENT, "detected_at": detected, **changes}


def test_the_whole_after_clearance_path_through_the_api(case_at, cast, client_for):
    case = case_at("cleared")
    liaison, official = client_for(cast.liaison), client_for(cast.official)

    answer = liaison.post(
        action_url(case, "report_release"),
        {"release_date": timezone.localdate().isoformat(), "channel": "Public API"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["deployment_status"] == "released"

    reported = liaison.post(incidents_url(case), incident_body(), format="json")
    assert reported.status_code == 201, reported.json()
    assert reported.json()["number"] == 1
    assert reported["Location"].endswith(f"/cases/{case.number}/incidents/1/")

    suspended = official.post(
        action_url(case, "suspend_clearance"),
        {"reason": "Critical incident under review.", "incident": 1},
        format="json",
    )
    assert suspended.status_code == 200, suspended.json()
    detail = liaison.get(f"/api/v1/cases/{case.number}/").json()
    assert detail["clearance_statement"]["status"] == "suspended"
    assert [h["change"] for h in detail["clearance_statement"]["history"]] == [
        "issued",
        "suspended",
    ]

    reinstated = official.post(
        action_url(case, "reinstate_clearance"), {"reason": "Fix verified."}, format="json"
    )
    assert reinstated.status_code == 200
    retired = liaison.post(
        action_url(case, "retire_deployment"), {"reason": "Replaced by v2."}, format="json"
    )
    assert retired.status_code == 200
    assert retired.json()["deployment_status"] == "retired"
    status = liaison.get(f"/api/v1/cases/{case.number}/status/").json()
    assert (status["status"], status["deployment_status"]) == ("cleared", "retired")


def test_every_role_sees_or_is_refused_the_incidents_of_a_case(case_at, cast, client_for):
    case = released(case_at, cast)
    incident_on(case, cast.liaison)
    expected_list = {
        "liaison": 200,
        "other_liaison": 404,
        "manager": 200,
        "evaluator": 200,  # assigned while the case was tested
        "other_evaluator": 404,
        "official": 200,
        "auditor": 200,
    }
    expected_report = {
        "liaison": 201,
        "other_liaison": 404,
        "manager": 201,
        "evaluator": 201,
        "other_evaluator": 404,
        "official": 201,
        "auditor": 403,
    }
    for name, person in the_cast(cast).items():
        client = client_for(person)
        assert client.get(incidents_url(case)).status_code == expected_list[name], name
        assert client.get(f"{incidents_url(case)}1/").status_code == expected_list[name], name
        posted = client.post(incidents_url(case), incident_body(), format="json")
        assert posted.status_code == expected_report[name], (name, posted.json())


def test_triage_by_api_is_for_caisi_alone(case_at, cast, client_for):
    case = released(case_at, cast)
    incident_on(case, cast.liaison)
    url = f"{incidents_url(case)}1/triage/"
    body = {"state": "acknowledged"}
    expected = {
        "liaison": 403,
        "other_liaison": 404,
        "evaluator": 403,
        "other_evaluator": 404,
        "auditor": 403,
    }
    for name, status in expected.items():
        person = the_cast(cast)[name]
        assert client_for(person).post(url, body, format="json").status_code == status, name
    assert client_for(cast.manager).post(url, body, format="json").status_code == 200
    closing = client_for(cast.official).post(url, {"state": "closed"}, format="json")
    assert closing.status_code == 400
    assert "conclusion" in str(closing.json())


def test_the_company_files_updates_by_patch_and_cannot_rewrite_the_severity(
    case_at, cast, client_for
):
    case = released(case_at, cast)
    incident_on(case, cast.manager, severity="high")
    url = f"{incidents_url(case)}1/"
    liaison = client_for(cast.liaison)
    answer = liaison.patch(
        url, {"body": "Initial report.", "mitigations": "Filter on."}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["initial_report_at"] is not None
    assert answer.json()["mitigations"] == "Filter on."
    # Fields an update does not take are refused by name, not dropped in silence.
    answer = liaison.patch(url, {"body": "Lower it.", "severity": "low"}, format="json")
    assert answer.status_code == 400
    assert {e["field"] for e in answer.json()["errors"]} == {"severity"}
    assert liaison.get(url).json()["severity"] == "high"
    assert client_for(cast.manager).patch(url, {"body": "x"}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"severity": "apocalyptic"}, "severity"),
        ({"detected_at": "yesterday-ish"}, "detected_at"),
        ({"summary": ""}, "summary"),
        ({"summary": "a\x00b"}, "summary"),
        ({"summary": "x" * 10_001}, "summary"),
        ({"users_affected": "1" * 201}, "users_affected"),
    ],
)
def test_a_bad_incident_report_is_a_400_naming_the_field(case_at, cast, client_for, changes, field):
    case = released(case_at, cast)
    answer = client_for(cast.liaison).post(
        incidents_url(case), incident_body(**changes), format="json"
    )
    assert answer.status_code == 400
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert not case.incidents.exists()


def test_lifecycle_action_parameters_are_typed(case_at, cast, client_for):
    case = case_at("cleared")
    liaison = client_for(cast.liaison)
    before = CaseEvent.objects.filter(case=case).count()
    for body in (
        {"release_date": "not a date", "channel": "API"},
        {"release_date": timezone.localdate().isoformat(), "channel": "x" * 4001},
    ):
        answer = liaison.post(action_url(case, "report_release"), body, format="json")
        assert answer.status_code == 400, body
    answer = liaison.post(
        action_url(case, "report_release"),
        {"release_date": (timezone.localdate() + dt.timedelta(days=9)).isoformat(), "channel": "A"},
        format="json",
    )
    assert answer.status_code == 400
    assert "future" in str(answer.json())
    answer = client_for(cast.official).post(
        action_url(case, "suspend_clearance"), {"reason": "R.", "incident": "one"}, format="json"
    )
    assert answer.status_code == 400
    assert CaseEvent.objects.filter(case=case).count() == before


def test_every_after_clearance_action_by_a_wrong_role_is_refused_over_the_api(
    case_at, cast, client_for
):
    case = released(case_at, cast)
    refused = {
        "restrict_deployment": ["official", "auditor", "evaluator"],
        "suspend_clearance": ["liaison", "manager", "auditor", "evaluator"],
        "declare_material_change": ["manager", "official", "auditor"],
    }
    bodies = {
        "restrict_deployment": {"uses": "Enterprise only.", "reason": "Review."},
        "suspend_clearance": {"reason": "Review."},
        "declare_material_change": {"change": "Audio input."},
    }
    for action, names in refused.items():
        for name in names:
            person = the_cast(cast)[name]
            answer = client_for(person).post(
                action_url(case, action), bodies[action], format="json"
            )
            assert answer.status_code == 403, (action, name)  # not this role's to take
        other = client_for(cast.other_liaison).post(
            action_url(case, action), bodies[action], format="json"
        )
        assert other.status_code == 404


def test_monitoring_reports_are_filed_and_reviewed_through_the_api(case_at, cast, client_for):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="A.",
        monitoring_every_days=120,
    )
    listed = client_for(cast.liaison).get(f"/api/v1/cases/{case.number}/monitoring-reports/")
    assert listed.status_code == 200
    report = listed.json()[0]
    assert report["state"] == "due"
    filed = client_for(cast.liaison).post(
        f"/api/v1/cases/{case.number}/monitoring-reports/{report['id']}/file/",
        {"file": SimpleUploadedFile("q1.md", b"# Q1\n\nNo incident.\n")},
        format="multipart",
    )
    assert filed.status_code == 200, filed.json()
    assert filed.json()["state"] == "submitted"
    assert filed.json()["document"].endswith("/download/")
    review_url = f"/api/v1/cases/{case.number}/monitoring-reports/{report['id']}/review/"
    assert (
        client_for(cast.liaison).post(review_url, {"accept": True}, format="json").status_code
        == 403
    )
    other = client_for(cast.other_liaison).get(f"/api/v1/cases/{case.number}/monitoring-reports/")
    assert other.status_code == 404
    reviewed = client_for(cast.manager).post(review_url, {"accept": True}, format="json")
    assert reviewed.json()["state"] == "accepted"
