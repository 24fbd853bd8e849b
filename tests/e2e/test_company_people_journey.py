"""A company's people in Chromium: a new company from its request for access to its first
submitted intake, and an administrator inviting a colleague who then signs in."""

import base64
import re

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import organizations
from accounts.models import AccessRequest, Membership, Organization, OrganizationAuditEntry
from cases.models import Case
from tests.conftest import fresh
from tests.factories import LiaisonFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-new-passphrase-2026"


def invitation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", message.body).group(1)


def accept_and_enrol(page, url: str, email: str, name: str) -> bytes:
    """Open the invitation link, choose a password, set up the authenticator; return its key."""
    page.goto(url)
    page.fill("input[name=email]", email)
    page.fill("input[name=full_name]", name)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("[data-testid=accept-invitation] button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/two-step/set-up/.*"))
    key = base64.b32decode(page.inner_text("[data-testid=mfa-key]").replace(" ", ""))
    page.fill("input[name=code]", f"{TOTP(key).token():06d}")
    page.click("[data-testid=mfa-enrol] button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/two-step/recovery-codes/.*"))
    page.click("text=Continue")
    page.wait_for_url(re.compile(r".*/$"))
    return key


def test_a_new_company_goes_from_request_for_access_to_its_first_submitted_intake(
    live_server, page, cast, sign_in, artifacts_dir
):
    # The company asks.
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("[data-testid=request-access-link] a")
    page.fill("input[name=organization_name]", "Initech Models")
    page.fill("input[name=contact_name]", "Peter Gibbons")
    page.fill("input[name=email]", "peter@initech.example")
    page.fill("textarea[name=reason]", "We plan to release Initech-7B in the spring.")
    page.screenshot(path=f"{artifacts_dir}/request-access.png", full_page=True)
    page.click("[data-testid=request-access] button[type=submit]")
    page.wait_for_selector("[data-testid=request-sent]")
    assert AccessRequest.objects.get().status == "waiting"

    # A case manager sees the task on the queue and approves.
    sign_in(page, cast.manager.email)
    page.goto(f"{live_server.url}/desk/")
    page.click("[data-testid=access-requests-task] a")
    page.click("[data-testid=approve] button[type=submit]")
    page.wait_for_selector("text=its first liaison is invited")
    page.click("button:has-text('Sign out')")
    (message,) = mail.outbox
    assert message.to == ["peter@initech.example"]

    # The liaison accepts, sets a password and a second factor, and opens the first case.
    accept_and_enrol(
        page, live_server.url + invitation_path(message), "peter@initech.example", "Peter Gibbons"
    )
    page.click("text=Open a new case")
    page.fill("input[name=title]", "Initech-7B pre-release review")
    page.fill("input[name=model_name]", "Initech-7B")
    page.click("button:has-text('Open the case')")
    page.wait_for_url(re.compile(r".*/cases/CAISI-\d{4}-\d{4,}/intake/$"))
    case_url = page.url.removesuffix("intake/")
    page.fill("textarea[name=description]", "A small assistant model.")
    page.fill("input[name=architecture]", "Decoder-only transformer")
    page.fill("input[name=modality]", "text")
    page.fill("input[name=parameter_count]", "7000000000")
    page.fill("input[name=training_compute]", "8e22 FLOP")
    page.fill("textarea[name=training_data_description]", "Licensed and public text to 2026-06.")
    page.fill("textarea[name=intended_uses]", "Office drafting through an API.")
    page.select_option("select[name=release_type]", "restricted_api")
    release = timezone.localdate().replace(year=timezone.localdate().year + 1)
    page.fill("input[name=planned_release_date]", release.isoformat())
    page.click("button[name=return]")
    page.wait_for_url(case_url)
    page.click("text=Add a version")
    page.fill("input[name=label]", "v1.0-rc1")
    page.fill("input[name=vcs_reference]", "4c1d2e3f")
    page.select_option("select[name=packaging]", "container_image")
    page.fill("input[name=container_image]", "registry.initech.example/i7b@sha256:" + "d" * 64)
    page.click("button:has-text('Save version')")
    page.wait_for_url(case_url)
    page.click("[data-testid=actions] >> text=Submit intake")
    page.click("button:has-text('Submit intake')")
    page.wait_for_url(case_url)
    page.screenshot(path=f"{artifacts_dir}/new-company-first-intake.png", full_page=True)

    organization = Organization.objects.get(name="Initech Models")
    case = Case.objects.get(organization=organization)
    assert case.status == "triage"
    liaison = Membership.objects.get(organization=organization)
    assert liaison.is_administrator and organization.point_of_contact_id == liaison.user_id


def test_an_administrator_invites_a_colleague_who_signs_in_with_a_second_factor(
    live_server, page, acme, liaison, case_at, sign_in, artifacts_dir
):
    case = case_at("intake", title="Atlas shared review")
    admin = LiaisonFactory(email="admin@acme.example", organization=acme)
    Membership.objects.filter(user=admin).update(is_administrator=True)
    admin = fresh(admin)

    sign_in(page, admin.email)
    page.click("text=Your company")
    page.fill("[data-testid=invite] input[name=email]", "colleague@acme.example")
    page.fill("[data-testid=invite] input[name=full_name]", "Cora Colleague")
    page.click("[data-testid=invite] button[type=submit]")
    page.wait_for_selector("text=Invitation sent to colleague@acme.example")
    page.screenshot(path=f"{artifacts_dir}/company-people.png", full_page=True)
    page.click("button:has-text('Sign out')")
    (message,) = mail.outbox

    key = accept_and_enrol(
        page, live_server.url + invitation_path(message), "colleague@acme.example", "Cora"
    )
    page.click("button:has-text('Sign out')")

    # Signing in again asks for the second factor, then shows the company's cases.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "colleague@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/two-step/.*"))
    # Within one 30-second step the enrolment's code would be refused as a replay, rightly;
    # the test forgets it, as the shared sign-in fixture does.
    TOTPDevice.objects.filter(user__email="colleague@acme.example").update(last_t=-1)
    page.fill("input[name=code]", f"{TOTP(key).token():06d}")
    page.click("[data-testid=mfa-verify] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert case.number in page.inner_text("main")
    actions = set(acme.audit_entries.values_list("action", flat=True))
    Action = OrganizationAuditEntry.Action
    assert {Action.INVITED, Action.INVITATION_ACCEPTED} <= actions
    assert organizations.people_of(acme).filter(user__email="colleague@acme.example").exists()
