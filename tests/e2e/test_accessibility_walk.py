"""Every role's pages in Chromium, in the states they reach (empty, filled, with errors),
checked with axe-core (WCAG 2.1 A/AA, every impact) at 1280 and 320 px wide, and for
sideways scrolling at 320 px (WCAG 1.4.10). Screenshots go to the artifacts folder."""

import pytest
from django.urls import reverse

from clearance.models import ClearanceStatement, Condition, Scope
from findings.models import EvaluationRun, Finding
from review import demo
from review.services import assign_evaluator
from tests.conftest import confirmed_authenticator
from tests.e2e.accessibility import check_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def walk(page, base, artifacts_dir, pages) -> list[str]:
    """Open each (name, path) and check it; return every problem found."""
    problems: list[str] = []
    for name, path in pages:
        response = page.goto(base + path)
        assert response is not None and response.status < 500, (name, path)
        check_page(page, artifacts_dir, name, problems)
    return problems


def submit_empty(page, form_selector: str) -> None:
    """Send a form with its required fields left empty (the browser's own check is off)."""
    page.eval_on_selector(form_selector, "form => form.setAttribute('novalidate', '')")
    page.click(f"{form_selector} button[type=submit]")
    page.wait_for_load_state()


def test_anonymous_pages_pass_axe_and_reflow(page, live_server, artifacts_dir, case_at):
    case = case_at("cleared")
    statement = ClearanceStatement.objects.get(case=case)
    problems = walk(
        page,
        live_server.url,
        artifacts_dir,
        [
            ("sign-in", reverse("login")),
            ("password reset", reverse("password_reset")),
            ("accessibility statement", reverse("accessibility")),
            ("privacy notice", reverse("privacy")),
            ("public verification", reverse("verify", args=[statement.verification_code])),
            ("unknown verification code", reverse("verify", args=["no-such-code"])),
            ("not found", "/no/such/page/"),
        ],
    )
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "nobody@example.org")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    check_page(page, artifacts_dir, "sign-in with errors", problems)
    assert not problems, "\n\n".join(problems)


def test_liaison_pages_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    problems: list[str] = []
    # A company with no case yet: the empty dashboard.
    sign_in(page, cast.other_liaison.email)
    check_page(page, artifacts_dir, "liaison dashboard empty", problems)
    page.click("button:has-text('Sign out')")

    draft = case_at("intake", title="Draft review")
    testing = case_at("findings", title="Findings review")
    sign_in(page, cast.liaison.email)
    problems += walk(
        page,
        base,
        artifacts_dir,
        [
            ("liaison dashboard", reverse("cases:dashboard")),
            ("new case", reverse("cases:new")),
            ("intake form", reverse("cases:intake", args=[draft.number])),
            ("case page at intake", draft.get_absolute_url()),
            ("case page with findings", testing.get_absolute_url()),
            ("documents", reverse("submissions:documents", args=[testing.number])),
            ("document upload", reverse("submissions:document_upload", args=[testing.number])),
            ("new version", reverse("submissions:version_new", args=[testing.number])),
            ("new access grant", reverse("submissions:grant_new", args=[testing.number])),
            ("checklist", reverse("submissions:checklist", args=[testing.number])),
            ("notifications", reverse("notifications:notifications")),
            ("api tokens", reverse("accounts:api_tokens")),
            ("webhooks", reverse("webhooks:webhooks")),
            ("security settings", reverse("accounts:security")),
        ],
    )
    page.goto(base + reverse("cases:new"))
    submit_empty(page, "main form")
    check_page(page, artifacts_dir, "new case with errors", problems)
    assert not problems, "\n\n".join(problems)


