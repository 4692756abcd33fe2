"""The Playground from the keyboard alone (issue 16, item 3): Tab reaches the network graph, the
arrow keys and E walk its neurons and weights with a ring drawn on the canvas and the focused item
said in a live region, Enter opens the value editor and gives the focus back, and on the output
plot a crosshair moved with the arrows adds points of either class. Every test drives only the
keyboard and reads what the page shows.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .screens import axe_source, axe_violations  # noqa: F401
from .waiting import wait_until

TIMEOUT = 30_000
XOR = "?dataset=xor_table&hidden=2&activation=sigmoid&output=sigmoid&learning_rate=2&batch_size=4"
SAID = "#network .net-said"
FOCUS_RGB = (0x15, 0x58, 0xb0)   # style.css --focus


def open_playground(page, query: str = XOR):
    page.goto(f"/playground{query}")
    page.wait_for_selector("#connection.open", timeout=TIMEOUT)
    wait_until(page, "document.querySelector('#network').dataset.step !== undefined", timeout=TIMEOUT)


def tab_to(page, selector: str, most: int = 80):
    """Press Tab until the element focused matches selector."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{most} presses of Tab never reached {selector}")


def said(page) -> str:
    return page.text_content(SAID)


def canvas_pixel(page, selector: str, x: float, y: float) -> list[int]:
    """The RGB of a canvas at page coordinates (x, y)."""
    return page.evaluate("""([s, x, y]) => {
        const c = document.querySelector(s), r = c.getBoundingClientRect(), k = c.width / r.width;
        return [...c.getContext('2d').getImageData((x - r.left) * k, (y - r.top) * k, 1, 1).data].slice(0, 3);
    }""", [selector, x, y])


def near(rgb, target, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, target))


def node_box(page, layer: int, neuron: int) -> dict:
    return page.locator(f".net-node[data-layer='{layer}'][data-neuron='{neuron}']").bounding_box()


def ring_shows(page, layer: int, neuron: int) -> bool:
    """The focus ring runs 4 px left of the neuron's box: is the focus colour drawn there?"""
    box = node_box(page, layer, neuron)
    return near(canvas_pixel(page, ".net-edges", box["x"] - 4, box["y"] + box["height"] / 2), FOCUS_RGB)


def test_tab_reaches_the_graph_and_the_keys_walk_its_neurons_and_weights(page, shot_dir):
    open_playground(page)
    assert not ring_shows(page, 0, 0)
    tab_to(page, ".net-edges")
    expect(page.locator(SAID)).to_have_text(re.compile(r"^input \S+ of 2: a feature fed into the network"))
    expect(page.locator(".net-zoom")).to_be_visible()
    expect(page.locator(".net-zoom")).to_contain_text("input")
    assert ring_shows(page, 0, 0)

    page.keyboard.press("ArrowRight")   # to the hidden layer, the neuron at the same height
    bias = page.get_attribute(".net-node[data-layer='1'][data-neuron='0']", "data-bias")
    expect(page.locator(SAID)).to_have_text(f"layer 1, neuron 1 of 2: bias {bias}")
    expect(page.locator(".net-zoom")).to_contain_text("layer 1, neuron 1")
    assert ring_shows(page, 1, 0) and not ring_shows(page, 0, 0)

    page.keyboard.press("ArrowDown")
    expect(page.locator(SAID)).to_contain_text("layer 1, neuron 2 of 2: bias")
    assert ring_shows(page, 1, 1)
    page.keyboard.press("ArrowDown")    # the last neuron stays focused
    expect(page.locator(SAID)).to_contain_text("layer 1, neuron 2 of 2")

    page.keyboard.press("e")            # its incoming weights, from the first input on
    weight = re.compile(r"^weight from input (\S+) to layer 1, neuron 2: (-?\d+\.\d{4}) \(incoming weight 1 of 2\)$")
    expect(page.locator(SAID)).to_have_text(weight)
    expect(page.locator(".net-tip")).to_be_visible()
    expect(page.locator(".net-tip")).to_have_text(weight)
    expect(page.locator(".net-zoom")).to_be_hidden()
    page.screenshot(path=str(shot_dir / "keyboard-weight.png"))

    page.keyboard.press("ArrowDown")    # the next incoming weight of the same neuron
    expect(page.locator(SAID)).to_contain_text("(incoming weight 2 of 2)")
    page.keyboard.press("e")            # E goes round
    expect(page.locator(SAID)).to_contain_text("(incoming weight 1 of 2)")
    page.keyboard.press("ArrowLeft")    # along the weight to where it comes from
    expect(page.locator(SAID)).to_have_text(re.compile(r"^input \S+ of 2:"))
    assert ring_shows(page, 0, 0)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")   # on to the output
    expect(page.locator(SAID)).to_contain_text("the output neuron: bias")
    page.keyboard.press("e")
    page.keyboard.press("Escape")       # from a weight back to its neuron
    expect(page.locator(SAID)).to_contain_text("the output neuron: bias")

    page.keyboard.press("Tab")          # leaving the graph hides its ring and zoom
    expect(page.locator(".net-zoom")).to_be_hidden()
    assert not page.evaluate("document.activeElement.matches('.net-edges')")


