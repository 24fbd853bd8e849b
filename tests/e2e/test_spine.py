"""A liaison opens a case in the browser; the other company cannot reach it."""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_liaison_opens_a_case_and_other_company_gets_404(
    page, browser, live_server, sign_in, cast, artifacts_dir
):
    sign_in(page, cast.liaison.email)
    page.click("text=Open a new case")
    page.fill("input[name=title]", "Atlas 4 pre-release review")
    page.fill("input[name=model_name]", "Atlas 4")
    page.click("button:has-text('Open the case')")
    page.wait_for_url(re.compile(r".*/cases/CAISI-\d{4}-\d{4,}/intake/$"))
    number = re.search(r"CAISI-\d{4}-\d{4,}", page.url).group(0)

    page.goto(f"{live_server.url}/")
    row = page.locator("[data-testid=case-list] tr", has_text=number)
    assert row.count() == 1
    assert row.locator("[data-status=intake]").count() == 1
    page.screenshot(path=f"{artifacts_dir}/spine-dashboard.png", full_page=True)

    # The number shows in "Your tasks" too; the case opens from its row in the list.
    row.get_by_role("link", name=number).click()
    assert page.locator("[data-testid=case-number]").inner_text() == number
    page.screenshot(path=f"{artifacts_dir}/spine-case.png", full_page=True)

    other = browser.new_context().new_page()
    sign_in(other, cast.other_liaison.email)
    response = other.goto(f"{live_server.url}/cases/{number}/")
    assert response.status == 404
    assert "not shared with you" in other.content()
    assert number not in other.locator("main").inner_text()
    other.screenshot(path=f"{artifacts_dir}/spine-other-company-404.png")
    other.context.close()
