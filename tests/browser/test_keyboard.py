"""The keyboard (issue 16, item 3): Tab reaches every control of every page in document order,
each shows a focus ring and has a name; the Math page's operations are buttons and its radios keep
their own arrow keys; Esc and Ctrl+Z on the Digits pad.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_digits import ONE, ZERO, draw, open_page
from .waiting import wait_until

READY = {
    "/": "document.querySelector('.cards') !== null",
    "/playground": "document.querySelector('#network').dataset.step !== undefined",
    "/digits": "document.querySelector('#connection').classList.contains('open')",
    "/math": "document.querySelector('#math-ops button') !== null",
    "/no-such-page": "document.querySelector('h1') !== null",
}

# Every control a person could use on the page: visible, enabled, not inside a closed <details>.
CONTROLS = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
  .filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden'
    && !e.closest('[inert]') && !(e.closest('details:not([open])') && e.tagName !== 'SUMMARY'))
  .map((e) => e.id || e.dataset.field || e.name || e.textContent.trim().slice(0, 30) || e.outerHTML.slice(0, 60))"""

# The focused element: who it is, whether its focus ring shows, and its accessible name's source.
FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e);
  if (e === document.body) return { key: 'BODY' };
  const label = e.labels?.[0]?.textContent.trim() || e.getAttribute('aria-label') || e.textContent.trim() || e.title
    || (e.getAttribute('aria-labelledby') && document.getElementById(e.getAttribute('aria-labelledby'))?.textContent);
  return { key: e.id || e.dataset.field || e.name || e.textContent.trim().slice(0, 30) || e.outerHTML.slice(0, 60),
           ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, named: Boolean(label && label.trim()) }; }"""


@pytest.mark.parametrize("path", list(READY))
def test_tab_reaches_every_control_with_a_ring_and_a_name(server, tab_on, path):
    page = tab_on(server, ignore=("status of 404",))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(path)
    wait_until(page, READY[path])
    page.wait_for_timeout(300)
    assert page.evaluate("document.querySelectorAll('[tabindex]:not([tabindex=\"0\"]):not([tabindex=\"-1\"])').length") == 0, \
        "a positive tabindex breaks the document order"
    controls = page.evaluate(CONTROLS)
    reached, problems = [], []
    for _ in range(len(controls) + 20):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["key"] == "BODY" or (reached and focused["key"] == reached[0]):
            break
        reached.append(focused["key"])
        if not focused["ring"]:
            problems.append(f"{focused['key']}: no visible focus ring")
        if not focused["named"]:
            problems.append(f"{focused['key']}: no accessible name")
    missing = [c for c in controls if c not in reached]
    assert not missing, f"Tab never reaches: {missing}"
    assert not problems, "\n".join(problems)


def test_math_operations_are_reached_by_tab_and_chosen_with_enter(page):
    page.goto("/math")
    wait_until(page, READY["/math"])
    third = page.locator("#math-ops li").nth(2)
    third.locator("button").focus()
    page.keyboard.press("Enter")
    expect(third).to_have_class("current")
    expect(third.locator("button")).to_have_attribute("aria-current", "step")
    page.keyboard.press("ArrowRight")   # on the page, → steps on
    expect(page.locator("#math-ops li").nth(3)).to_have_class("current")


def test_a_math_radio_keeps_its_own_arrow_keys(page):
    page.goto("/math")
    wait_until(page, READY["/math"])
    current = page.evaluate("window.nnplayMath.operation")
    page.focus("input[name=math-bias][value=separate]")
    page.keyboard.press("ArrowDown")
    expect(page.locator("input[name=math-bias][value=column]")).to_be_checked()
    assert page.evaluate("window.nnplayMath.operation") == current


def test_escape_clears_the_pad_and_ctrl_z_undoes(page):
    open_page(page)
    draw(page, ONE)
    draw(page, ZERO)
    expect(page.locator("#guess")).not_to_have_text("draw a digit", timeout=10_000)
    page.keyboard.press("Control+z")
    expect(page.locator("#pad canvas")).to_have_attribute("aria-label", "Drawing pad: draw a digit with the mouse, a finger or a pen (1 stroke drawn)")
    page.keyboard.press("Escape")
    expect(page.locator("#guess")).to_have_text("draw a digit")
    expect(page.locator("#reading-said")).to_have_text("The pad is empty.")
