"""The Playground page in real Chromium against a real server: training, live settings, the
network editor, own points, the shareable URL and divergence, read from what the page shows."""
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from .waiting import wait_until

TIMEOUT = 30_000  # ms


def open_playground(page, query: str = ""):
    page.goto(f"/playground{query}")
    page.wait_for_selector("#connection.open", timeout=TIMEOUT)
    wait_until(page, "document.querySelector('#network').dataset.sizes", timeout=TIMEOUT)
    wait_for_snapshot(page)


def wait_for_snapshot(page):
    """Until the graph has drawn a snapshot of the network it shows."""
    wait_until(page, "document.querySelector('#network').dataset.step !== undefined", timeout=TIMEOUT)


def wait_for_sizes(page, sizes: str):
    wait_until(page, f"document.querySelector('#network').dataset.sizes === {sizes!r}", timeout=TIMEOUT)


def number(page, selector: str) -> float:
    return float(page.text_content(selector).replace(",", "").rstrip("%"))


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query, keep_blank_values=True).items()}


def wait_for_query(page, key: str, value: str):
    """Until the page's URL carries key=value (the page writes its URL a moment after a change)."""
    wait_until(page, f"new URLSearchParams(location.search).get({key!r}) === {value!r}", timeout=TIMEOUT)


def canvas_data(page, selector: str) -> str:
    return page.eval_on_selector(selector, "c => c.toDataURL()")


def control_values(page) -> dict:
    """Every bound control's shown value, keyed by field (features: the checked ones)."""
    return page.evaluate("""() => {
        const out = {};
        for (const el of document.querySelectorAll('[data-field]')) {
            if (el.type === 'radio') { if (el.checked) out[el.dataset.field] = el.value; }
            else out[el.dataset.field] = el.value;
        }
        out.features = [...document.querySelectorAll('[data-feature]')].filter(f => f.checked).map(f => f.dataset.feature);
        out.speed = document.querySelector('#speed').value;
        out.sizes = document.querySelector('#network').dataset.sizes;
        return out;
    }""")


def pick_preset(page, name: str):
    page.wait_for_selector(f"#preset option[value={name}]", state="attached", timeout=TIMEOUT)
    page.select_option("#preset", name)


def test_xor_preset_learns_and_the_graph_changes(page, shot_dir):
    open_playground(page)
    pick_preset(page, "xor")
    wait_for_sizes(page, "2,2,1")
    assert page.is_checked("input[data-field=dataset][value=xor_table]")
    wait_for_snapshot(page)
    edges_before = canvas_data(page, ".net-edges")
    neuron_before = canvas_data(page, ".net-node[data-layer='1'][data-neuron='0'] canvas")
    bias_before = page.get_attribute(".net-node[data-layer='1'][data-neuron='0']", "data-bias")
    loss_before = number(page, "#train-loss")
    assert loss_before > 0.1  # an untrained 2-2-1 network does not solve XOR

    page.click("#play")
    wait_until(page, "parseFloat(document.querySelector('#train-loss').textContent) < 0.05", timeout=60_000)
    assert page.text_content("#play").strip().endswith("Pause")
    assert number(page, "#train-acc") == 100.0
    assert number(page, "#step-count") > 100
    assert canvas_data(page, ".net-edges") != edges_before
    assert canvas_data(page, ".net-node[data-layer='1'][data-neuron='0'] canvas") != neuron_before
    assert page.get_attribute(".net-node[data-layer='1'][data-neuron='0']", "data-bias") != bias_before
    page.screenshot(path=str(shot_dir / "playground-xor.png"))

    stats = page.evaluate("window.nnplayStats")
    (shot_dir / "playground-stats-xor.json").write_text(json.dumps(stats, indent=1))
    page.click("#play")
    wait_until(page, "document.querySelector('#play').textContent.includes('Play')", timeout=TIMEOUT)


def test_learning_rate_changes_mid_run_without_a_reset(page):
    open_playground(page, "?dataset=circle&learning_rate=0.03")
    page.click("#play")
    wait_until(page, "parseInt(document.querySelector('#step-count').textContent.replace(/,/g, '')) > 100",
                           timeout=TIMEOUT)
    step_before = number(page, "#step-count")
    page.select_option("[data-field=learning_rate]", "0.1")
    # The URL follows the server's acknowledgement of the new rate.
    wait_until(page, "new URLSearchParams(location.search).get('learning_rate') === '0.1'", timeout=TIMEOUT)
    step_at_ack = number(page, "#step-count")
    assert step_at_ack >= step_before
    wait_until(page,
        f"parseInt(document.querySelector('#step-count').textContent.replace(/,/g, '')) > {step_at_ack + 100}",
        timeout=TIMEOUT)
    assert page.input_value("[data-field=learning_rate]") == "0.1"
    assert page.text_content("#play").strip().endswith("Pause")
    assert not page.query_selector(".message.error")
    page.click("#reset")
    wait_until(page, "document.querySelector('#step-count').textContent === '0'", timeout=TIMEOUT)
    assert page.text_content("#play").strip().endswith("Play")
    assert query(page)["learning_rate"] == "0.1"   # a reset keeps the settings


