"""What the screen tests measure in a page: overflow, boxes that stick out or overlap, and axe-core.

axe-core (npm, MPL-2.0) is pinned in tests/browser/package.json + package-lock.json and installed
by `npm ci --prefix tests/browser` (.ci/run does it). Without it the axe tests skip on a
developer's machine and fail under CI=true, like the other browser tests without Chromium.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

SIZES = [(1440, 900), (1280, 720), (1024, 768), (820, 1180), (390, 844)]

# Every element of the page that sticks out of the viewport sideways (a clipped or overflowing
# box), except inside a container that scrolls on purpose (overflow-x auto/scroll).
STICKING_OUT = """() => {
  const out = [], w = document.documentElement.clientWidth;
  const scrolls = (e) => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    if ((r.right > w + 0.5 || r.left < -0.5) && !scrolls(e))
      out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}: ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return out.slice(0, 10);
}"""


def overflow(page) -> dict:
    """{scrollWidth, innerWidth, sticking_out: [...]}"""
    return {
        "scrollWidth": page.evaluate("document.documentElement.scrollWidth"),
        "innerWidth": page.evaluate("innerWidth"),
        "sticking_out": page.evaluate(STICKING_OUT),
    }


def boxes(page, selectors) -> dict:
    """{selector: bounding box in page coordinates} of the first visible match of each selector."""
    found = {}
    for selector in selectors:
        box = page.locator(selector).first.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, f"{selector} is not visible"
        found[selector] = box
    return found


def overlap(a, b) -> bool:
    return (a["x"] < b["x"] + b["width"] - 0.5 and b["x"] < a["x"] + a["width"] - 0.5
            and a["y"] < b["y"] + b["height"] - 0.5 and b["y"] < a["y"] + a["height"] - 0.5)


def side_by_side(a, b) -> bool:
    """a left of b, and their vertical extents share some height."""
    return a["x"] + a["width"] <= b["x"] + 0.5 and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def above(a, b) -> bool:
    return a["y"] + a["height"] <= b["y"] + 0.5


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}): npm ci --prefix tests/browser"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the accessibility tests)")
        pytest.skip(message)
    return AXE.read_text()


def axe_violations(page, axe_source: str, impacts=("serious", "critical")) -> list[str]:
    """Run axe-core in the page (through the DevTools protocol, so the page's CSP stays on) and
    return its violations of the given impacts, one readable line per node."""
    page.evaluate(axe_source)
    result = page.evaluate("""() => axe.run(document, { resultTypes: ['violations'] })
        .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n').slice(0, 2).join(' ')) })))""")
    return [f"[{v['impact']}] {v['id']} ({v['help']}): {node}"
            for v in result if v["impact"] in impacts for node in v["nodes"]]
