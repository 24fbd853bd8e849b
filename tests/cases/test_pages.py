"""The case pages: dashboard, new case, intake, the case page with its actions and blockers."""

from django.urls import reverse

from cases.models import Case, CaseEvent


def test_liaison_opens_a_case_from_the_browser_form(cast, client):
    client.force_login(cast.liaison)
    response = client.post(reverse("cases:new"), {"title": "Atlas 4", "model_name": "Atlas"})
    case = Case.objects.get(title="Atlas 4")
    assert response.status_code == 302
    assert case.organization == cast.liaison.organization
    assert CaseEvent.objects.filter(case=case, verb="case_opened").count() == 1


def test_new_case_with_missing_title_is_a_400_that_keeps_what_was_typed(cast, client):
    client.force_login(cast.liaison)
    response = client.post(reverse("cases:new"), {"title": "", "model_name": "Kept model"})
    assert response.status_code == 400
    assert 'value="Kept model"' in response.content.decode()
    assert not Case.objects.exists()


def test_staff_cannot_open_a_case(cast, client):
    client.force_login(cast.manager)
    assert client.post(reverse("cases:new"), {"title": "X", "model_name": "Y"}).status_code == 403
    assert not Case.objects.exists()


def test_case_page_shows_stepper_timeline_and_blocked_action(case_at, cast, client):
    case = case_at("intake")
    client.force_login(cast.liaison)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'aria-current="step"' in page and "Prepare the model" in page
    assert "Case opened" in page
    assert "Submit intake" in page
    assert "The intake is missing the architecture." in page


def test_refused_action_shows_its_blockers_with_409(case_at, cast, client):
    case = case_at("intake")
    client.force_login(cast.liaison)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "submit_intake"})
    response = client.post(url)
    assert response.status_code == 409
    assert "The intake is missing the parameter count." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "intake"


def test_action_by_the_wrong_role_is_403(case_at, cast, client):
    case = case_at("triage")  # an auditor never sees a draft at all
    client.force_login(cast.auditor)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "withdraw"})
    assert client.post(url).status_code == 403


def test_unknown_action_is_404(case_at, cast, client):
    case = case_at("intake")
    client.force_login(cast.liaison)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "approve_everything"})
    assert client.get(url).status_code == 404


def test_manager_assigns_through_the_action_page(case_at, cast, client):
    case = case_at("triage")
    client.force_login(cast.manager)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "assign_case_manager"})
    assert client.post(url, {"manager": cast.manager.pk}).status_code == 302
    case.refresh_from_db()
    assert case.status == "access" and case.case_manager == cast.manager


def test_close_without_reason_is_400_and_changes_nothing(case_at, cast, client):
    case = case_at("triage")
    client.force_login(cast.manager)
    url = reverse("cases:action", kwargs={"number": case.number, "action": "close_case"})
    assert client.post(url, {"reason": ""}).status_code == 400
    case.refresh_from_db()
    assert case.status == "triage"


def test_dashboard_queries_do_not_grow_with_the_number_of_cases(
    cast, client, case_at, django_assert_max_num_queries
):
    client.force_login(cast.manager)
    for n in range(3):
        case_at("triage", title=f"Few {n}")
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("cases:dashboard"))
    for n in range(12):
        case_at("intake", title=f"Many {n}")
    with django_assert_max_num_queries(8) as many:
        client.get(reverse("cases:dashboard"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_case_page_offers_sharing_the_findings_to_the_case_manager_alone(client, cast, case_at):
    case = case_at("testing")
    share = reverse("cases:action", args=[case.number, "share_findings"])
    client.force_login(cast.manager)
    assert share in client.get(case.get_absolute_url()).content.decode()
    for person in (cast.liaison, cast.official, cast.auditor):
        client.force_login(person)
        assert share not in client.get(case.get_absolute_url()).content.decode()
