"""axe-core on the main learner and instructor pages: no serious or critical violation of WCAG 2.0, 2.1 or
2.2 (A and AA) or of axe's best practices.

axe-core is vendored in tests/vendor/axe-core (nothing is fetched at test time) and injected into each page.
The site's CSP allows only its own nonce'd scripts, so this test, and only this one, browses in a context
that bypasses CSP. Minor and moderate findings are printed but do not fail the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium
from tests.web.tour import tour

AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING = {"serious", "critical"}


def run_axe(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text())
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                          summary: (n.failureSummary || "").split("\\n").slice(0, 3).join(" "),
                                          // e.g. the other landmark with the same name
                                          related: [...n.any, ...n.all, ...n.none].flatMap(c => c.relatedNodes || [])
                                                   .map(r => r.target.join(" ")).slice(0, 3)})),
            }));
        }""",
        TAGS,
    )


# The focused element's ring (its outline, and the inner ring a box-shadow draws) and the colour around it.
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const rgb = (c) => { const [r, g, b, a = 1] = (c.match(/[\\d.]+/g) || []).map(Number); return a > 0.5 ? [r, g, b] : null; };
    const background = (start) => { for (let a = start; a; a = a.parentElement) {
        const c = rgb(getComputedStyle(a).backgroundColor); if (c) return c; } return [255, 255, 255]; };
    const style = getComputedStyle(el);
    const rings = [];
    if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) rings.push(rgb(style.outlineColor));
    const shadow = style.boxShadow.match(/rgba?\\([^)]*\\)/);
    if (shadow) rings.push(rgb(shadow[0]));
    return {element: el.outerHTML.slice(0, 120), rings: rings.filter(Boolean), around: background(el.parentElement)};
}"""


def contrast(one, other) -> float:
    def luminance(rgb):
        def channel(c):
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = map(channel, rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def weak_focus_rings(page, stops: int = 15) -> list[str]:
    """Tab through the first stops of the page: each focused element must show a ring of which some part
    has 3:1 contrast with what surrounds it (WCAG 2.2, 1.4.11 and 2.4.7)."""
    weak = []
    page.evaluate("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()")
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        best = max((contrast(ring, focused["around"]) for ring in focused["rings"]), default=0)
        if best < 3:
            weak.append(f"{focused['element']}: focus ring {focused['rings']} on {focused['around']} "
                        f"(best contrast {best:.2f}:1)")
    return weak


def describe(page_name: str, violations: list[dict]) -> str:
    lines = [f"{page_name}:"]
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:6]:
            lines.append(f"      {node['target']}\n        {node['html']}\n        {node['summary']}")
            if node["related"]:
                lines.append(f"        related: {', '.join(node['related'])}")
        if len(violation["nodes"]) > 6:
            lines.append(f"      ... and {len(violation['nodes']) - 6} more")
    return "\n".join(lines)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_main_pages_have_no_serious_or_critical_accessibility_violations(lab_stack, live_server):
    failures, notes, audited = [], [], []
    with chromium() as (new_page, _problems):
        for name, page in tour(new_page, live_server.url, bypass_csp=True, viewport={"width": 1366, "height": 900}):
            assert "/login/" not in page.url or name == "sign in", f"{name}: sent to sign in ({page.url})"
            violations = run_axe(page)
            audited.append(name)
            serious = [v for v in violations if v["impact"] in FAILING]
            minor = [v for v in violations if v["impact"] not in FAILING]
            if serious:
                failures.append(describe(f"{name} ({page.url})", serious))
            if minor:
                notes.append(describe(name, minor))
            if weak := weak_focus_rings(page):
                failures.append(f"{name}: weak focus rings:\n  " + "\n  ".join(weak))
    if notes:
        print("Minor and moderate findings (not failing):\n" + "\n".join(notes))
    assert len(audited) >= 20, audited
    assert not failures, (f"{len(failures)} of {len(audited)} pages have serious or critical violations:\n\n"
                          + "\n\n".join(failures))


def test_the_vendored_axe_core_is_there_and_says_its_version():
    head = AXE.read_text()[:200]
    assert head.startswith("/*! axe v4."), head
    assert (AXE.parent / "LICENSE").exists() and "Mozilla Public License" in (AXE.parent / "LICENSE").read_text()
