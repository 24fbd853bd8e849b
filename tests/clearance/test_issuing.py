"""Issuing clearance on the page: the version CAISI tested, structured scope and conditions,
a preview before signing, and a request that returns while the PDF is signed elsewhere."""

import pytest
from django.urls import reverse

from caisi_portal.celery import app
from cases.models import CaseEvent
from clearance.models import ClearanceStatement, Condition, Scope
from clearance.tasks import render_statement
from core.models import PendingTask
from review import demo

from .conftest import wait_for

SCOPE_NOTE = "Only behind the restricted API, rate-limited per customer."
OTHER_CONDITION = "Re-review before enabling fine-tuning access."


@pytest.fixture
def ready_case(case_at, cast):
    case = case_at("findings")
    demo.resolve_findings(case, cast.manager)
    return case


def issue_url(case) -> str:
    return reverse("cases:action", args=[case.number, "issue_clearance"])


def choices(case, **overrides) -> dict:
    data = {
        "version": case.versions.get().pk,
        "scope_items": [Scope.PUBLIC_API, Scope.HOSTED_PRODUCTS],
        "scope": SCOPE_NOTE,
        "condition_items": [Condition.INCIDENTS, Condition.MATERIAL_CHANGE],
        "conditions": OTHER_CONDITION,
    }
    data.update(overrides)
    return data


def test_form_offers_the_tested_version_and_the_scope_and_condition_choices(
    client, ready_case, cast
):
    client.force_login(cast.official)
    page = client.get(issue_url(ready_case)).content.decode()
    version = ready_case.versions.get()
    assert f'value="{version.pk}"' in page
    for choice in [*Scope, *Condition]:
        assert f'value="{choice.value}"' in page and choice.label.replace("'", "&#x27;") in page
    assert '<fieldset class="usa-fieldset' in page and '<legend class="usa-legend' in page
    assert 'name="step" value="preview"' in page


def test_a_version_caisi_did_not_evaluate_is_not_offered(client, ready_case, cast):
    # No evaluation recorded on the version: the gate's own definition refuses it.
    version = ready_case.versions.get()
    ready_case.findings.update(evaluation=None)
    version.evaluations.all().delete()
    client.force_login(cast.official)
    page = client.get(issue_url(ready_case)).content.decode()
    assert f'value="{version.pk}"' not in page
    response = client.post(issue_url(ready_case), {**choices(ready_case), "step": "preview"})
    assert response.status_code == 400
    assert not ClearanceStatement.objects.exists()


def test_preview_shows_the_statement_and_what_signing_does_and_creates_nothing(
    client, ready_case, cast
):
    client.force_login(cast.official)
    events = CaseEvent.objects.filter(case=ready_case).count()
    response = client.post(issue_url(ready_case), {**choices(ready_case), "step": "preview"})
    assert response.status_code == 200
    page = response.content.decode()
    preview = page[page.index('data-testid="statement-preview"') :]
    for shown in (
        Scope.PUBLIC_API.label.replace("'", "&#x27;"),
        Scope.HOSTED_PRODUCTS.label.replace("'", "&#x27;"),
        SCOPE_NOTE,
        Condition.INCIDENTS.label,
        Condition.MATERIAL_CHANGE.label,
        OTHER_CONDITION,
        ready_case.versions.get().label,
        f"{ready_case.number}-S1",
    ):
        assert shown in preview
    assert Scope.OPEN_WEIGHTS.label not in preview
    confirmation = page[page.index('data-testid="confirmation"') :]
    for heading in ("What will happen", "What becomes public", "What comes next"):
        assert heading in confirmation
    assert 'name="step" value="sign"' in page
    # The confirmation carries every choice on to the signing.
    assert f'name="scope_items" value="{Scope.PUBLIC_API}"' in page
    assert not ClearanceStatement.objects.exists()
    assert CaseEvent.objects.filter(case=ready_case).count() == events
    ready_case.refresh_from_db()
    assert ready_case.status == "findings"


