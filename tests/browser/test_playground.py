"""The Playground page in real Chromium against a real server: training, live settings, adding
layers and points, and the shareable URL, read from what the page shows."""
import json

import pytest

from .playground import (TIMEOUT, canvas_data, control_values, number, open_playground, pick_preset, query,
                         wait_for_query, wait_for_sizes, wait_for_snapshot)
from .waiting import wait_until


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
