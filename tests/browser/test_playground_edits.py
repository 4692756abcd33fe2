"""The Playground page in real Chromium against a real server: divergence, editing weights and biases,
loss choices, a stuck network, saving and loading, bad links and regression points."""
import json
import re

from .playground import TIMEOUT, open_playground, pick_preset, query, wait_for_query, wait_for_sizes
from .waiting import wait_until


def test_huge_learning_rate_diverges_with_a_message(page):
    open_playground(page, "?dataset=plane&activation=linear&output=linear&hidden=4&learning_rate=100")
    assert page.is_checked("input[data-field=dataset][value=plane]")
    page.click("#play")
    message = page.wait_for_selector(".message.error", timeout=TIMEOUT)
    text = message.text_content()
    assert "diverged" in text and "learning rate" in text.lower()
    wait_until(page, "document.querySelector('#play').textContent.includes('Play')", timeout=TIMEOUT)
    assert "NaN" not in page.text_content("#train-loss")
    # The suggested fix lowers the rate, keeping the weights.
    message.query_selector("button:text('Learning rate ÷ 10')").click()
    wait_until(page, "new URLSearchParams(location.search).get('learning_rate') === '10'", timeout=TIMEOUT)


def test_edit_a_weight_and_a_bias_by_clicking(page):
    open_playground(page, "?dataset=xor_table&hidden=2&activation=sigmoid&output=sigmoid&learning_rate=2&batch_size=4")
    wait_for_sizes(page, "2,2,1")
    bias = page.locator(".net-node[data-layer='2'][data-neuron='0'] .net-bias")
    bias.click()
    page.fill(".net-editor input", "1.5")
    page.press(".net-editor input", "Enter")
    wait_until(page,
        "document.querySelector(\".net-node[data-layer='2'][data-neuron='0']\").dataset.bias === '1.5000'",
        timeout=TIMEOUT)
    # An edge from input 1 to hidden neuron 1: hover shows its weight; click edits it.
    start = page.locator(".net-node[data-layer='0'][data-neuron='0']").bounding_box()
    end = page.locator(".net-node[data-layer='1'][data-neuron='0']").bounding_box()
    x = (start["x"] + start["width"] + end["x"]) / 2
    y = (start["y"] + end["y"]) / 2 + start["height"] / 2
    page.mouse.move(x, y)
    tip = page.wait_for_selector(".net-tip:not([hidden])", timeout=TIMEOUT)
    assert re.search(r"weight 1 → 1 \(layer 1\): -?\d+\.\d{4}", tip.text_content())
    page.mouse.click(x, y)
    page.fill(".net-editor input", "-3")
    page.press(".net-editor input", "Enter")
    page.mouse.move(x, y + 1)
    wait_until(page, "document.querySelector('.net-tip').textContent.endsWith('-3.0000')", timeout=TIMEOUT)


def test_softmax_output_goes_with_cross_entropy(page):
    open_playground(page, "?dataset=circle&hidden=4")
    page.select_option("[data-field=output]", "softmax")
    wait_for_sizes(page, "2,4,2")
    assert page.input_value("[data-field=loss]") == "cross_entropy"
    wait_for_query(page, "loss", "cross_entropy")
    assert page.is_disabled("[data-field=loss] option[value=squared_error]")
    page.select_option("[data-field=output]", "tanh")
    wait_for_sizes(page, "2,4,1")
    assert page.input_value("[data-field=loss]") == "squared_error"


def test_stuck_network_gets_a_hint_and_a_new_seed(page):
    # One hidden neuron cannot solve XOR: the loss levels off well above zero.
    open_playground(page, "?dataset=xor_table&hidden=1&activation=tanh&output=tanh&learning_rate=0.3"
                          "&batch_size=4&steps_per_second=0")
    wait_for_sizes(page, "2,1,1")
    page.click("#play")
    hint = page.wait_for_selector(".message.hint[data-key=stuck]", timeout=60_000)
    assert "local minimum" in hint.text_content()
    wait_for_query(page, "seed", "0")
    seed = "0"
    page.wait_for_timeout(1500)  # training goes on; the loss creeps down a little
    assert hint.evaluate("div => div.isConnected"), "the hint was taken away while still stuck"
    hint.query_selector("button:text('New seed')").click()
    wait_until(page, f"new URLSearchParams(location.search).get('seed') !== {seed!r}", timeout=TIMEOUT)
    assert page.text_content("#seed") == query(page)["seed"]
    assert page.text_content("#step-count") == "0"
    assert not page.query_selector(".message.hint[data-key=stuck]")


def test_save_and_load_a_trained_network(page):
    open_playground(page, "?dataset=gaussian&hidden=3")
    page.click("#step")
    wait_until(page, "document.querySelector('#step-count').textContent === '1'", timeout=TIMEOUT)
    page.fill("#model-name", "gauss-3")
    page.click("#save")
    page.wait_for_selector("#model-list option[value='gauss-3']", state="attached", timeout=TIMEOUT)
    assert "Saved" in page.text_content(".message.hint[data-key=model]")
    page.click("#add-layer")
    wait_for_sizes(page, "2,3,2,1")
    page.select_option("#model-list", "gauss-3")
    page.click("#load")
    wait_for_sizes(page, "2,3,1")
    assert "Loaded" in page.text_content(".message.hint[data-key=model]")
    wait_for_query(page, "hidden", "3")


def test_spiral_preset_learns_flat_out(page, shot_dir):
    open_playground(page)
    pick_preset(page, "spiral")
    wait_for_sizes(page, "7,8,8,6,1")
    page.select_option("#speed", "0")
    page.click("#play")
    wait_until(page, "parseFloat(document.querySelector('#train-acc').textContent) >= 98", timeout=90_000)
    page.check("#show-test")
    wait_until(page, "document.querySelector('#heatmap').dataset.testPoints === '250'", timeout=TIMEOUT)
    page.screenshot(path=str(shot_dir / "playground-spiral.png"))
    stats = page.evaluate("window.nnplayStats")
    (shot_dir / "playground-stats-spiral.json").write_text(json.dumps(stats, indent=1))


def test_a_bad_link_says_what_is_wrong_and_falls_back(page):
    page.goto("/playground?dataset=circle&learning_rate=1000")
    message = page.wait_for_selector(".message.error", timeout=TIMEOUT)
    sentence = message.query_selector(".message-text").text_content()
    assert "Learning rate must be a number more than 0 and at most 100, not 1000." in sentence
    assert "learning_rate=1000" in message.query_selector("details").text_content()   # the server's words
    wait_for_sizes(page, "2,4,2,1")   # the server's default network
    wait_for_query(page, "learning_rate", "0.03")
    assert page.input_value("[data-field=learning_rate]") == "0.03"


def test_regression_point_takes_the_chosen_value(page):
    open_playground(page, "?dataset=plane&output=linear")
    assert page.is_visible("#add-value") and not page.is_visible("#add-class")
    assert not page.is_visible(".pg-acc")   # no accuracy for regression
    page.fill("#add-value input", "-0.5")
    wait_until(page, "+document.querySelector('#heatmap').dataset.trainPoints === 250", timeout=TIMEOUT)
    box = page.locator(".heatmap-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(page, "+document.querySelector('#heatmap').dataset.trainPoints === 251", timeout=TIMEOUT)
    wait_until(page, "new URLSearchParams(location.search).get('points')", timeout=TIMEOUT)
    x1, x2, value = (float(v) for v in query(page)["points"].split(":"))
    assert abs(x1) < 0.1 and abs(x2) < 0.1 and value == -0.5
