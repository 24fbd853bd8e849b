"""After clearance in Chromium: the liaison reports the release and an incident, the official
suspends the clearance, the public page says suspended, the official reinstates it, and the
liaison retires the model."""

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def take_action(page, case_url: str, label: str, fields: dict[str, str]) -> None:
    page.goto(case_url)
    page.click(f"[data-testid=actions] >> text={label}")
    for selector, value in fields.items():
        if selector.startswith("select"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click("main form button[type=submit]")
    page.wait_for_url(case_url)
    assert f"{label}: done." in page.content()


def test_incident_suspension_verification_and_reinstatement(
    browser, live_server, sign_in, cast, case_at, artifacts_dir
):
    case = case_at("cleared")
    statement = case.clearance_statements.get()
    case_url = f"{live_server.url}/cases/{case.number}/"
    verify_url = f"{live_server.url}/verify/{statement.verification_code}/"

    liaison = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(liaison, cast.liaison.email)
    take_action(
        liaison,
        case_url,
        "Report the release",
        {
            "input[name=release_date]": timezone.localdate().isoformat(),
            "textarea[name=channel]": "Public API",
        },
    )
    assert "released" in liaison.locator("[data-testid=deployment-badge]").inner_text().lower()

    liaison.click("[data-testid=report-incident]")
    liaison.fill("textarea[name=summary]", "A role-play prompt elicits malware on the public API.")
    liaison.fill("input[name=detected_at]", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    liaison.select_option("select[name=severity]", "critical")
    liaison.fill("textarea[name=mitigations]", "The prompt pattern is filtered.")
    liaison.click("main form button[type=submit]")
    liaison.wait_for_url(f"{case_url}incidents/1/")
    assert "Incident 1 reported to CAISI." in liaison.content()
    liaison.screenshot(path=f"{artifacts_dir}/after-incident.png", full_page=True)

    official = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(official, cast.official.email)
    take_action(
        official,
        case_url,
        "Suspend the clearance",
        {"textarea[name=reason]": "Critical incident under review.", "select[name=incident]": "1"},
    )

    public = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    public.goto(verify_url)
    status = public.locator("[data-testid=verification-status]").inner_text()
    assert "Suspended" in status and "Valid" not in status
    assert "Critical incident under review." not in public.content()
    public.screenshot(path=f"{artifacts_dir}/after-verify-suspended.png", full_page=True)

    take_action(
        official,
        case_url,
        "Reinstate the clearance",
        {"textarea[name=reason]": "The filter was verified on the evaluation tenant."},
    )
    public.goto(verify_url)
    assert "Valid" in public.locator("[data-testid=verification-status]").inner_text()
    history = public.locator("[data-testid=history]").inner_text()
    assert "Suspended" in history and "Reinstated" in history

    take_action(
        liaison, case_url, "Retire the model", {"textarea[name=reason]": "Replaced by Atlas 4."}
    )
    assert "retired" in liaison.locator("[data-testid=deployment-badge]").inner_text().lower()
    public.goto(verify_url)
    assert "Retired" in public.locator("[data-testid=deployment]").inner_text()
    public.screenshot(path=f"{artifacts_dir}/after-verify-retired.png", full_page=True)
