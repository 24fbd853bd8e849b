"""The keyboard focus indicator is visible and stands out: at least 3:1 against what it is
drawn on (WCAG 2.4.7, 1.4.11), for every link and button reached by Tab in the header,
the page's body and the footer."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The focused element's outline and the colour behind it: the outline is drawn outside
# the element (USWDS offsets it), so on the first ancestor with a background of its own.
FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const region = el.closest("header, .usa-banner") ? "header"
    : el.closest("footer, .usa-identifier") ? "footer"
    : el.closest("main") ? "body" : "other";
  let behind = parseFloat(style.outlineOffset) < 0 ? el : el.parentElement;
  let background = "rgb(255, 255, 255)";
  for (; behind; behind = behind.parentElement) {
    const colour = getComputedStyle(behind).backgroundColor;
    if (colour && colour !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(colour)) {
      background = colour;
      break;
    }
  }
  return {
    region,
    what: el.tagName.toLowerCase() + " " + (el.textContent || el.value || "").trim().slice(0, 40),
    interactive: el.matches("a[href], button, input[type=submit], input[type=button], summary"),
    outline: style.outlineColor,
    width: parseFloat(style.outlineWidth),
    style: style.outlineStyle,
    background,
  };
}"""


def rgb(css: str) -> tuple[float, float, float]:
    parts = css[css.index("(") + 1 : css.index(")")].replace("/", ",").split(",")
    return tuple(float(p) for p in parts[:3])


def luminance(colour: tuple[float, float, float]) -> float:
    """Relative luminance, as WCAG defines it."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(rgb(a)), luminance(rgb(b))), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_computed_as_wcag_says():
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert contrast("rgb(36, 145, 255)", "rgb(255, 255, 255)") == pytest.approx(3.2, abs=0.02)
    assert contrast("rgb(119, 119, 119)", "rgb(119, 119, 119)") == 1.0


def focus_rings(page, *, limit: int = 120) -> list[dict]:
    """Tab through the whole page once; return the focus ring of each link and button."""
    page.keyboard.press("Tab")
    page.evaluate("() => document.activeElement.setAttribute('data-first-focus', '')")
    rings = []
    for _ in range(limit):
        ring = page.evaluate(FOCUS_RING)
        if ring["interactive"]:
            rings.append(ring)
        page.keyboard.press("Tab")
        if page.evaluate(
            "() => document.activeElement === document.body"
            " || document.activeElement.hasAttribute('data-first-focus')"
        ):
            break
    return rings


@pytest.mark.parametrize("width", [1280, 320])
def test_the_focus_ring_stands_out_in_the_header_body_and_footer(
    page, live_server, sign_in, cast, case_at, width
):
    case = case_at("documentation")
    sign_in(page, cast.manager.email)
    page.set_viewport_size({"width": width, "height": 900})
    rings = []
    for path in (reverse("cases:desk"), reverse("cases:detail", args=[case.number])):
        page.goto(live_server.url + path)
        rings += focus_rings(page)
    regions = {ring["region"] for ring in rings}
    assert {"header", "body", "footer"} <= regions, regions
    weak = [
        f"{r['region']}: {r['what']!r} outline {r['outline']} on {r['background']} "
        f"({contrast(r['outline'], r['background']):.2f}:1, {r['style']} {r['width']}px)"
        for r in rings
        if r["style"] == "none" or r["width"] < 2 or contrast(r["outline"], r["background"]) < 3
    ]
    assert not weak, "\n".join(weak)
