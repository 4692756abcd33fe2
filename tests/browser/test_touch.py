"""Touch and pen on a phone-sized page (issue 16, item 2): a finger or a pen draws on the Digits pad
exactly as the mouse does and the digit is read; a second finger is ignored; the page does not
scroll under a stroke; tapping a neuron does what hovering or clicking does on a desktop.

Touches go through the DevTools protocol (Input.dispatchTouchEvent), which Chromium turns into
pointer events of type "touch" as a touch screen would; the pen is Input.dispatchMouseEvent with
pointerType "pen".
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_digits import ONE, PAD, ZERO
from .waiting import wait_until

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, server):
    """A phone-sized tab with a touch screen, and its DevTools session; page errors fail the test."""
    errors = []
    context = browser.new_context(base_url=server, viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    yield page, context.new_cdp_session(page)
    context.close()
    assert not errors, "the page logged errors:\n" + "\n".join(errors)


def pad_point(page, x, y):
    """A point of a stroke given in pad units (0..280) -> viewport pixels on the pad as shown."""
    box = page.locator("#pad canvas").bounding_box()
    return box["x"] + x * box["width"] / PAD, box["y"] + y * box["height"] / PAD


def touch_strokes(page, cdp, strokes, second_finger=None):
    """Draw each stroke with one finger; with second_finger (a stroke), a second finger touches down
    after the first and moves along it at the same time."""
    for stroke in strokes:
        fingers = [stroke] + ([second_finger] if second_finger else [])
        steps = max(len(f) for f in fingers)

        def points(k, count):
            return [{"x": x, "y": y, "id": i, "radiusX": 6, "radiusY": 6}
                    for i, f in enumerate(fingers[:count]) for x, y in [pad_point(page, *f[min(k, len(f) - 1)])]]

        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(0, 1)})
        if second_finger:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(0, 2)})
        for k in range(1, steps):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points(k, len(fingers))})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def open_digits(page):
    page.goto("/digits")
    expect(page.locator("#connection")).to_have_class("connection open")
    expect(page.locator("#guess")).to_have_text("draw a digit")


def dense(stroke, per=6):
    """The stroke with `per` points between each pair, as a finger reports many small moves."""
    out = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        out += [(x0 + (x1 - x0) * k / per, y0 + (y1 - y0) * k / per) for k in range(1, per + 1)]
    return out


def test_a_finger_draws_a_digit_and_it_is_read(phone, shot_dir):
    page, cdp = phone
    open_digits(page)
    assert page.locator("#pad canvas").bounding_box()["width"] > 340   # the pad fills the phone's width
    touch_strokes(page, cdp, [dense(s) for s in ONE])
    expect(page.locator("#guess")).to_have_attribute("data-digit", "1", timeout=10_000)
    page.click("#clear")
    touch_strokes(page, cdp, [dense(s, 2) for s in ZERO])
    expect(page.locator("#guess")).to_have_attribute("data-digit", "0", timeout=10_000)
    expect(page.locator("#pad canvas")).to_have_attribute("aria-label", "Drawing pad: draw a digit with the mouse, a finger or a pen (1 stroke drawn)")
    page.screenshot(path=shot_dir / "digits-touch.png")


def test_a_second_finger_is_ignored_and_the_page_does_not_scroll(phone):
    page, cdp = phone
    open_digits(page)
    page.evaluate("window.scrollTo(0, 40)")
    wait_until(page, "window.scrollY === 40")
    across = dense([(20, 260), (260, 20)], 20)   # a second finger drags across the pad and upwards
    touch_strokes(page, cdp, [dense(ONE[0], 8)], second_finger=across)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "1", timeout=10_000)
    expect(page.locator("#pad canvas")).to_have_attribute("aria-label", "Drawing pad: draw a digit with the mouse, a finger or a pen (1 stroke drawn)")
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") == 40, "a stroke on the pad scrolled the page"


def test_a_pen_draws_too(phone):
    page, cdp = phone
    open_digits(page)
    stroke = dense(ZERO[0], 2)
    x, y = pad_point(page, *stroke[0])
    cdp.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left", "clickCount": 1,
                                          "pointerType": "pen", "force": 0.5})
    for p in stroke[1:]:
        x, y = pad_point(page, *p)
        cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "button": "left", "buttons": 1,
                                              "pointerType": "pen", "force": 0.5})
    cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y, "button": "left", "clickCount": 1,
                                          "pointerType": "pen"})
    expect(page.locator("#guess")).to_have_attribute("data-digit", "0", timeout=10_000)


def test_tapping_a_neuron_selects_it(phone):
    page, cdp = phone
    open_digits(page)
    touch_strokes(page, cdp, [dense(s, 2) for s in ZERO])
    expect(page.locator("#guess")).to_have_attribute("data-digit", "0", timeout=10_000)
    net = page.locator("#net canvas")
    net.scroll_into_view_if_needed()
    box = net.bounding_box()
    y = box["y"] + box["height"] / 2
    for x in range(int(box["x"] + box["width"] * 0.25), int(box["x"] + box["width"] * 0.7), 3):
        page.touchscreen.tap(x, y)
        if "Layer 1, neuron" in page.text_content("#neuron-title"):
            break
    else:
        pytest.fail("no tap across the network view selected a neuron of layer 1")
    assert page.evaluate("document.querySelector('#neuron-image').getContext('2d')"
                         ".getImageData(0, 0, 28, 28).data.some((v) => v > 0)")


def test_tapping_a_playground_neuron_enlarges_its_map(phone):
    page, _ = phone
    page.goto("/playground")
    wait_until(page, "document.querySelector('#network').dataset.step !== undefined")
    node = page.locator(".net-node[data-layer='1']").first
    node.scroll_into_view_if_needed()
    box = node.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator(".net-zoom")).to_be_visible()
    expect(page.locator(".net-zoom")).to_contain_text("layer 1, neuron 1")
