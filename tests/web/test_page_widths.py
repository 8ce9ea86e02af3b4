"""On a 390 x 844 phone no page scrolls sideways: long code, wide tables and the lab's panels scroll inside
their own boxes, and the page itself is never wider than the screen.

The walk (tests/web/tour.py) covers the main learner and instructor pages, including the lesson with the
widest code and tables of the real course, and the lab page with a live session, each of its tabs shown.
"""

from __future__ import annotations

import pytest

from tests.browser import chromium
from tests.web.tour import settle, tour

PHONE = {"width": 390, "height": 844}

# The page's width, and the outermost elements that stick out past the right edge of the screen without a
# scrolling (or clipping) box around them: what to fix when the page is too wide.
MEASURE = """(width) => {
    const clips = (el) => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== "visible") return true; } return false; };
    const offenders = [];
    for (const el of document.body.querySelectorAll("*")) {
        const right = el.getBoundingClientRect().right;
        if (right > width + 1 && !clips(el) && !offenders.some((o) => o.el.contains(el))) {
            offenders.push({el, right});
        }
    }
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + [...el.classList].map((c) => "." + c).join("");
    return {scrollWidth: document.documentElement.scrollWidth,
            offenders: offenders.slice(0, 5).map((o) => `${name(o.el)} reaches ${Math.round(o.right)} px`)};
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_is_wider_than_a_390_px_phone(lab_stack, live_server):
    too_wide, measured = [], []
    with chromium() as (new_page, _problems):
        for name, page in tour(new_page, live_server.url, viewport=PHONE, is_mobile=True, has_touch=True):
            result = page.evaluate(MEASURE, PHONE["width"])
            measured.append(name)
            # Pages with tabs (the lab workspace on a phone) are measured with each tab shown.
            tabs = page.locator('[role="tab"]:visible')
            for index in range(min(tabs.count(), 8)):
                tab = tabs.nth(index)
                label = tab.inner_text().strip()
                tab.click()
                settle(page)
                shown = page.evaluate(MEASURE, PHONE["width"])
                measured.append(f"{name}, tab {label!r}")
                if shown["scrollWidth"] > PHONE["width"]:
                    too_wide.append(f"{name}, tab {label!r}: {shown['scrollWidth']} px wide; "
                                    + "; ".join(shown["offenders"]))
            if name.startswith("lesson ("):
                scrolling = page.evaluate("""() => [...document.querySelectorAll("main pre, main .table-scroll")]
                    .filter((box) => box.scrollWidth > box.clientWidth).length""")
                assert scrolling, "no code block or table of the lesson is wider than a phone: it tests nothing"
            if result["scrollWidth"] > PHONE["width"]:
                too_wide.append(f"{name} ({page.url}): {result['scrollWidth']} px wide; "
                                + "; ".join(result["offenders"]))
    assert len(measured) >= 20, measured
    assert not too_wide, (f"{len(too_wide)} of {len(measured)} pages (or tabs) scroll sideways at 390 px:\n"
                          + "\n".join(too_wide))
