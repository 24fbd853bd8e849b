"""Where the schema and the server's behaviour must say the same thing."""

import datetime as dt
import re

import pytest

from findings import services as findings_services
from findings.models import Category
from review import services as review_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_resumable_uploads_stay_out_of_the_schema(schema):
    # They speak the tus protocol (tus.io, the README), which a generated client cannot.
    assert not [path for path in schema["paths"] if "/weights/uploads" in path]
    assert [path for path in schema["paths"] if path.endswith("/access/")]


def test_a_finding_may_cite_no_evaluation_and_always_says_which_it_cites(
    schema, case_at, cast, api_as
):
    components = schema["components"]["schemas"]
    sent, shown = components["FindingDraftRequest"], components["Finding"]
    assert "evaluation" not in sent["required"] and sent["properties"]["evaluation"]["nullable"]
    assert "evaluation" in shown["required"] and shown["properties"]["evaluation"]["nullable"]

    case = case_at("testing")
    review_services.assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    run = findings_services.record_evaluation_run(
        case=case, actor=cast.evaluator, category=Category.HALLUCINATION, title="QA", metrics={}
    )
    client, url = api_as("evaluator"), f"/api/v1/cases/{case.number}/findings/"
    draft = {"severity": "low", "title": "T", "description": "From a manual review."}
    uncited = client.post(url, {**draft, "category": "other"}, format="json")
    assert uncited.status_code == 201, uncited.content
    assert uncited.json()["evaluation"] is None
    cited = client.post(url, {**draft, "evaluation": run.pk}, format="json")
    assert cited.status_code == 201, cited.content
    assert cited.json()["evaluation"] == run.pk and cited.json()["category"] == "hallucination"
    listed = {f["id"]: f for f in client.get(url).json()}
    assert listed[uncited.json()["id"]]["evaluation"] is None
    assert listed[cited.json()["id"]]["evaluation"] == run.pk


RFC_3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_a_datetime_before_standard_time_is_still_written_as_rfc_3339(case_at, api_as):
    # New York's local mean time was 4:56:02 behind UTC: no offset RFC 3339 can write.
    case = case_at("access")
    answer = api_as("liaison").post(
        f"/api/v1/cases/{case.number}/access/",
        {
            "method": "api_endpoint",
            "endpoint_url": "https://models.example/v1",
            "valid_from": "0038-12-16T12:06:26+02:27",
            "valid_until": "2473-11-08T23:12:49Z",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert RFC_3339.match(body["valid_from"]) and RFC_3339.match(body["valid_until"])
    sent = dt.datetime.fromisoformat("0038-12-16T12:06:26+02:27")
    assert dt.datetime.fromisoformat(body["valid_from"].replace("Z", "+00:00")) == sent
    assert body["valid_until"].endswith("-05:00")  # the portal's own zone where it can be
