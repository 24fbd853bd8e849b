"""axe-core and the reflow check, run on a page the way the browser tests reach it.

axe.min.js is vendored next to this file by `make assets` (frontend/build.mjs,
npm's axe-core at the version in frontend/package-lock.json).
"""

import os
import re
from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
# Section 508 asks for WCAG 2.0 AA; agencies target 2.1 AA. Every impact counts.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 320)
HEIGHT = 900

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(
      (n) => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " ")),
  }));
}"""

SCROLL_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; return its WCAG 2.1 A/AA violations."""
    # Evaluated through the DevTools protocol, so the portal's CSP (no inline
    # script) stays as it is for the page itself.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


def check_page(page, artifacts_dir: str, name: str, problems: list[str]) -> None:
    """Check the page at 1280 and 320 px: axe, no sideways scrolling, and a screenshot of each.

    Problems are collected rather than raised, so one run of a walk reports every page.
    """
    original = page.viewport_size
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_timeout(50)  # a layout pass at the new width
        violations = axe_violations(page)
        if violations:
            problems.append(f"{name} at {width} px ({page.url}):\n{describe(violations)}")
        if width == 320:
            content, viewport = page.evaluate(SCROLL_WIDTH)
            if content > viewport:
                wide = page.evaluate(WIDEST_ELEMENTS)
                problems.append(
                    f"{name} at 320 px scrolls sideways: content {content} px wide. {wide}"
                )
        page.screenshot(
            path=os.path.join(artifacts_dir, f"a11y-{slug}-{width}.png"), full_page=True
        )
    page.set_viewport_size(original)


# The elements reaching past the viewport's right edge, to say what to fix.
WIDEST_ELEMENTS = """() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && !el.closest(".usa-table-container--scrollable")) {
      const classes = typeof el.className === "string" ? el.className.split(" ").join(".") : "";
      out.push(el.tagName.toLowerCase() + "." + classes + " right=" + Math.round(r.right));
    }
  }
  return out.slice(0, 6).join("; ");
}"""
