"""The Math page in real Chromium: moving through a step with the keys and the layer diagram, the
one-neuron preset, and links from the Playground that open a given layer."""
import numpy as np

from .mathpage import (card, go_to, open_math, operation, shown_op, sigmoid, traces, wait_for_trace)  # noqa: F401 (traces is a fixture)
from .waiting import wait_until


def test_navigation_by_keys_play_and_the_layer_diagram(page, traces):
    open_math(page)
    go_to(page, "input")
    page.keyboard.press("ArrowRight")
    shown_op(page, "params1")
    page.keyboard.press("ArrowRight")
    shown_op(page, "z1")
    page.keyboard.press("ArrowLeft")
    shown_op(page, "params1")
    assert page.locator("#math-ops li.current").get_attribute("data-op") == "params1"

    go_to(page, "z1")
    page.click('.lg-layer[data-layer="2"]')
    shown_op(page, "z2")
    go_to(page, "delta2")
    page.click('.lg-layer[data-layer="1"]')
    shown_op(page, "delta1")
    page.click('.lg-layer[data-layer="0"]')
    shown_op(page, "input")
    assert page.locator('.lg-layer[data-layer="0"]').get_attribute("class") == "lg-layer current"

    page.keyboard.press("ArrowDown")
    wait_for_trace(page, traces, 2)

    go_to(page, "update1")
    page.click("#math-play")
    wait_until(page, "window.nnplayMath.operation === 'grad2'", timeout=10000)
    wait_until(page, "window.nnplayMath.lastTrace.step === 3", timeout=15000)
    page.click("#math-play")
    wait_until(page, "document.getElementById('math-play').textContent.endsWith('Play')")


def test_one_neuron_preset_has_no_hidden_layer(page, traces):
    open_math(page, "preset=one_neuron")
    wait_for_trace(page, traces, 1)
    assert page.evaluate("window.nnplayMath.operations") == ["input", "params1", "z1", "a1", "error", "delta1", "grad1", "update1"]
    go_to(page, "z1")
    shown = card(page)
    X, W, b = shown["X"].value, shown["W1"].value, shown["b1"].value
    assert X.shape == (4, 3) and W.shape == (3, 1)
    assert sorted(map(tuple, X)) == [(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1)]
    shown["z1"].assert_shows(X @ W + b, "z¹")
    go_to(page, "delta1")
    shown = card(page)
    a = sigmoid(X @ W + b)
    shown["delta1"].assert_shows(-((shown["error"].value) * a * (1 - a)) / 4, "δ¹")


def test_a_playground_link_opens_its_network_at_the_asked_layer(page, traces, shot_dir):
    query = ("dataset=circle&n_samples=200&hidden=4,2&activation=tanh&output=tanh&loss=squared_error"
             "&optimizer=sgd&learning_rate=0.03&batch_size=40&seed=3&layer=2")
    open_math(page, query)
    wait_for_trace(page, traces, 1)
    trace = traces[0]
    assert operation(page) == "params2"
    assert len(trace["X"]) == 16, "a batch of 40 is cut to the 16 samples this view shows"
    assert "16 samples" in page.locator("#math-message").text_content()
    assert page.locator("#math-preset").input_value() == "link"
    go_to(page, "z3")
    shown = card(page)
    a2 = np.asarray(trace["a"][1], dtype=np.float64)
    shown["z3"].assert_shows(a2 @ shown["W3"].value + shown["b3"].value, "z³")
    go_to(page, "a3")
    card(page)["a3"].assert_shows(np.tanh(shown["z3"].value), "a³")
    go_to(page, "delta2")
    page.screenshot(path=str(shot_dir / "math-circle-delta2.png"), full_page=True)
