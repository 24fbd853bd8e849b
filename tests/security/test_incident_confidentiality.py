"""Incidents are as confidential as the case; internal notes stay in."""

import pytest
from django.test import Client

from incidents import services
from review import demo
from review.services import issue_clearance
from submissions.models import ModelVersion
from tests.incidents.helpers import incident_on, released

pytestmark = pytest.mark.django_db

INTERNAL = "Internal: the company's filter is weaker than they claim."
SHARED = "Please send the affected prompt logs."


@pytest.fixture
def incident(case_at, cast):
    case = released(case_at, cast)
    found = incident_on(case, cast.liaison, summary="Atlas wrote working ransomware.")
    services.add_incident_note(incident=found, actor=cast.manager, body=INTERNAL, internal=True)
    services.add_incident_note(incident=found, actor=cast.manager, body=SHARED)
    return found


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages(incident) -> list[tuple[str, str]]:
    number = incident.case.number
    base = f"/cases/{number}/incidents/{incident.number}"
    return [
        ("get", f"{base}/"),
        ("get", f"/cases/{number}/incidents/new/"),
        ("post", f"{base}/update/"),
        ("post", f"{base}/triage/"),
        ("post", f"{base}/notes/"),
    ]


def test_another_company_gets_404_on_every_incident_page(incident, cast):
    client = signed_in(cast.other_liaison)
    for method, url in pages(incident):
        response = getattr(client, method)(url, {"body": "x", "state": "closed"})
        assert response.status_code == 404, url
        assert "ransomware" not in response.content.decode()


def test_an_unassigned_evaluator_gets_404_on_every_incident_page(incident, cast):
    client = signed_in(cast.other_evaluator)
    for method, url in pages(incident):
        assert getattr(client, method)(url, {"body": "x"}).status_code == 404, url


def test_the_company_never_reads_an_internal_note_on_page_or_api(incident, cast, api_as):
    case = incident.case
    page = signed_in(cast.liaison).get(f"/cases/{case.number}/incidents/1/").content.decode()
    assert SHARED in page and INTERNAL not in page
    case_page = signed_in(cast.liaison).get(f"/cases/{case.number}/").content.decode()
    assert INTERNAL not in case_page
    api = api_as(cast.liaison)
    for url in (
        f"/api/v1/cases/{case.number}/incidents/",
        f"/api/v1/cases/{case.number}/incidents/1/",
        f"/api/v1/cases/{case.number}/timeline/",
    ):
        body = api.get(url).content.decode()
        assert INTERNAL not in body, url
        assert "incident_internal_note_added" not in body, url
    assert SHARED in api.get(f"/api/v1/cases/{case.number}/incidents/1/").content.decode()


def test_caisi_staff_read_the_internal_note(incident, cast, api_as):
    case = incident.case
    for person in (cast.manager, cast.official, cast.auditor, cast.evaluator):
        body = api_as(person).get(f"/api/v1/cases/{case.number}/incidents/1/").content
        assert INTERNAL in body.decode()


def test_the_company_cannot_write_an_internal_note(incident, cast, api_as):
    answer = api_as(cast.liaison).post(
        f"/api/v1/cases/{incident.case.number}/incidents/1/notes/",
        {"body": "Hide this from ourselves.", "internal": True},
        format="json",
    )
    assert answer.status_code == 403
    assert not incident.notes.filter(body="Hide this from ourselves.").exists()
    # The page's form has no such box for the company; a forged one is ignored, not obeyed.
    signed_in(cast.liaison).post(
        f"/cases/{incident.case.number}/incidents/1/notes/",
        {"body": "Forged internal.", "internal": "on"},
    )
    assert not incident.notes.filter(internal=True, author=cast.liaison).exists()


def test_another_company_cannot_file_or_list_monitoring_reports(case_at, cast, api_as):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    case = issue_clearance(
        case=case,
        actor=cast.official,
        version=ModelVersion.objects.under_test(case),
        scope="A.",
        monitoring_every_days=90,
    )
    report = case.monitoring_reports.first()
    other = signed_in(cast.other_liaison)
    assert (
        other.get(f"/cases/{case.number}/monitoring-reports/{report.pk}/file/").status_code == 404
    )
    assert (
        api_as(cast.other_liaison)
        .get(f"/api/v1/cases/{case.number}/monitoring-reports/")
        .status_code
        == 404
    )


def test_an_incident_of_another_case_is_not_reached_through_this_one(case_at, cast, api_as):
    mine = released(case_at, cast, title="Mine")
    incident_on(mine, cast.liaison)
    theirs = released(case_at, cast, title="Second")
    # Same company, other case: the number is per case, so incident 1 of `theirs` is absent.
    answer = api_as(cast.liaison).get(f"/api/v1/cases/{theirs.number}/incidents/1/")
    assert answer.status_code == 404


def test_staff_choose_who_reads_an_incident_note(incident, cast):
    staff = signed_in(cast.manager)
    url = f"/cases/{incident.case.number}/incidents/1/notes/"
    assert staff.post(url, {"body": "Unchosen note."}).status_code == 400
    assert not incident.notes.filter(body="Unchosen note.").exists()
    staff.post(url, {"body": "Our note.", "internal": "internal"})
    staff.post(url, {"body": "Their note.", "internal": "shared"})
    assert incident.notes.get(body="Our note.").internal is True
    assert incident.notes.get(body="Their note.").internal is False
    page = staff.get(f"/cases/{incident.case.number}/incidents/1/").content.decode()
    assert page.count("Internal: CAISI only") == incident.notes.filter(internal=True).count()