def test_case_manager_pages_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    triage = case_at("triage", title="Triage review")
    testing = case_at("testing", title="Testing review")
    sign_in(page, cast.manager.email)
    problems = walk(
        page,
        base,
        artifacts_dir,
        [
            ("manager dashboard", reverse("cases:dashboard")),
            ("triage queue", reverse("cases:desk")),
            ("desk dashboard", reverse("cases:desk_dashboard")),
            ("conflicts", reverse("cases:conflicts")),
            ("case page in triage", triage.get_absolute_url()),
            ("case page in testing", testing.get_absolute_url()),
            ("assign evaluators", reverse("cases:evaluators", args=[testing.number])),
            ("share findings", reverse("cases:action", args=[testing.number, "share_findings"])),
            ("close case", reverse("cases:action", args=[testing.number, "close_case"])),
            ("documents to review", reverse("submissions:documents", args=[testing.number])),
        ],
    )
    page.goto(base + reverse("cases:action", args=[testing.number, "close_case"]))
    submit_empty(page, "main form")
    check_page(page, artifacts_dir, "close case with errors", problems)
    assert not problems, "\n\n".join(problems)


def test_evaluator_pages_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    case = case_at("testing", title="Evaluated review")
    assign_evaluator(case=case, actor=cast.manager, evaluator=cast.evaluator)
    demo.record_evaluation(case, cast.evaluator)
    run = EvaluationRun.objects.filter(case=case).first()
    finding = Finding.objects.filter(case=case).first()
    sign_in(page, cast.evaluator.email)
    problems = walk(
        page,
        base,
        artifacts_dir,
        [
            ("evaluator dashboard", reverse("cases:dashboard")),
            ("evaluator case page", case.get_absolute_url()),
            ("new evaluation", reverse("findings:evaluation_new", args=[case.number])),
            ("evaluation", reverse("findings:evaluation", args=[case.number, run.pk])),
            ("new finding", reverse("findings:finding_new", args=[case.number])),
            ("finding", reverse("findings:finding", args=[case.number, finding.pk])),
        ],
    )
    page.goto(base + reverse("findings:finding_new", args=[case.number]))
    submit_empty(page, "main form")
    check_page(page, artifacts_dir, "new finding with errors", problems)
    assert not problems, "\n\n".join(problems)


def test_official_and_auditor_pages_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    cleared = case_at("cleared", title="Cleared review")
    sign_in(page, cast.official.email)
    problems = walk(
        page,
        base,
        artifacts_dir,
        [
            ("official dashboard", reverse("cases:dashboard")),
            ("official case page cleared", cleared.get_absolute_url()),
            (
                "revoke clearance",
                reverse("cases:action", args=[cleared.number, "revoke_clearance"]),
            ),
        ],
    )
    page.click("nav button[type=submit]")
    sign_in(page, cast.auditor.email)
    problems += walk(
        page,
        base,
        artifacts_dir,
        [
            ("auditor dashboard", reverse("cases:dashboard")),
            ("auditor case page", cleared.get_absolute_url()),
            ("auditor desk dashboard", reverse("cases:desk_dashboard")),
        ],
    )
    assert not problems, "\n\n".join(problems)


def test_security_key_list_passes_axe_and_reflow(page, live_server, sign_in, cast, artifacts_dir):
    import os

    from django_otp_webauthn.models import WebAuthnCredential

    sign_in(page, cast.liaison.email)
    problems = walk(
        page, live_server.url, artifacts_dir, [("security keys none", "/me/security/keys/")]
    )
    for name in ("YubiKey 5C", "Laptop passkey"):
        WebAuthnCredential.objects.create(
            user=cast.liaison,
            name=name,
            confirmed=True,
            credential_id=os.urandom(32),
            public_key=b"cose",
        )
    problems += walk(
        page, live_server.url, artifacts_dir, [("security keys", "/me/security/keys/")]
    )
    assert page.locator("[data-testid=security-key-list] tbody tr").count() == 2
    assert not problems, "\n\n".join(problems)


# --- the second factor, incidents, version compare, checklist errors, issuing clearance --


