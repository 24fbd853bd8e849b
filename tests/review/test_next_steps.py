"""An ended case, or one whose access the company revoked, says what the company can do next."""

import html

import pytest
from django.urls import reverse

from review.services import close_case, revoke_clearance, withdraw
from submissions import services as submissions_services

pytestmark = pytest.mark.django_db


def next_steps_of(client, case) -> str:
    body = client.get(case.get_absolute_url()).content.decode()
    actions = body.split('data-testid="actions"')[1].split("</section>")[0]
    assert 'data-testid="next-steps"' in actions, "the next steps sit in “What you can do now”"
    return html.unescape(actions.split('data-testid="next-steps"')[1])


@pytest.mark.parametrize(
    "end, words",
    [
        ("withdraw", "You withdrew this case"),
        ("close", "CAISI closed this case"),
        ("revoke", "CAISI revoked this case's clearance statement"),
    ],
)
def test_an_ended_case_offers_the_company_a_new_case_and_a_contact(
    case_at, cast, client, settings, end, words
):
    settings.CAISI_CONTACT_EMAIL = "reviews@caisi.example"
    if end == "withdraw":
        case = withdraw(case=case_at("access"), actor=cast.liaison, reason="Release moved.")
    elif end == "close":
        case = close_case(case=case_at("access"), actor=cast.manager, reason="No reply.")
    else:
        case = revoke_clearance(case=case_at("cleared"), actor=cast.official, reason="Misuse.")
    client.force_login(cast.liaison)
    shown = next_steps_of(client, case)
    assert words in shown
    assert "Reason given: " in shown
    assert f'href="{reverse("cases:new")}"' in shown and "Open a new case" in shown
    assert "mailto:reviews@caisi.example" in shown


def test_staff_are_not_shown_the_companys_next_steps(case_at, cast, client):
    case = withdraw(case=case_at("access"), actor=cast.liaison)
    client.force_login(cast.manager)
    assert 'data-testid="next-steps"' not in client.get(case.get_absolute_url()).content.decode()


def test_revoked_access_asks_the_company_to_grant_access_again(case_at, cast, client):
    case = case_at("testing")
    client.force_login(cast.liaison)
    assert 'data-testid="next-steps"' not in client.get(case.get_absolute_url()).content.decode()
    for grant in case.access_grants.all():
        submissions_services.revoke_access(
            grant=grant, actor=cast.liaison, reason="Rotating keys.", confirmed=True
        )
    shown = next_steps_of(client, case)
    assert "You revoked CAISI's access" in shown and "Rotating keys." in shown
    grant_new = reverse("submissions:grant_new", kwargs={"number": case.number})
    assert f'href="{grant_new}"' in shown and "Grant CAISI access again" in shown


def test_an_open_case_with_live_access_shows_no_next_steps(case_at, cast, client):
    case = case_at("findings")
    client.force_login(cast.liaison)
    assert 'data-testid="next-steps"' not in client.get(case.get_absolute_url()).content.decode()
