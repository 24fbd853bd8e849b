"""Confidentiality: who sees which case, and 404 everywhere else."""

import re

import pytest
from django.urls import reverse

from cases import services
from cases.models import Case
from review.lifecycle import Action
from tests.cases.helpers import the_cast


@pytest.fixture
def two_companies(case_at, cast):
    acme_case = case_at("findings", title="Acme review")
    globex_case = services.open_case(actor=cast.other_liaison, title="Globex", model_name="G")
    return acme_case, globex_case


def visible_numbers(user):
    return set(Case.objects.visible_to(user).values_list("number", flat=True))


def test_visible_to_for_the_whole_cast(two_companies, cast):
    acme_case, globex_case = two_companies
    # Globex's case is still an intake draft: Globex's alone until it is submitted.
    submitted = {acme_case.number}
    expected = {
        "liaison": {acme_case.number},
        "other_liaison": {globex_case.number},
        "manager": submitted,
        "official": submitted,
        "auditor": submitted,
        "evaluator": {acme_case.number},  # assigned on the way to findings
        "other_evaluator": set(),
    }
    for name, person in the_cast(cast).items():
        assert visible_numbers(person) == expected[name], name


def test_anonymous_and_inactive_users_see_nothing(two_companies, cast, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert visible_numbers(AnonymousUser()) == set()
    cast.manager.is_active = False
    cast.manager.save(update_fields=["is_active"])
    assert visible_numbers(cast.manager) == set()


def test_staff_without_a_role_sees_nothing(two_companies, django_user_model):
    nobody = django_user_model.objects.create_user(email="nobody@caisi.example", password="x")
    assert visible_numbers(nobody) == set()


def test_liaison_cannot_see_other_company_case(two_companies, cast, client):
    acme_case, _ = two_companies
    client.force_login(cast.other_liaison)
    assert client.get(acme_case.get_absolute_url()).status_code == 404
    dashboard = client.get(reverse("cases:dashboard")).content.decode()
    assert acme_case.number not in dashboard


def case_urls(case):
    yield case.get_absolute_url()
    yield reverse("cases:intake", kwargs={"number": case.number})
    for action in Action:
        yield reverse("cases:action", kwargs={"number": case.number, "action": action.value})


@pytest.mark.parametrize("outsider", ["other_liaison", "other_evaluator"])
def test_every_case_page_and_action_url_is_404_to_an_outsider(
    outsider, two_companies, cast, client
):
    acme_case, _ = two_companies
    client.force_login(the_cast(cast)[outsider])
    for url in case_urls(acme_case):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x", "scope": "x"}).status_code == 404, url
    acme_case.refresh_from_db()
    assert acme_case.status == "findings"


def test_unknown_case_number_is_the_same_404_as_a_hidden_one(two_companies, cast, client):
    acme_case, _ = two_companies
    client.force_login(cast.other_liaison)
    hidden = client.get(acme_case.get_absolute_url())
    missing = client.get(reverse("cases:detail", kwargs={"number": "CAISI-2026-9999"}))
    assert hidden.status_code == missing.status_code == 404
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub(b"", hidden.content) == token.sub(b"", missing.content)


def test_anonymous_visitor_is_sent_to_sign_in(two_companies, client):
    acme_case, _ = two_companies
    response = client.get(acme_case.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_internal_events_are_not_shown_to_the_company(case_at, cast, client):
    case = case_at("testing")
    services.record_event(
        case=case, actor=cast.manager, verb="internal_marker_zq7", details={}, internal=True
    )
    client.force_login(cast.liaison)
    assert "Internal marker zq7" not in client.get(case.get_absolute_url()).content.decode()
    client.force_login(cast.auditor)
    assert "Internal marker zq7" in client.get(case.get_absolute_url()).content.decode()
