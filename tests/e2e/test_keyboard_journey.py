"""A liaison's way in and a first case with the keyboard alone (WCAG 2.1.1, 2.4.1, 3.3.1).

Tab, Shift+Tab, Enter, Space and typed text only: no click, no `fill`, no focus
set by the test. At a phone's width, so the menu button is part of the way.
"""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from cases.models import Case
from tests.conftest import confirmed_authenticator, current_totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUSED = r"""() => {
  const el = document.activeElement;
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute("name") || "",
    type: el.getAttribute("type") || "",
    text: (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 80),
    summary: el.hasAttribute("data-error-summary"),
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, wanted, *, limit: int = 60, key: str = "Tab") -> dict:
    """Press Tab until the focused element is the one `wanted` accepts; return it."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        element = focused(page)
        if wanted(element):
            return element
        seen.append(f"{element['tag']}#{element['id']}[{element['name']}] {element['text'][:30]}")
    raise AssertionError(f"Never reached by {key} in {limit} presses: {seen}")


def test_a_liaison_signs_in_and_opens_a_case_by_keyboard_alone(page, live_server, cast):
    liaison = cast.liaison
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("login"))

    # The sign-in page puts the focus in its first field.
    assert focused(page)["name"] == "username"
    page.keyboard.type(liaison.email)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type("demo-pass-2026")
    page.keyboard.press("Enter")
    if services.requires_second_factor(liaison):
        device = confirmed_authenticator(liaison)
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
        page.wait_for_url(f"{live_server.url}/accounts/two-step/**")
        tab_to(page, lambda f: f["name"] == "code")
        page.keyboard.type(current_totp_code(device))
        page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    # The first Tab on a page reaches the skip link; Enter moves the focus to the content.
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to main content", first
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main-content"

    # On a phone the navigation sits behind the menu button, back above the content.
    nav = page.locator("nav.usa-nav")
    assert not nav.is_visible()
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Menu", key="Shift+Tab")
    page.keyboard.press("Enter")
    nav.wait_for(state="visible")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "New case")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + reverse("cases:new"))

    # A name of spaces passes the browser's check and fails the portal's.
    tab_to(page, lambda f: f["name"] == "title")
    page.keyboard.type("Atlas 4 pre-release review")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "model_name"
    page.keyboard.type("   ")
    tab_to(
        page,
        lambda f: f["tag"] == "button" and f["type"] == "submit" and "Sign out" not in f["text"],
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The focus is on the error summary, which says what to fix.
    after_error = focused(page)
    assert after_error["summary"], after_error
    assert "model name" in after_error["text"].lower() or "required" in after_error["text"].lower()
    assert not Case.objects.filter(title="Atlas 4 pre-release review").exists()

    # Fixed and sent, with Space on the button this time.
    tab_to(page, lambda f: f["name"] == "model_name")
    page.keyboard.press("Control+A")
    page.keyboard.type("Atlas 4")
    tab_to(
        page,
        lambda f: f["tag"] == "button" and f["type"] == "submit" and "Sign out" not in f["text"],
    )
    page.keyboard.press("Space")
    case = None
    for _ in range(50):
        case = Case.objects.filter(title="Atlas 4 pre-release review").first()
        if case is not None:
            break
        page.wait_for_timeout(100)
    assert case is not None and case.model_name == "Atlas 4"
    page.wait_for_url(live_server.url + reverse("cases:intake", args=[case.number]))
    assert "opened" in page.locator("main").inner_text()
