"""The triage queue, bulk assignment, evaluator assignment and the desk dashboard."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConflictOfInterest
from cases import services
from cases.models import Case, ClockPause
from core.errors import ActionRefused
from findings import services as findings_services
from review import demo
from review import services as review_services
from review.desk import dashboard_data
from review.services import assign_evaluator, close_case, submit_intake


def open_cases(cast, count):
    """Open and submit cases: the queue holds submitted cases, never intake drafts."""
    return [
        submit(cast.liaison, title=f"Review {i}", model_name=f"Orion-{i:02d}") for i in range(count)
    ]


def submit(liaison, *, days_to_release: int = 180, **fields):
    case = services.open_case(actor=liaison, **fields)
    case = demo.fill_intake(case, liaison, days_to_release=days_to_release)
    return submit_intake(case=case, actor=liaison)


def numbers_on(response):
    return [c.number for c in response.context["page"].object_list]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_queue_queries_do_not_grow_with_the_page_size(cast, client):
    cases = open_cases(cast, 30)
    for case in cases[:20]:
        assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
        services.pause_clock(case=case)
    client.force_login(cast.manager)
    small = count_queries(client, reverse("cases:desk") + "?per_page=10")
    large = count_queries(client, reverse("cases:desk") + "?per_page=100")
    assert small == large
    # Session, user, CAISI people, companies, count, page, unread notices, conflicts,
    # and the requests for access waiting on a case manager.
    assert large <= 9


def test_queue_search_finds_by_number_or_model_name(cast, client):
    cases = open_cases(cast, 3)
    client.force_login(cast.manager)
    by_model = client.get(reverse("cases:desk"), {"q": "orion-01"})
    assert numbers_on(by_model) == [cases[1].number]
    by_number = client.get(reverse("cases:desk"), {"q": cases[2].number})
    assert numbers_on(by_number) == [cases[2].number]


def test_queue_filters_by_status_company_manager_lead_time_and_overdue(case_at, cast, client):
    triage = case_at("triage", title="In triage")
    testing = case_at("testing", title="In testing")
    soon = submit(cast.other_liaison, title="Rushed", model_name="Nimbus", days_to_release=10)
    assign_evaluator(case=testing, actor=cast.manager, evaluator=cast.evaluator)
    request = findings_services.ask_clarification(
        case=testing,
        actor=cast.evaluator,
        question="Which weights?",
        due_date=timezone.localdate() + dt.timedelta(days=1),
    )
    type(request).objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=2)
    )
    client.force_login(cast.manager)
    url = reverse("cases:desk")
    assert set(numbers_on(client.get(url, {"status": "triage"}))) == {triage.number, soon.number}
    assert numbers_on(client.get(url, {"status": "testing"})) == [testing.number]
    assert numbers_on(client.get(url, {"organization": soon.organization_id})) == [soon.number]
    assert numbers_on(client.get(url, {"case_manager": cast.manager.pk})) == [testing.number]
    assert set(numbers_on(client.get(url, {"case_manager": "none"}))) == {
        triage.number,
        soon.number,
    }
    assert numbers_on(client.get(url, {"short_lead_time": "on"})) == [soon.number]
    overdue = client.get(url, {"overdue": "on"})
    assert numbers_on(overdue) == [testing.number]
    assert 'data-testid="overdue"' in overdue.content.decode()


def test_queue_sorts_by_urgency_release_first_then_longest_waiting(cast, client):
    today = timezone.localdate()
    late, early, undated_old, undated_new = open_cases(cast, 4)
    Case.objects.filter(pk__in=[undated_old.pk, undated_new.pk]).update(planned_release_date=None)
    Case.objects.filter(pk=late.pk).update(planned_release_date=today + dt.timedelta(days=200))
    Case.objects.filter(pk=early.pk).update(planned_release_date=today + dt.timedelta(days=30))
    now = timezone.now()
    Case.objects.filter(pk=undated_old.pk).update(status_changed_at=now - dt.timedelta(days=40))
    Case.objects.filter(pk=undated_new.pk).update(status_changed_at=now - dt.timedelta(days=5))
    client.force_login(cast.manager)
    ordered = numbers_on(client.get(reverse("cases:desk"), {"sort": "urgency"}))
    assert ordered == [early.number, late.number, undated_old.number, undated_new.number]


def test_a_paused_case_waits_less_than_its_calendar_age(cast, client):
    paused, running = open_cases(cast, 2)
    now = timezone.now()
    Case.objects.filter(pk__in=[paused.pk, running.pk]).update(
        status_changed_at=now - dt.timedelta(days=30)
    )
    Case.objects.filter(pk=running.pk).update(status_changed_at=now - dt.timedelta(days=20))
    services.pause_clock(case=paused, at=now - dt.timedelta(days=25))
    client.force_login(cast.manager)
    response = client.get(reverse("cases:desk"), {"sort": "waiting"})
    page = response.context["page"].object_list
    assert [c.number for c in page] == [running.number, paused.number]
    assert [c.days_waiting for c in page] == [20, 5]


def test_queue_is_paginated(cast, client):
    open_cases(cast, 12)
    client.force_login(cast.manager)
    first = client.get(reverse("cases:desk"), {"per_page": 10})
    second = client.get(reverse("cases:desk"), {"per_page": 10, "page": 2})
    assert len(numbers_on(first)) == 10 and len(numbers_on(second)) == 2
    assert not set(numbers_on(first)) & set(numbers_on(second))


def test_bad_filters_are_ignored_with_a_message_not_a_500(cast, client):
    open_cases(cast, 1)
    client.force_login(cast.manager)
    response = client.get(reverse("cases:desk"), {"per_page": "9999", "status": "nonsense"})
    assert response.status_code == 200
    assert "not understood" in response.content.decode()


def test_evaluator_desk_holds_only_assigned_cases(cast, client):
    mine, other = open_cases(cast, 2)
    assign_evaluator(case=mine, actor=cast.manager, evaluator=cast.evaluator)
    client.force_login(cast.evaluator)
    assert numbers_on(client.get(reverse("cases:desk"))) == [mine.number]
    assert dashboard_data(cast.evaluator)["open_total"] == 1
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(reverse("cases:evaluators", args=[other.number])).status_code == 404
    client.force_login(cast.other_evaluator)
    assert numbers_on(client.get(reverse("cases:desk"))) == []


def test_bulk_assignment_names_the_manager_and_reports_each_refusal(case_at, cast, client):
    first, second = case_at("triage", title="A"), case_at("triage", title="B")
    intake = services.open_case(actor=cast.liaison, title="C", model_name="Orion")
    client.force_login(cast.manager)
    response = client.post(
        reverse("cases:bulk_assign"),
        {"cases": [first.number, second.number, intake.number], "person": cast.manager.pk},
        follow=True,
    )
    body = response.content.decode()
    assert "assigned to 2 cases" in body
    assert f"{intake.number} not assigned" in body
    statuses = dict(Case.objects.values_list("number", "status"))
    assert statuses[first.number] == statuses[second.number] == "access"
    assert statuses[intake.number] == "intake"


def test_bulk_assignment_adds_an_evaluator_to_open_cases(cast, client):
    cases = open_cases(cast, 3)
    client.force_login(cast.manager)
    client.post(
        reverse("cases:bulk_assign"),
        {"cases": [c.number for c in cases], "person": cast.evaluator.pk},
    )
    assert Case.objects.filter(evaluators=cast.evaluator).count() == 3


@pytest.mark.parametrize("back", ["/\\evil.example", "//evil.example", "https://evil.example/"])
def test_bulk_assignment_never_sends_anyone_to_another_site(cast, client, back):
    case = open_cases(cast, 1)[0]
    client.force_login(cast.manager)
    response = client.post(
        reverse("cases:bulk_assign"),
        {"cases": [case.number], "person": cast.evaluator.pk, "next": back},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:desk")


def test_bulk_assignment_returns_to_the_filtered_queue(cast, client):
    case = open_cases(cast, 1)[0]
    client.force_login(cast.manager)
    back = reverse("cases:desk") + "?status=triage&per_page=50"
    response = client.post(
        reverse("cases:bulk_assign"),
        {"cases": [case.number], "person": cast.evaluator.pk, "next": back},
    )
    assert response["Location"] == back


def test_only_case_managers_assign_in_bulk(cast, client):
    case = open_cases(cast, 1)[0]
    client.force_login(cast.auditor)
    client.post(reverse("cases:bulk_assign"), {"cases": [case.number], "person": cast.evaluator.pk})
    assert not case.evaluators.exists()


def test_a_conflicted_evaluator_is_refused_with_the_reason(cast, client, acme):
    review_services.declare_conflict(
        actor=cast.evaluator, organization=acme, reason="Spouse works at Acme."
    )
    case = open_cases(cast, 1)[0]
    client.force_login(cast.manager)
    page = client.get(reverse("cases:evaluators", args=[case.number]))
    assert "Spouse works at Acme." in page.content.decode()
    refused = client.post(
        reverse("cases:evaluators", args=[case.number]), {"evaluator": cast.evaluator.pk}
    )
    assert refused.status_code == 409
    assert "declared a conflict of interest: Spouse works at Acme." in refused.content.decode()
    assert not case.evaluators.exists()
    done = client.post(
        reverse("cases:evaluators", args=[case.number]), {"evaluator": cast.other_evaluator.pk}
    )
    assert done.status_code == 302 and case.evaluators.get() == cast.other_evaluator


def test_a_conflicted_case_manager_is_refused_in_bulk_with_the_reason(case_at, cast, client, acme):
    review_services.declare_conflict(
        actor=cast.manager, organization=acme, reason="Former Acme employee."
    )
    case = case_at("triage")
    client.force_login(cast.manager)
    queue = client.get(reverse("cases:desk")).content.decode()
    assert "Former Acme employee." in queue
    response = client.post(
        reverse("cases:bulk_assign"),
        {"cases": [case.number], "person": cast.manager.pk},
        follow=True,
    )
    assert "Former Acme employee." in response.content.decode()
    case.refresh_from_db()
    assert case.case_manager is None and case.status == "triage"


def test_dashboard_counts_status_aging_findings_and_overdue(case_at, cast, client):
    testing = case_at("testing")
    assign_evaluator(case=testing, actor=cast.manager, evaluator=cast.evaluator)
    demo.record_evaluation(testing, cast.evaluator)
    open_cases(cast, 2)
    request = findings_services.ask_clarification(
        case=testing,
        actor=cast.manager,
        question="Q?",
        due_date=timezone.localdate() + dt.timedelta(days=1),
    )
    type(request).objects.filter(pk=request.pk).update(due_date=timezone.localdate())
    later = timezone.now() + dt.timedelta(days=2)
    data = dashboard_data(cast.manager, now=later)
    counts = dict(data["status_counts"])
    assert counts["Triage"] == 2 and counts["Testing"] == 1
    assert data["chart"]["aging"]["values"] == [3, 0, 0, 0]
    high = dict(data["findings_table"])["High"]
    assert high[0] == 1  # one draft
    assert [r.case for r in data["overdue"]] == [testing]
    client.force_login(cast.manager)
    page = client.get(reverse("cases:desk_dashboard")).content.decode()
    assert 'id="desk-chart-data"' in page and "chart.umd.min.js" in page
    assert "desk-dashboard.js" in page and "<script>" not in page


def test_dashboard_aging_buckets_agree_with_each_cases_own_count(cast):
    """The database counts the buckets; each must match `Case.days_in_status`."""
    now = timezone.now()
    cases = open_cases(cast, 8)
    ages = [0, 7, 8, 30, 31, 90, 91, 400]  # both sides of every bucket's edge
    for case, days in zip(cases, ages, strict=True):
        Case.objects.filter(pk=case.pk).update(
            status_changed_at=now - dt.timedelta(days=days, minutes=1)
        )
    # A pause on the company takes the 31-day case back under 31 days.
    paused = cases[4]
    ClockPause.objects.create(
        case=paused,
        reason="Waiting on the company",
        started_at=now - dt.timedelta(days=20),
        ended_at=now - dt.timedelta(days=18),
    )
    expected = [0, 0, 0, 0]
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        days = case.days_in_status(now)
        expected[0 if days <= 7 else 1 if days <= 30 else 2 if days <= 90 else 3] += 1
    data = dashboard_data(cast.manager, now=now)
    assert data["chart"]["aging"]["values"] == expected == [2, 3, 1, 2]
    assert data["open_total"] == 8
    assert [c.number for c, _ in data["longest_waiting"]][:2] == [cases[7].number, cases[6].number]


def test_intake_drafts_are_not_waiting_on_caisi(cast):
    draft = services.open_case(actor=cast.liaison, title="Draft", model_name="Draft-1")
    Case.objects.filter(pk=draft.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=60)
    )
    submitted = open_cases(cast, 1)[0]
    data = dashboard_data(cast.manager)
    assert [c for c, _ in data["longest_waiting"]] == [submitted]


def test_dashboard_queries_do_not_grow_with_the_number_of_cases(cast, client):
    client.force_login(cast.manager)
    open_cases(cast, 2)
    few = count_queries(client, reverse("cases:desk_dashboard"))
    open_cases(cast, 20)
    many = count_queries(client, reverse("cases:desk_dashboard"))
    assert few == many


@pytest.mark.parametrize("page", ["cases:desk", "cases:desk_dashboard"])
def test_desk_pages_read_no_company_for_staff(cast, client, page):
    # Staff act in their CAISI role: the header shows no company and reads none.
    client.force_login(cast.manager)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(page)).status_code == 200
    assert not [q for q in queries.captured_queries if "accounts_membership" in q["sql"]]


def test_staff_declare_conflicts_and_another_case_manager_ends_them(cast, client, acme, globex):
    client.force_login(cast.evaluator)
    url = reverse("cases:conflicts")
    bad = client.post(
        url,
        {
            "organization": acme.pk,
            "reason": "Advisor.",
            "valid_from": "2026-05-01",
            "valid_until": "2026-01-01",
        },
    )
    assert bad.status_code == 400 and "Advisor." in bad.content.decode()
    assert client.post(url, {"organization": acme.pk, "reason": "Advisor."}).status_code == 302
    conflict = ConflictOfInterest.objects.get(user=cast.evaluator)
    assert ConflictOfInterest.objects.active().filter(pk=conflict.pk).exists()
    end = reverse("cases:conflict_end", args=[conflict.pk])
    client.force_login(cast.other_evaluator)
    assert client.post(end, {"reason": "x"}).status_code == 403
    # Nobody ends their own conflict: another case manager does, with a reason.
    client.force_login(cast.evaluator)
    assert client.post(end, {"reason": "Advice ended."}).status_code == 403
    client.force_login(cast.manager)
    assert client.post(end, {"reason": "Advice ended in March."}).status_code == 302
    conflict.refresh_from_db()
    assert conflict.valid_until == timezone.localdate() and conflict.ended_by == cast.manager
    # Today is its last day; from tomorrow the evaluator may be assigned again.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert not ConflictOfInterest.objects.active(on=tomorrow).filter(pk=conflict.pk).exists()
    client.force_login(cast.liaison)
    assert client.get(url).status_code == 403


def test_a_future_or_expired_conflict_does_not_refuse(cast, acme):
    today = timezone.localdate()
    review_services.declare_conflict(
        actor=cast.evaluator,
        organization=acme,
        reason="Joining Acme next year.",
        valid_from=today + dt.timedelta(days=100),
    )
    review_services.declare_conflict(
        actor=cast.evaluator,
        organization=acme,
        reason="Consulted in 2024.",
        valid_from=today - dt.timedelta(days=700),
        valid_until=today - dt.timedelta(days=300),
    )
    case = open_cases(cast, 1)[0]
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    assert case.evaluators.get() == cast.evaluator


def test_only_staff_declare_conflicts(cast, acme):
    with pytest.raises(ActionRefused):
        review_services.declare_conflict(actor=cast.liaison, organization=acme, reason="x")


def test_requests_left_open_on_a_closed_case_are_not_overdue_items(case_at, cast):
    case = case_at("testing")
    request = findings_services.ask_clarification(
        case=case,
        actor=cast.manager,
        question="Q?",
        due_date=timezone.localdate() + dt.timedelta(days=1),
    )
    later = timezone.now() + dt.timedelta(days=5)
    assert [r.pk for r in dashboard_data(cast.manager, now=later)["overdue"]] == [request.pk]
    close_case(case=case, actor=cast.manager, reason="Company paused the release.")
    assert dashboard_data(cast.manager, now=later)["overdue"] == []


def test_queue_holds_submitted_cases_not_intake_drafts(cast, client):
    submitted = open_cases(cast, 1)[0]
    draft = services.open_case(actor=cast.liaison, title="Draft", model_name="Draft-01")
    client.force_login(cast.manager)
    url = reverse("cases:desk")
    for filters in ({}, {"status": "all"}, {"q": "Draft"}, {"case_manager": "none"}):
        assert draft.number not in numbers_on(client.get(url, filters)), filters
    assert numbers_on(client.get(url)) == [submitted.number]
    # Asking for drafts by name is a filter not understood, not a way round.
    response = client.get(url, {"status": "intake"})
    assert draft.number not in numbers_on(response)
    assert "not understood" in response.content.decode()
    assert draft.number not in response.content.decode()


def test_queue_filter_options_escape_company_names_and_mark_the_chosen_one(cast, client):
    from tests.factories import OrganizationFactory

    hostile = OrganizationFactory(name='<script>alert("x")</script> & Co', slug="hostile")
    client.force_login(cast.manager)
    page = client.get(reverse("cases:desk"), {"organization": hostile.pk}).content.decode()
    assert "<script>alert" not in page
    assert (
        f'<option value="{hostile.pk}" selected>'
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</option>"
    ) in page