def test_preview_without_a_scope_is_refused_keeping_what_was_typed(client, ready_case, cast):
    client.force_login(cast.official)
    response = client.post(
        issue_url(ready_case),
        {**choices(ready_case, scope_items=[], scope=""), "step": "preview"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "choose at least one scope" in page
    assert OTHER_CONDITION in page
    assert f'value="{Condition.INCIDENTS}" id="id_condition_items_1" checked' in page


def test_an_unknown_scope_choice_is_a_400(client, ready_case, cast):
    client.force_login(cast.official)
    response = client.post(
        issue_url(ready_case), {**choices(ready_case, scope_items=["everything"]), "step": "sign"}
    )
    assert response.status_code == 400
    assert not ClearanceStatement.objects.exists()


def test_change_the_choices_goes_back_to_the_form_keeping_them(client, ready_case, cast):
    client.force_login(cast.official)
    response = client.post(issue_url(ready_case), {**choices(ready_case), "step": "edit"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="issue-form"' in page and SCOPE_NOTE in page
    assert not ClearanceStatement.objects.exists()


def test_signing_creates_the_statement_being_signed_and_hands_the_pdf_to_a_worker(
    client, ready_case, cast, statement_settings
):
    client.force_login(cast.official)
    response = client.post(issue_url(ready_case), {**choices(ready_case), "step": "sign"})
    assert response.status_code == 302
    statement = ready_case.clearance_statements.get()
    assert statement.scope_items == [Scope.PUBLIC_API.label, Scope.HOSTED_PRODUCTS.label]
    assert statement.scope == SCOPE_NOTE
    assert statement.all_conditions == [
        Condition.INCIDENTS.label,
        Condition.MATERIAL_CHANGE.label,
        OTHER_CONDITION,
    ]
    # Nothing was signed in the request: the render is queued for a worker.
    assert statement.is_being_signed and not statement.pdf_sha256
    assert (
        PendingTask.objects.filter(
            task_name="clearance.tasks.render_statement", args=[statement.pk]
        ).exists()
        or not app.conf.task_always_eager
    )
    event = CaseEvent.objects.get(case=ready_case, verb="issue_clearance")
    assert event.details["scope_items"] == statement.scope_items
    assert event.details["condition_items"] == statement.condition_items
    page = client.get(ready_case.get_absolute_url()).content.decode()
    assert 'role="status" aria-live="polite"' in page
    assert reverse("statement_status", args=[ready_case.number, statement.number]) in page
    assert "js/statement-status.js" in page


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_the_request_returns_before_the_pdf_is_signed(
    client, ready_case, cast, statement_settings, monkeypatch
):
    # The embedded default runs tasks in-process; signing still happens after the answer.
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    client.force_login(cast.official)
    response = client.post(issue_url(ready_case), {**choices(ready_case), "step": "sign"})
    assert response.status_code == 302
    statement = ready_case.clearance_statements.get()
    assert not statement.pdf, "the request waited for the signing"

    def signed():
        statement.refresh_from_db()
        return statement.pdf_sha256

    wait_for(signed, timeout=60, message="the in-process signing never finished")
    fragment = client.get(
        reverse("statement_status", args=[ready_case.number, statement.number])
    ).content.decode()
    assert 'data-testid="download-pdf"' in fragment and "data-status-url" not in fragment


def test_status_region_while_being_signed_and_once_ready(client, case_at, cast, statement_settings):
    statement = case_at("cleared").clearance_statements.get()
    url = reverse("statement_status", args=[statement.case.number, statement.number])
    client.force_login(cast.liaison)
    pending = client.get(url)
    assert pending.status_code == 200
    assert "max-age=0" in pending["Cache-Control"]
    text = pending.content.decode()
    assert "Being signed" in text and f'data-status-url="{url}"' in text
    render_statement.apply(args=[statement.pk])
    ready = client.get(url).content.decode()
    assert 'data-testid="download-pdf"' in ready and "data-status-url" not in ready


def test_status_region_is_not_shown_to_another_company(client, case_at, cast):
    statement = case_at("cleared").clearance_statements.get()
    client.force_login(cast.other_liaison)
    url = reverse("statement_status", args=[statement.case.number, statement.number])
    assert client.get(url).status_code == 404


def test_a_failed_signing_is_visible_and_picked_up_again(
    client, case_at, cast, statement_settings, signing_identity, tmp_path
):
    statement = case_at("cleared").clearance_statements.get()
    statement_settings.CLEARANCE_SIGNING_KEY = str(tmp_path / "missing.key")
    render_statement.apply(args=[statement.pk])
    statement.refresh_from_db()
    assert statement.render_attempts == 1 and not statement.pdf
    url = reverse("statement_status", args=[statement.case.number, statement.number])
    client.force_login(cast.official)
    staff = client.get(url).content.decode()
    assert "Signing failed 1 time" in staff and "missing.key" in staff
    assert "data-status-url" in staff  # still refreshing
    client.force_login(cast.liaison)
    company = client.get(url).content.decode()
    assert "Signing failed 1 time" in company
    assert "missing.key" not in company  # the portal's paths are not the company's business
    # The statement stays pending, so the sweep hands it to a worker again.
    assert ClearanceStatement.objects.without_pdf().filter(pk=statement.pk).exists()
    statement_settings.CLEARANCE_SIGNING_KEY = str(signing_identity.key)
    render_statement.apply(args=[statement.pk])
    statement.refresh_from_db()
    assert statement.pdf_sha256
    assert 'data-testid="download-pdf"' in client.get(url).content.decode()


def api_client(user):
    from rest_framework.test import APIClient

    from accounts.services import create_api_token

    _, raw = create_api_token(user=user, name="issuing", read_only=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_pipeline_issues_with_structured_scope_and_conditions(ready_case, cast):
    url = f"/api/v1/cases/{ready_case.number}/actions/issue_clearance/"
    body = {
        "version": ready_case.versions.get().label,
        "scope_items": [Scope.PUBLIC_API],
        "condition_items": [Condition.SAFEGUARDS],
    }
    response = api_client(cast.official).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    statement = ready_case.clearance_statements.get()
    assert statement.scope_items == [Scope.PUBLIC_API.label]
    assert statement.condition_items == [Condition.SAFEGUARDS.label]


@pytest.mark.parametrize(
    "body",
    [
        {"scope_items": ["everything"]},
        {"scope_items": "public_api"},
        {"scope_items": [], "scope": ""},
    ],
)
def test_a_pipeline_sending_a_bad_scope_gets_a_400(ready_case, cast, body):
    url = f"/api/v1/cases/{ready_case.number}/actions/issue_clearance/"
    response = api_client(cast.official).post(
        url, {"version": ready_case.versions.get().label, **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert not ready_case.clearance_statements.exists()
