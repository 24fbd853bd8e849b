import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, ClockPause
from core.errors import ActionRefused
from findings import services
from findings.models import ClarificationRequest
from findings.selectors import with_overdue_request

Status = ClarificationRequest.RequestStatus


def ask(case, actor, days=7):
    return services.ask_clarification(
        case=case,
        actor=actor,
        question="Which system prompt ships with the API?",
        due_date=timezone.localdate() + dt.timedelta(days=days),
    )


def test_asking_pauses_the_clock_and_answering_resumes_it(testing_case, cast):
    request = ask(testing_case, cast.manager)
    assert ClockPause.objects.get(case=testing_case).ended_at is None
    services.answer_clarification(request=request, actor=cast.liaison, answer="The default one.")
    request.refresh_from_db()
    assert request.status == Status.ANSWERED and request.answered_by == cast.liaison
    assert ClockPause.objects.get(case=testing_case).ended_at is not None
    verbs = list(testing_case.events.values_list("verb", "internal"))
    assert ("clarification_requested", False) in verbs
    assert ("clarification_answered", False) in verbs


def test_two_open_requests_share_one_pause_until_both_are_settled(testing_case, cast):
    first, second = ask(testing_case, cast.manager), ask(testing_case, cast.evaluator)
    assert ClockPause.objects.filter(case=testing_case).count() == 1
    services.answer_clarification(request=first, actor=cast.liaison, answer="Yes.")
    assert ClockPause.objects.get(case=testing_case).ended_at is None
    services.close_clarification(request=second, actor=cast.manager, note="No longer needed.")
    assert ClockPause.objects.get(case=testing_case).ended_at is not None


def test_days_in_status_exclude_the_paused_time(testing_case):
    now = timezone.now()
    Case.objects.filter(pk=testing_case.pk).update(status_changed_at=now - dt.timedelta(days=20))
    # Paused 6 days inside the status, plus a pause that began before the status changed.
    ClockPause.objects.create(
        case=testing_case,
        started_at=now - dt.timedelta(days=25),
        ended_at=now - dt.timedelta(days=18),
    )
    ClockPause.objects.create(
        case=testing_case,
        started_at=now - dt.timedelta(days=10),
        ended_at=now - dt.timedelta(days=4),
    )
    ClockPause.objects.create(case=testing_case, started_at=now - dt.timedelta(days=1))
    case = Case.objects.get(pk=testing_case.pk)
    assert case.days_in_status(now) == 20 - 2 - 6 - 1
    annotated = Case.objects.with_clock(now).get(pk=testing_case.pk)
    assert annotated.paused_in_status == dt.timedelta(days=9)
    assert annotated.days_in_status(now) == 11
    assert annotated.clock_start == case.status_changed_at + dt.timedelta(days=9)


def test_a_status_change_restarts_the_clock_from_zero(testing_case, cast):
    ask(testing_case, cast.manager)
    case = Case.objects.with_clock().get(pk=testing_case.pk)
    assert case.days_in_status() == 0


def test_refusals_name_the_problem(testing_case, cast):
    with pytest.raises(ActionRefused, match="CAISI staff"):
        ask(testing_case, cast.liaison)
    with pytest.raises(ActionRefused, match="CAISI staff"):
        ask(testing_case, cast.auditor)
    with pytest.raises(ActionRefused, match="past"):
        ask(testing_case, cast.manager, days=-1)
    request = ask(testing_case, cast.manager)
    with pytest.raises(ActionRefused, match="liaison"):
        services.answer_clarification(request=request, actor=cast.manager, answer="x")
    with pytest.raises(ActionRefused, match="Write the answer"):
        services.answer_clarification(request=request, actor=cast.liaison, answer="  ")
    with pytest.raises(ActionRefused, match="case manager"):
        services.close_clarification(request=request, actor=cast.liaison)
    services.close_clarification(request=request, actor=cast.manager)
    with pytest.raises(ActionRefused, match="closed already"):
        services.answer_clarification(request=request, actor=cast.liaison, answer="late")


def test_overdue_requests_are_the_open_ones_past_their_due_date(testing_case, cast):
    request = ask(testing_case, cast.manager, days=1)
    ClarificationRequest.objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    request.refresh_from_db()
    assert request.is_overdue
    assert with_overdue_request(Case.objects.all()).get(pk=testing_case.pk).has_overdue_request
    services.answer_clarification(request=request, actor=cast.liaison, answer="Done.")
    assert not with_overdue_request(Case.objects.all()).get(pk=testing_case.pk).has_overdue_request


def test_liaison_answers_in_the_browser(testing_case, cast, client):
    request = ask(testing_case, cast.manager)
    client.force_login(cast.liaison)
    page = client.get(testing_case.get_absolute_url())
    assert b"clock paused" in page.content and b"Which system prompt" in page.content
    url = reverse(
        "findings:clarification_answer", kwargs={"number": testing_case.number, "pk": request.pk}
    )
    assert client.post(url, {"answer": ""}).status_code == 400
    assert client.post(url, {"answer": "The default prompt."}).status_code == 302
    request.refresh_from_db()
    assert request.answer == "The default prompt."
    client.force_login(cast.other_liaison)
    assert client.post(url, {"answer": "hijack"}).status_code == 404


def test_staff_ask_in_the_browser_and_a_past_date_keeps_the_question(testing_case, cast, client):
    client.force_login(cast.manager)
    url = reverse("findings:clarification_new", kwargs={"number": testing_case.number})
    response = client.post(url, {"question": "Which tokenizer?", "due_date": "2001-01-01"})
    assert response.status_code == 400
    assert "Which tokenizer?" in response.content.decode()
    assert "cannot be in the past" in response.content.decode()