def test_add_a_layer_and_neurons(page):
    open_playground(page, "?dataset=circle&hidden=4,2")
    wait_for_sizes(page, "2,4,2,1")
    page.click("#add-layer")
    wait_for_sizes(page, "2,4,2,2,1")
    assert page.text_content("#layer-count") == "3 hidden layers"
    assert len(page.query_selector_all(".net-node")) == 2 + 4 + 2 + 2 + 1
    wait_for_query(page, "hidden", "4,2,2")
    page.click(".net-head[data-layer='1'] [data-delta='1']")
    wait_for_sizes(page, "2,5,2,2,1")
    page.click(".net-head[data-layer='3'] [data-delta='-1']")
    wait_for_sizes(page, "2,5,2,1,1")
    wait_for_query(page, "hidden", "5,2,1")


def test_click_adds_a_point(page):
    open_playground(page, "?dataset=gaussian")
    wait_until(page, "+document.querySelector('#heatmap').dataset.trainPoints > 0", timeout=TIMEOUT)
    before = int(page.get_attribute("#heatmap", "data-train-points"))
    box = page.locator(".heatmap-map").bounding_box()
    # x1 = 3, x2 = -3 on the [-6, 6] plane: three quarters across, three quarters down
    x, y = box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.75
    page.mouse.click(x, y)
    wait_until(page, f"+document.querySelector('#heatmap').dataset.trainPoints === {before + 1}",
                           timeout=TIMEOUT)
    wait_until(page, "new URLSearchParams(location.search).get('points')", timeout=TIMEOUT)
    points = query(page)["points"]
    x1, x2, label = (float(v) for v in points.split(":"))
    assert x1 == pytest.approx(3, abs=0.1) and x2 == pytest.approx(-3, abs=0.1) and label == 1
    # The point is drawn in class 1's orange at the spot clicked.
    rgb = page.evaluate("""([x, y]) => {
        const c = document.querySelector('.heatmap-points'), r = c.getBoundingClientRect();
        const k = c.width / r.width;
        return [...c.getContext('2d').getImageData((x - r.left) * k, (y - r.top) * k, 1, 1).data].slice(0, 3);
    }""", [x, y])
    assert rgb[0] > 200 and 110 < rgb[1] < 180 and rgb[2] < 90, rgb
    # Shift-click adds the other class.
    page.keyboard.down("Shift")
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.keyboard.up("Shift")
    wait_until(page, f"+document.querySelector('#heatmap').dataset.trainPoints === {before + 2}",
                           timeout=TIMEOUT)
    wait_until(page, "(new URLSearchParams(location.search).get('points') || '').includes(';')", timeout=TIMEOUT)
    assert query(page)["points"].split(";")[1].endswith(":0")


def test_reload_restores_the_configuration(page):
    open_playground(page)
    page.check("input[data-field=dataset][value=spiral]")
    wait_until(page, "new URLSearchParams(location.search).get('dataset') === 'spiral'", timeout=TIMEOUT)
    page.check("[data-feature='x1^2']")
    wait_until(page, "(new URLSearchParams(location.search).get('features') || '').includes('x1^2')",
                           timeout=TIMEOUT)
    page.select_option("[data-field=activation]", "relu")
    wait_until(page, "new URLSearchParams(location.search).get('activation') === 'relu'", timeout=TIMEOUT)
    page.select_option("[data-field=optimizer]", "adam")
    wait_until(page, "new URLSearchParams(location.search).get('optimizer') === 'adam'", timeout=TIMEOUT)
    page.select_option("[data-field=regularization]", "l2")
    page.select_option("[data-field=regularization_rate]", "0.003")
    page.select_option("[data-field=learning_rate]", "0.01")
    wait_until(page, "new URLSearchParams(location.search).get('learning_rate') === '0.01'", timeout=TIMEOUT)
    page.fill("[data-field=batch_size]", "25")
    page.press("[data-field=batch_size]", "Enter")
    wait_until(page, "new URLSearchParams(location.search).get('batch_size') === '25'", timeout=TIMEOUT)
    page.select_option("#speed", "500")
    page.click("#add-layer")
    wait_for_sizes(page, "3,4,2,2,1")
    wait_until(page, "+document.querySelector('#heatmap').dataset.trainPoints === 250", timeout=TIMEOUT)
    box = page.locator(".heatmap-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.2)
    points = 251
    wait_until(page, f"+document.querySelector('#heatmap').dataset.trainPoints === {points}", timeout=TIMEOUT)
    wait_until(page, "new URLSearchParams(location.search).get('points')", timeout=TIMEOUT)
    wait_for_snapshot(page)
    shown = control_values(page)
    url = page.url

    page.reload()
    page.wait_for_selector("#connection.open", timeout=TIMEOUT)
    wait_for_sizes(page, "3,4,2,2,1")
    wait_until(page, f"+document.querySelector('#heatmap').dataset.trainPoints === {points}", timeout=TIMEOUT)
    assert control_values(page) == shown
    assert shown["dataset"] == "spiral" and shown["activation"] == "relu" and shown["batch_size"] == "25"
    assert shown["features"] == ["x1", "x2", "x1^2"] and shown["speed"] == "500"
    assert page.url == url


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