def test_enter_edits_a_bias_and_a_weight_and_the_focus_comes_back(page):
    open_playground(page)
    tab_to(page, ".net-edges")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")   # the output neuron
    page.keyboard.press("Enter")
    expect(page.locator(".net-editor")).to_be_visible()
    assert page.evaluate("document.activeElement.matches('.net-editor input')")
    # a screen reader hears the whole name, not the short "bias 2:1" shown beside the field
    expect(page.get_by_role("spinbutton", name="the bias of the output neuron")).to_be_focused()
    page.keyboard.type("1.5")           # the value is selected: typing replaces it
    page.keyboard.press("Enter")
    expect(page.locator(".net-editor")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.net-edges')")
    expect(page.locator(SAID)).to_have_text("the bias of the output neuron set to 1.5")
    expect(page.locator(".net-node[data-layer='2'][data-neuron='0']")).to_have_attribute("data-bias", "1.5000", timeout=TIMEOUT)
    page.keyboard.press("ArrowUp")      # said again, with the value the network now has
    expect(page.locator(SAID)).to_have_text("the output neuron: bias 1.5000")

    page.keyboard.press("e")
    page.keyboard.press("ArrowDown")    # the weight from hidden neuron 2
    page.keyboard.press("Enter")
    page.keyboard.type("-3")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.matches('.net-edges')")
    expect(page.locator(SAID)).to_have_text("weight from layer 1, neuron 2 to the output neuron set to -3")
    expect(page.locator(".net-tip")).to_have_text(re.compile(r": -3\.0000 \(incoming weight 2 of 2\)$"), timeout=TIMEOUT)

    page.keyboard.press("Enter")        # Esc leaves it as it was
    page.keyboard.type("2")
    page.keyboard.press("Escape")
    expect(page.locator(".net-editor")).to_be_hidden()
    assert page.evaluate("document.activeElement.matches('.net-edges')")
    expect(page.locator(SAID)).to_have_text(re.compile(r"^not changed: weight from layer 1, neuron 2 to the output neuron: -3\.0000"))


def test_an_input_has_nothing_to_edit_and_space_still_plays(page):
    open_playground(page)
    tab_to(page, ".net-edges")
    page.keyboard.press("Enter")
    expect(page.locator(".net-editor")).to_be_hidden()
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.activeElement.matches('.net-edges')")
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")


def test_a_mouse_click_on_the_graph_draws_no_keyboard_ring(page):
    open_playground(page)
    box = page.locator(".net-edges").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + box["height"] - 5)   # an empty corner
    page.wait_for_timeout(200)
    assert page.evaluate("document.activeElement.matches('.net-edges')")
    assert not ring_shows(page, 0, 0)
    expect(page.locator(".net-zoom")).to_be_hidden()


def points(page) -> int:
    return int(page.get_attribute("#heatmap", "data-train-points"))


def test_the_crosshair_adds_a_point_of_either_class(page, shot_dir):
    open_playground(page, "?dataset=gaussian")
    wait_until(page, "+document.querySelector('#heatmap').dataset.trainPoints > 0", timeout=TIMEOUT)
    before = points(page)
    live = page.locator("#heatmap [aria-live]")
    tab_to(page, ".heatmap-points")
    expect(live).to_have_text(re.compile(r"^x₁ 0, x₂ 0: output -?\d+\.\d\d, the (orange|blue) side$"))
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")   # 4 steps of 0.5 on the [-6, 6] plane
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(live).to_have_text(re.compile(r"^x₁ 3, x₂ -3: output"))
    page.screenshot(path=str(shot_dir / "keyboard-crosshair.png"))
    page.keyboard.press("Enter")
    expect(page.locator("#heatmap")).to_have_attribute("data-train-points", str(before + 1), timeout=TIMEOUT)
    expect(live).to_have_text(f"Added a class 1 point at x₁ 3, x₂ -3: {before + 1} training points")
    wait_until(page, "(new URLSearchParams(location.search).get('points') || '').endsWith('3:-3:1')", timeout=TIMEOUT)
    # The point is drawn in class 1's orange under the crosshair.
    plot = page.locator(".heatmap-map").bounding_box()
    rgb = canvas_pixel(page, ".heatmap-points", plot["x"] + plot["width"] * 0.75, plot["y"] + plot["height"] * 0.75)
    assert rgb[0] > 200 and 110 < rgb[1] < 180 and rgb[2] < 90, rgb

    page.keyboard.press("Home")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Shift+Enter")       # the other class
    expect(page.locator("#heatmap")).to_have_attribute("data-train-points", str(before + 2), timeout=TIMEOUT)
    expect(live).to_have_text(f"Added a class 0 point at x₁ 0, x₂ 0.5: {before + 2} training points")


def test_a_table_has_no_plot_to_focus(page):
    open_playground(page, "?dataset=one_neuron")
    expect(page.locator(".heatmap-note")).to_be_visible()
    assert page.get_attribute(".heatmap-points", "tabindex") == "-1"


def test_axe_finds_nothing_serious_while_the_keyboard_edits(page, axe_source):
    open_playground(page)
    tab_to(page, ".net-edges")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("e")
    found = axe_violations(page, axe_source)
    page.keyboard.press("Enter")
    expect(page.locator(".net-editor")).to_be_visible()
    found += axe_violations(page, axe_source)
    page.keyboard.press("Escape")
    tab_to(page, ".heatmap-points")
    found += axe_violations(page, axe_source)
    assert not found, "axe-core found:\n" + "\n".join(found)
