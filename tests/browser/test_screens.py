"""Every page at five screen sizes (issue 16): no sideways scrolling, nothing sticking out of the
screen, the key elements visible and apart, the layout each page promises at that width, and no
serious or critical axe-core finding. Screenshots go to test-results/screens/ for people to look at.
"""
from __future__ import annotations

import itertools

import pytest

from .screens import SIZES, above, axe_source, axe_violations, boxes, overflow, overlap, side_by_side  # noqa: F401
from .test_digits import ONE, draw
from .waiting import wait_until

TIMEOUT = 20_000

# page -> (path, the expression that is true once it has drawn, its key elements)
PAGES = {
    "home": ("/", "document.querySelectorAll('.card-picture').length === 3",
             ["h1", ".card[href='/playground']", ".card[href='/digits']", ".card[href='/math']"]),
    "playground": ("/playground", "document.querySelector('#network').dataset.step !== undefined",
                   [".pg-runbar", ".pg-data", "#network", ".pg-output", "#heatmap"]),
    "digits": ("/digits", "document.querySelector('#connection').classList.contains('open')"
               " && document.querySelector('#net canvas').width > 0",
               ["#pad canvas", "#undo", "#clear", ".dg-guess-box", "#net", ".dg-train"]),
    "math": ("/math", "document.querySelector('#math-op .op-title') !== null",
             ["#math-preset", "#math-ops", ".math-nav", "#math-op"]),
    "not_found": ("/no-such-page", "document.querySelector('h1') !== null",
                  ["h1", ".card[href='/playground']", ".card[href='/digits']", ".card[href='/math']"]),
}


@pytest.fixture
def at_size(browser, server):
    """at_size((width, height), page) -> a tab of that size on that page (a name of PAGES), once it
    has drawn; page errors fail the test."""
    contexts, errors = [], []

    def open_at(size, name):
        path, ready, _ = PAGES[name]
        context = browser.new_context(base_url=server, viewport={"width": size[0], "height": size[1]})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
                if m.type == "error" and "status of 404" not in m.text else None)
        page.goto(path)
        wait_until(page, ready, timeout=TIMEOUT)
        page.wait_for_timeout(200)   # a frame or two for the views to lay out at this size
        return page

    yield open_at
    for context in contexts:
        context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


def promised_layout(name, width, b):
    """The arrangement each page promises at this width (issue 16, item 1)."""
    if name == "playground":
        assert above(b[".pg-runbar"], b[".pg-data"])
        if width >= 1024:
            assert side_by_side(b["#network"], b[".pg-output"]), "graph and output side by side down to 1024 px"
        else:   # stacked: controls, data, graph, output
            assert above(b[".pg-data"], b["#network"]) and above(b["#network"], b[".pg-output"])
            assert b["#network"]["width"] >= 0.85 * width, "the graph takes the width"
    if name == "digits":
        if width >= 1024:
            assert side_by_side(b["#pad canvas"], b["#net"]), "pad and network view side by side down to 1024 px"
        else:
            assert above(b["#pad canvas"], b["#net"])
        if width < 500:
            assert b["#pad canvas"]["width"] >= 0.85 * width, "on a phone the pad fills the width"
            gap = b[".dg-guess-box"]["y"] - (b["#pad canvas"]["y"] + b["#pad canvas"]["height"])
            assert 0 <= gap < 80, "the reading is right under the pad (only its buttons between)"


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_the_screen(at_size, shot_dir, name, size):
    page = at_size(size, name)
    (shot_dir / "screens").mkdir(exist_ok=True)
    page.screenshot(path=shot_dir / "screens" / f"{name}-{size[0]}x{size[1]}.png", full_page=True)
    o = overflow(page)
    assert o["scrollWidth"] <= o["innerWidth"], f"sideways scrolling: {o}"
    assert not o["sticking_out"], f"boxes stick out of the screen: {o['sticking_out']}"
    b = boxes(page, PAGES[name][2])
    for (s1, b1), (s2, b2) in itertools.combinations(b.items(), 2):
        nested = page.evaluate("([a, b]) => { const x = document.querySelector(a), y = document.querySelector(b);"
                               " return x.contains(y) || y.contains(x); }", [s1, s2])
        assert nested or not overlap(b1, b2), f"{s1} and {s2} overlap: {b1} {b2}"
    promised_layout(name, size[0], b)


@pytest.mark.parametrize("size", [SIZES[0], SIZES[-1]], ids=["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_nothing_serious(at_size, axe_source, name, size):
    violations = axe_violations(at_size(size, name), axe_source)
    assert not violations, "axe-core found:\n" + "\n".join(violations)


def test_axe_finds_nothing_serious_after_use(at_size, axe_source):
    """The states a page reaches in use: a digit read, a Math step far along in the tutorial
    notation with the bias as a column, a Playground that has trained."""
    found = []
    page = at_size((1280, 800), "digits")
    draw(page, ONE)
    wait_until(page, "document.querySelector('#guess').dataset.digit === '1'", timeout=TIMEOUT)
    page.wait_for_timeout(700)   # the reading is said once it holds
    assert page.text_content("#reading-said").startswith("The network reads 1, ")
    found += axe_violations(page, axe_source)
    page.goto("/math")
    wait_until(page, PAGES["math"][1], timeout=TIMEOUT)
    page.check("input[name=math-update][value=tutorial]")
    page.check("input[name=math-bias][value=column]")
    page.locator("#math-ops li").nth(9).click()
    found += axe_violations(page, axe_source)
    page.goto("/playground?dataset=xor")
    wait_until(page, PAGES["playground"][1], timeout=TIMEOUT)
    page.click("#play")
    wait_until(page, "+document.querySelector('#network').dataset.step > 20", timeout=TIMEOUT)
    page.click("#play")
    page.check("#show-test")
    found += axe_violations(page, axe_source)
    assert not found, "axe-core found:\n" + "\n".join(found)


def test_views_redraw_at_their_new_size_when_the_tablet_turns(at_size):
    """Portrait to landscape: the pad, the digit network and the Playground's graph take their
    new width (ResizeObserver), each drawn in the next animation frame."""
    same = "(e) => Math.abs(e.querySelector('canvas').getBoundingClientRect().width - e.clientWidth) < 1.5"
    page = at_size((390, 844), "digits")
    pad, net = page.locator("#pad"), page.locator("#net")
    assert pad.evaluate(same) and net.evaluate(same)
    narrow = (pad.evaluate("e => e.clientWidth"), net.evaluate("e => e.clientWidth"))
    page.set_viewport_size({"width": 1180, "height": 820})
    wait_until(page, f"document.querySelector('#net').clientWidth > {narrow[1]}")
    page.wait_for_timeout(200)
    assert pad.evaluate(same) and net.evaluate(same)
    assert pad.evaluate("e => e.clientWidth") < narrow[0]   # a phone's full-width pad, 280 px again
    page.goto("/playground")
    wait_until(page, PAGES["playground"][1], timeout=TIMEOUT)
    graph = page.locator("#network")
    before = graph.evaluate("e => e.querySelector('.net-edges').getBoundingClientRect().width")
    page.set_viewport_size({"width": 820, "height": 1180})
    wait_until(page, "Math.abs(document.querySelector('#network .net-edges').getBoundingClientRect().width"
                     " - document.querySelector('#network').clientWidth) < 1.5")
    assert graph.evaluate("e => e.querySelector('.net-edges').getBoundingClientRect().width") != before
