"""The intake (step 1): sections, drafts, nothing lost on errors, the lead-time warning."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from review import demo
from review.services import gate_blockers, submit_intake

pytestmark = pytest.mark.django_db


def intake_url(case):
    return reverse("cases:intake", kwargs={"number": case.number})


def base_fields(case, **overrides):
    return {"title": case.title, "model_name": case.model_name, **overrides}


def test_intake_is_shown_in_sections_with_the_packaging_of_the_version(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    page = client.get(intake_url(case)).content.decode()
    assert page.count('data-testid="intake-section"') == 3
    assert "Scale and training" in page and "Use and release" in page
    assert "The submitted version and its packaging" in page


def test_a_partial_draft_is_saved(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(intake_url(case), base_fields(case, architecture="MoE transformer"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.architecture == "MoE transformer"
    assert "The intake is missing the parameter count." in gate_blockers(case, "submit_intake")


def test_a_past_release_date_is_refused_and_everything_typed_is_kept(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    past = timezone.localdate() - dt.timedelta(days=3)
    response = client.post(
        intake_url(case),
        base_fields(
            case,
            architecture="typed architecture",
            training_data_description="typed training data",
            planned_release_date=past.isoformat(),
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be in the past" in page
    assert "typed architecture" in page and "typed training data" in page
    assert past.isoformat() in page
    case.refresh_from_db()
    assert case.architecture == "" and case.planned_release_date is None


def test_a_bad_parameter_count_keeps_the_other_fields(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(
        intake_url(case), base_fields(case, parameter_count="seventy billion", modality="text")
    )
    assert response.status_code == 400
    assert 'value="seventy billion"' in response.content.decode()
    assert 'value="text"' in response.content.decode()


def test_a_close_release_date_warns_and_flags_the_case_for_staff(
    client, liaison, manager, case_at, settings
):
    settings.REVIEW_LEAD_TIME_DAYS = 90
    case = case_at("intake")
    client.force_login(liaison)
    soon = timezone.localdate() + dt.timedelta(days=20)
    client.post(intake_url(case), base_fields(case, planned_release_date=soon.isoformat()))
    page = client.get(intake_url(case)).content.decode()
    assert 'data-testid="lead-time-warning"' in page and "20 days away" in page
    case.refresh_from_db()
    assert case.short_lead_time
    # Staff see it once submitted, never the draft.
    submit_intake(case=demo.fill_intake(case, liaison, days_to_release=20), actor=liaison)
    client.force_login(manager)
    assert "short lead time" in client.get(case.get_absolute_url()).content.decode()


def test_a_distant_release_date_does_not_warn(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    later = timezone.localdate() + dt.timedelta(days=200)
    client.post(intake_url(case), base_fields(case, planned_release_date=later.isoformat()))
    assert 'data-testid="lead-time-warning"' not in client.get(intake_url(case)).content.decode()


def test_the_warning_follows_what_was_typed_even_when_refused(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    soon = timezone.localdate() + dt.timedelta(days=10)
    response = client.post(
        intake_url(case),
        base_fields(case, planned_release_date=soon.isoformat(), parameter_count="lots"),
    )
    assert response.status_code == 400
    assert 'data-testid="lead-time-warning"' in response.content.decode()


def test_the_submit_gate_lists_every_missing_field(case_at):
    blockers = gate_blockers(case_at("intake"), "submit_intake")
    for label in (
        "architecture",
        "parameter count",
        "training compute",
        "training-data description",
        "intended uses",
        "release type",
        "planned release date",
    ):
        assert f"The intake is missing the {label}." in blockers
    assert any("No model version" in b for b in blockers)


def test_another_company_cannot_open_the_intake(client, other_liaison, case_at):
    case = case_at("intake")
    client.force_login(other_liaison)
    assert client.get(intake_url(case)).status_code == 404
    assert client.post(intake_url(case), base_fields(case, architecture="x")).status_code == 404


def test_adding_a_version_from_the_intake_saves_the_draft_first(client, liaison, case_at):
    case = case_at("intake")
    client.force_login(liaison)
    response = client.post(
        intake_url(case), base_fields(case, architecture="typed first", add_version="")
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/cases/{case.number}/versions/new/")
    case.refresh_from_db()
    assert case.architecture == "typed first"


def test_the_intake_cannot_be_edited_after_withdrawal(client, liaison, case_at):
    from review.services import withdraw

    case = withdraw(case=case_at("intake"), actor=liaison)
    client.force_login(liaison)
    assert client.post(intake_url(case), base_fields(case, architecture="x")).status_code == 403
    case.refresh_from_db()
    assert case.architecture == ""
