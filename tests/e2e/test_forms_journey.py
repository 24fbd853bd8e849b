"""Forms that fit their users, in Chromium: the access form shows only the chosen method's
fields, checked with axe and for reflow in each state it reaches."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from submissions.models import AccessGrant, AccessMethod
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
