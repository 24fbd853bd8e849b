"""The desk's journey in Chromium: a submitted case triaged and assigned, an Inspect log
imported, a finding drafted and shared, the company's answer accepted, the gate clear."""

import os

import pytest
from django.urls import reverse

from cases.models import Case
from findings.models import EvaluationRun, Finding, FindingState
from review import demo
from tests.findings.conftest import write_inspect_log

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, f"desk-{name}.png"), full_page=True)


def sign_out(page):
    page.click("nav button[type=submit]")


def test_a_submitted_case_reaches_ready_for_clearance_through_the_desk(
    page, live_server, sign_in, case_at, cast, artifacts_dir, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = case_at("triage")
    base = live_server.url

    # A case manager finds the case on the queue and assigns it to themself.
    sign_in(page, cast.manager.email)
    page.goto(f"{base}{reverse('cases:desk')}?status=triage")
    row = page.locator(f"tr[data-case='{case.number}']")
    row.locator("input[name=cases]").check()
    page.select_option("select[name=person]", str(cast.manager.pk))
    shot(page, artifacts_dir, "1-queue")
    page.click("form[data-testid=bulk-assign] button[type=submit]")
    page.wait_for_selector("text=assigned to 1 case")
    case.refresh_from_db()
    assert case.status == "access" and case.case_manager == cast.manager

    # Access and documentation are the company's steps; here they arrive as data.
    demo.grant_access(case, cast.liaison)
    page.goto(f"{base}{reverse('cases:action', args=[case.number, 'verify_access'])}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}{case.get_absolute_url()}")
    demo.provide_documents(case, cast.liaison, cast.manager)
    page.goto(f"{base}{reverse('cases:action', args=[case.number, 'accept_documentation'])}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}{case.get_absolute_url()}")
    assert Case.objects.get(pk=case.pk).status == "testing"

    page.goto(f"{base}{reverse('cases:evaluators', args=[case.number])}")
    page.select_option("select[name=evaluator]", str(cast.evaluator.pk))
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=evaluators] >> text=" + str(cast.evaluator))
    sign_out(page)

    # The evaluator imports an Inspect log and drafts a finding from it.
    sign_in(page, cast.evaluator.email)
    page.goto(f"{base}{case.get_absolute_url()}")
    page.click("text=Import an Inspect log")
    log = write_inspect_log(tmp_path / "jailbreak.eval", accuracy=0.71)
    page.set_input_files("input[name=log]", str(log))
    page.select_option("select[name=category]", "adversarial_robustness")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=scores]")
    assert "0.71" in page.inner_text("[data-testid=scores]")
    shot(page, artifacts_dir, "2-inspect-import")
    run = EvaluationRun.objects.get(case=case)
    assert run.inspect_task == "jailbreak_suite"

    page.click("text=Draft a finding from this run")
    page.fill("input[name=title]", "Refusals fail under role-play framing")
    page.select_option("select[name=severity]", "high")
    page.select_option("select[name=category]", "adversarial_robustness")
    page.fill("textarea[name=description]", "29% of role-play prompts were answered.")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=finding-state]")
    finding = Finding.objects.get(case=case)
    assert finding.state == FindingState.DRAFT and finding.evaluation == run
    sign_out(page)

    # The manager shares the findings.
    sign_in(page, cast.manager.email)
    page.goto(f"{base}{case.get_absolute_url()}")
    shot(page, artifacts_dir, "3-testing-case")
    page.click("[data-testid=findings] >> text=Share the findings")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}{case.get_absolute_url()}")
    assert Case.objects.get(pk=case.pk).status == "findings"
    sign_out(page)

    # The liaison answers the finding.
    sign_in(page, cast.liaison.email)
    page.goto(f"{base}{case.get_absolute_url()}")
    page.click("[data-testid=findings] >> a:has-text('Refusals fail under role-play framing')")
    # USWDS draws its own radio over the real input: a person clicks the label.
    page.click("[data-testid=respond] label[for]:text-is('Mitigated')")
    assert page.is_checked("input[name=kind][value=mitigated]")
    page.fill("textarea[name=mitigation]", "A role-play classifier now screens every request.")
    shot(page, artifacts_dir, "4-liaison-answers")
    page.click("[data-testid=respond] button[type=submit]")
    page.wait_for_selector("text=Answer sent to CAISI.")
    sign_out(page)

    # The manager accepts the mitigation.
    sign_in(page, cast.manager.email)
    page.goto(f"{base}{finding.get_absolute_url()}")
    page.click("[data-testid=review] label[for]:text-is('Accepted')")
    assert page.is_checked("input[name=verdict][value=accepted]")
    page.click("[data-testid=review] button[type=submit]")
    page.wait_for_selector("text=Review recorded.")
    sign_out(page)

    # The official sees the gate clear.
    sign_in(page, cast.official.email)
    page.goto(f"{base}{case.get_absolute_url()}")
    page.wait_for_selector("[data-testid=gate-clear]")
    assert "ready for clearance" in page.inner_text("[data-testid=gate]")
    assert not page.locator("[data-testid=blockers-issue_clearance]").count()
    shot(page, artifacts_dir, "5-gate-clear")

    page.goto(f"{base}{reverse('cases:desk_dashboard')}")
    page.wait_for_function("document.querySelector('#chart-findings').width > 0")
    shot(page, artifacts_dir, "6-dashboard")


def test_the_gate_lists_blockers_with_links_in_the_browser(
    page, live_server, sign_in, case_at, cast, artifacts_dir
):
    case = case_at("findings")
    sign_in(page, cast.official.email)
    page.goto(f"{live_server.url}{case.get_absolute_url()}")
    blocker = page.locator("[data-testid=gate-blockers] a").first
    assert "awaits the company's answer" in blocker.inner_text()
    shot(page, artifacts_dir, "gate-blocked")
    blocker.click()
    page.wait_for_selector("[data-testid=finding-state]")
    assert "Role-play prompts bypass the refusal policy" in page.inner_text("h1")
