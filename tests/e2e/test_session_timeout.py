"""The warning before the idle timeout, and what was typed kept across a session that ends
(WCAG 2.2.1 Timing Adjustable).

The page's clock is Playwright's and the server's is moved with time-machine, so
minutes pass in an instant on both sides.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TYPED = "A dense transformer, typed just before a long phone call."


def test_the_warning_offers_to_stay_signed_in_and_staying_keeps_the_session(
    page, live_server, sign_in, cast, case_at, settings
):
    settings.SESSION_IDLE_MINUTES = 5
    draft = case_at("intake", title="Draft review")
    intake = live_server.url + reverse("cases:intake", args=[draft.number])
    page.clock.install()
    sign_in(page, cast.liaison.email)
    page.goto(intake)
    dialog = page.locator("#session-timeout")
    idle_seconds = int(dialog.get_attribute("data-idle-seconds"))
    assert 120 < idle_seconds <= 300
    assert not dialog.is_visible()

    # Two minutes before the end, the warning opens with the focus on "Stay signed in".
    page.clock.fast_forward(max(0, idle_seconds - 120) * 1000 + 1000)
    dialog.wait_for(state="visible")
    assert "about to end" in dialog.inner_text()
    assert page.evaluate("() => document.activeElement.hasAttribute('data-stay-signed-in')")
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")

    # The session is still there: the page loads again without asking to sign in.
    page.reload()
    assert page.url == intake
    assert page.locator("[data-testid=sign-out]").count() == 1


def test_a_session_that_ends_gives_back_what_was_typed_after_signing_in_again(
    page, live_server, sign_in, cast, case_at, settings
):
    settings.SESSION_IDLE_MINUTES = 5
    draft = case_at("intake", title="Draft review")
    intake = live_server.url + reverse("cases:intake", args=[draft.number])
    page.clock.install()
    sign_in(page, cast.liaison.email)
    page.goto(intake)
    page.fill("textarea[name=architecture], input[name=architecture]", TYPED)
    dialog = page.locator("#session-timeout")
    idle_seconds = int(dialog.get_attribute("data-idle-seconds"))

    # Nobody answers the warning: on both clocks the idle timeout passes.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6), tick=True):
        page.clock.fast_forward(max(0, idle_seconds - 120) * 1000 + 1000)
        dialog.wait_for(state="visible")
        with page.expect_navigation():
            page.clock.fast_forward(121 * 1000)
        page.wait_for_url(f"{live_server.url}{reverse('login')}**")
        assert "signed out" in page.locator("main").inner_text()
        draft.refresh_from_db()
        assert draft.architecture != TYPED  # nothing was sent

        sign_in(page, cast.liaison.email)
        page.goto(intake)
        field = page.locator("textarea[name=architecture], input[name=architecture]")
        assert field.input_value() == TYPED
        assert page.locator("[data-restored-draft]").is_visible()
