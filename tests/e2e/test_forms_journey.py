"""Forms that fit their users, in Chromium: the access form shows only the chosen method's
fields, the checklist saves a section at a time, a note's readers are chosen, and an ended
case says what comes next; each state checked with axe and for reflow."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from review.services import withdraw
from submissions.models import AccessGrant, AccessMethod, ChecklistEntry
from tests.e2e.accessibility import check_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shown_groups(page) -> list[str]:
    return page.eval_on_selector_all(
        "fieldset[data-access-method]",
        "groups => groups.filter(g => !g.hidden).map(g => g.dataset.accessMethod)",
    )


def test_the_access_form_shows_the_chosen_methods_fields_only(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    case = case_at("access")
    problems: list[str] = []
    sign_in(page, cast.liaison.email)
    page.goto(live_server.url + reverse("submissions:grant_new", args=[case.number]))
    assert shown_groups(page) == []  # nothing chosen yet, so no method's fields
    check_page(page, artifacts_dir, "access form, no method chosen", problems)

    api = page.locator("input[name=method][value=api_endpoint]")
    assert api.get_attribute("aria-controls") == "access-method-api_endpoint"
    api.check()
    assert shown_groups(page) == ["api_endpoint"]
    assert page.is_visible("input[name=api_url]")
    assert not page.is_visible("input[name=registry_url]")
    page.fill("input[name=api_url]", "https://eval.acme.example/v1")
    check_page(page, artifacts_dir, "access form, API endpoint chosen", problems)

    # A change of mind: the registry's fields replace the endpoint's.
    page.check("input[name=method][value=container_registry]")
    assert shown_groups(page) == ["container_registry"]
    assert not page.is_visible("input[name=api_url]")
    until = timezone.localtime() + dt.timedelta(days=30)
    page.fill("input[name=valid_until]", until.strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('Record access')")
    page.wait_for_load_state()
    # The registry's address is missing: the page says so and still shows only that group.
    assert "Give the https address of the container registry." in page.inner_text("main")
    assert shown_groups(page) == ["container_registry"]
    check_page(page, artifacts_dir, "access form with errors", problems)

    page.fill("input[name=registry_url]", "https://registry.acme.example")
    page.fill("textarea[name=registry_credentials]", "registry-token")
    page.click("button:has-text('Record access')")
    page.wait_for_url(live_server.url + case.get_absolute_url())
    grant = AccessGrant.objects.get(case=case)
    assert grant.method == AccessMethod.CONTAINER_REGISTRY
    assert grant.endpoint_url == "https://registry.acme.example"
    assert not problems, "\n\n".join(problems)


def test_the_checklist_saves_a_section_and_asks_why_a_practice_does_not_apply(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    case = case_at("documentation")
    problems: list[str] = []
    sign_in(page, cast.liaison.email)
    page.goto(live_server.url + reverse("submissions:checklist", args=[case.number]))
    # Each status is named by its practice, so it is found by the practice's words.
    page.get_by_label("Disclose synthetic content", exact=True).select_option("not_applicable")
    page.get_by_label("Do human rights due diligence", exact=True).select_option("partial")
    page.get_by_label("Monitor the deployed model", exact=True).select_option(
        "planned"
    )  # another section
    page.click("button:has-text('Save “Societal impact”')")
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "say in the note why it does not apply" in main
    assert not ChecklistEntry.objects.exists()
    check_page(page, artifacts_dir, "checklist with errors", problems)

    page.get_by_label("Note or justification for “Disclose synthetic content”").fill(
        "The model writes text only."
    )
    page.click("button:has-text('Save “Societal impact”')")
    page.wait_for_load_state()
    saved = dict(ChecklistEntry.objects.values_list("practice", "status"))
    assert saved == {"synthetic_content": "not_applicable", "human_rights": "partial"}
    # The other section's answer was typed but not saved: it is still there, and said so.
    assert "Not saved yet" in page.inner_text("main")
    assert page.get_by_label("Monitor the deployed model", exact=True).input_value() == "planned"
    check_page(page, artifacts_dir, "checklist with a section not saved", problems)
    assert not problems, "\n\n".join(problems)


def test_staff_choose_who_reads_a_note_and_an_ended_case_says_what_comes_next(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    case = case_at("triage")
    problems: list[str] = []
    sign_in(page, cast.manager.email)
    page.goto(live_server.url + reverse("findings:messages", args=[case.number]))
    page.fill("textarea[name=body]", "Their red-team looks thin.")
    page.click("main button:has-text('Post')")
    page.wait_for_load_state()
    assert "Choose who can read this" in page.inner_text("main")
    check_page(page, artifacts_dir, "message with no audience chosen", problems)
    page.get_by_label("Internal to CAISI").check()
    page.click("main button:has-text('Post')")
    page.wait_for_load_state()
    note = page.locator("[data-testid=message-internal]")
    assert "Internal: CAISI only" in note.inner_text()
    check_page(page, artifacts_dir, "thread with an internal note", problems)
    page.click("button:has-text('Sign out')")

    withdraw(case=case, actor=cast.liaison, reason="The release moved to next year.")
    sign_in(page, cast.liaison.email)
    page.goto(live_server.url + case.get_absolute_url())
    steps = page.inner_text("[data-testid=next-steps]")
    assert "You withdrew this case" in steps and "Open a new case" in steps
    check_page(page, artifacts_dir, "withdrawn case page with next steps", problems)
    assert not problems, "\n\n".join(problems)