def test_two_step_pages_pass_axe_and_reflow(page, live_server, cast, artifacts_dir):
    base = live_server.url
    problems: list[str] = []
    # Enrolment: a CAISI person with no authenticator yet is sent to set one up.
    page.goto(base + reverse("login"))
    page.fill("input[name=username]", cast.auditor.email)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/accounts/two-step/**")
    check_page(page, artifacts_dir, "two-step set-up", problems)
    page.fill("input[name=code]", "000000")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    check_page(page, artifacts_dir, "two-step set-up with errors", problems)
    page.click("[data-testid=sign-out]")

    # Verification: a person with an authenticator types its code, or a wrong one.
    confirmed_authenticator(cast.manager)
    page.goto(base + reverse("login"))
    page.fill("input[name=username]", cast.manager.email)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(base + reverse("accounts:mfa_verify") + "**")
    check_page(page, artifacts_dir, "two-step verification", problems)
    page.fill("input[name=code]", "000000")
    page.click("[data-testid=mfa-verify] button[type=submit]")
    page.wait_for_load_state()
    check_page(page, artifacts_dir, "two-step verification with errors", problems)
    assert not problems, "\n\n".join(problems)


def test_incident_pages_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    case = demo.after_clearance(case_at("intake", title="Released review"), "released", vars(cast))
    incident = case.incidents.get()
    report = case.monitoring_reports.order_by("sequence").first()
    sign_in(page, cast.liaison.email)
    problems = walk(
        page,
        base,
        artifacts_dir,
        [
            ("liaison case page after release", case.get_absolute_url()),
            ("new incident", reverse("incidents:new", args=[case.number])),
            ("incident", reverse("incidents:detail", args=[case.number, incident.number])),
            ("monitoring report", reverse("incidents:report_file", args=[case.number, report.pk])),
        ],
    )
    page.goto(base + reverse("incidents:new", args=[case.number]))
    submit_empty(page, "main form")
    check_page(page, artifacts_dir, "new incident with errors", problems)
    page.click("[data-testid=sign-out]")

    sign_in(page, cast.manager.email)
    problems += walk(
        page,
        base,
        artifacts_dir,
        [("incident for CAISI", reverse("incidents:detail", args=[case.number, incident.number]))],
    )
    assert not problems, "\n\n".join(problems)


def test_version_compare_and_checklist_with_errors_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    case = case_at("findings", title="Revised review")
    demo.revise(case, cast.liaison, label="v1.1")
    sign_in(page, cast.liaison.email)
    problems = walk(
        page,
        base,
        artifacts_dir,
        [("version compare", reverse("submissions:version_compare", args=[case.number]))],
    )
    page.goto(base + reverse("submissions:checklist", args=[case.number]))
    # A note pasted past its limit (the box's maxlength stops typing, not pasting by script).
    page.eval_on_selector(
        "main form textarea",
        "box => { box.removeAttribute('maxlength'); box.value = 'x'.repeat(4001); }",
    )
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("main").get_by_text("4000", exact=False).count() > 0
    check_page(page, artifacts_dir, "checklist with errors", problems)
    assert not problems, "\n\n".join(problems)


def test_clearance_issue_form_and_preview_pass_axe_and_reflow(
    page, live_server, sign_in, cast, case_at, artifacts_dir
):
    base = live_server.url
    case = case_at("findings", title="Ready review")
    demo.resolve_findings(case, cast.manager)
    issue = reverse("cases:action", args=[case.number, "issue_clearance"])
    sign_in(page, cast.official.email)
    problems = walk(page, base, artifacts_dir, [("issue clearance", issue)])
    page.eval_on_selector("main form", "form => form.setAttribute('novalidate', '')")
    page.click("button[name=step][value=preview]")
    page.wait_for_load_state()
    check_page(page, artifacts_dir, "issue clearance with errors", problems)
    page.click(f'label:has-text("{Scope.PUBLIC_API.label}")')
    page.fill("textarea[name=scope]", "Atlas v1.0-rc1 as deployed behind the public API.")
    page.click(f'label:has-text("{Condition.INCIDENTS.label}")')
    page.click("button[name=step][value=preview]")
    page.locator("[data-testid=statement-preview]").wait_for()
    check_page(page, artifacts_dir, "issue clearance preview", problems)
    assert not problems, "\n\n".join(problems)
