"""The Digits page in real Chromium: draw digits with the mouse and have them read, clear the pad,
train an MNIST network live, and look at what a neuron looks for.
"""
from __future__ import annotations

import math

import pytest
from playwright.sync_api import expect

from .waiting import wait_until


PAD = 280


def ellipse(cx, cy, rx, ry, n=40):
    return [(cx + rx * math.sin(2 * math.pi * k / n), cy - ry * math.cos(2 * math.pi * k / n)) for k in range(n + 1)]


ONE = [[(150, 45), (145, 100), (140, 160), (137, 235)]]
ZERO = [ellipse(140, 140, 58, 88)]


def draw(page, strokes):
    """Real mouse strokes over the pad: press, move along the path in small steps, release."""
    box = page.locator("#pad canvas").bounding_box()
    assert box["width"] == pytest.approx(PAD, abs=1)
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        page.mouse.up()


def open_page(page):
    page.goto("/digits")
    expect(page.locator("#connection")).to_have_class("connection open")
    expect(page.locator("#guess")).to_have_text("draw a digit")


def canvas_png(page, selector):
    return page.locator(selector).evaluate("c => c.toDataURL()")


def count_pixels(page, selector, channel):
    """How many pixels of a canvas have a nonzero value in channel 0..3 (R, G, B, alpha)."""
    return page.locator(selector).evaluate(
        "(c, k) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = k; i < d.length; i += 4) n += d[i] > 0; return n; }", channel)


def test_drawn_one_and_zero_are_read(page, shot_dir):
    open_page(page)
    guess = page.locator("#guess")

    draw(page, ONE)
    expect(guess).to_have_attribute("data-digit", "1", timeout=10_000)
    expect(page.locator(".bar.best")).to_have_attribute("data-label", "1")
    assert 20 < count_pixels(page, "#input28", 0) < 300  # the 28×28 input the network saw: a thin stroke

    page.click("#clear")
    draw(page, ZERO)
    expect(guess).to_have_attribute("data-digit", "0", timeout=10_000)
    expect(page.locator(".bar.best")).to_have_attribute("data-label", "0")
    page.screenshot(path=shot_dir / "digits-read-zero.png", full_page=True)


def test_clearing_the_pad_shows_no_guess(page):
    open_page(page)
    draw(page, ONE)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "1", timeout=10_000)

    page.click("#clear")
    expect(page.locator("#guess")).to_have_text("draw a digit")
    expect(page.locator("#pad-hint")).to_be_visible()
    page.wait_for_timeout(300)  # a reading still in flight must not bring a guess back
    expect(page.locator("#guess")).to_have_text("draw a digit")
    expect(page.locator("#guess")).to_have_attribute("data-digit", "")
    expect(page.locator(".bar.best")).to_have_count(0)
    assert page.locator("#confidence").text_content() == ""


def test_undo_removes_the_last_stroke(page):
    open_page(page)
    draw(page, ONE)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "1", timeout=10_000)
    draw(page, ZERO)
    expect(page.locator("#guess")).not_to_have_attribute("data-digit", "1", timeout=10_000)
    page.click("#undo")
    expect(page.locator("#guess")).to_have_attribute("data-digit", "1", timeout=10_000)
    page.keyboard.press("Control+z")
    expect(page.locator("#guess")).to_have_text("draw a digit")


def test_training_raises_accuracy_and_changes_the_weight_images(page, mnist_dir, shot_dir):
    open_page(page)
    # a smaller training set keeps the run short; the page's default is all 60,000 images
    expect(page.locator("select[name=mnist_train_size]")).to_have_value("60000")
    page.select_option("select[name=mnist_train_size]", "10000")
    train = page.locator("#train")
    expect(train).to_be_enabled(timeout=30_000)  # the untrained network is built: paused, chance level
    weights = "#weights canvas"
    expect(page.locator(weights)).to_have_count(1)
    expect(page.locator("#accuracy")).not_to_have_text("–")
    before_png = canvas_png(page, weights)
    before = float(page.locator("#accuracy").text_content().split()[0])

    train.click()
    wait_until(page,
        "() => parseFloat(document.querySelector('#accuracy').textContent) >= 85", timeout=60_000)
    expect(page.locator("#accuracy-rows")).to_have_text("on 1,000 digits")   # scored live on a part of the test set
    draw(page, ZERO)
    page.check("input[name=reader][value=live]")
    expect(page.locator("#net-source")).to_contain_text("training here")
    expect(page.locator("#guess")).to_have_attribute("data-digit", "0", timeout=10_000)
    page.screenshot(path=shot_dir / "digits-training.png", full_page=True)

    train.click()  # pause
    expect(train).to_have_text("▶ Train")
    after = float(page.locator("#accuracy").text_content().split()[0])
    assert before < 30 and after > before + 50, (before, after)
    expect(page.locator("#accuracy-rows")).to_have_text("on 10,000 digits")  # the pause scores all of it
    assert canvas_png(page, weights) != before_png
    expect(page.locator(".gallery figure").first).to_be_visible(timeout=30_000)  # the evaluation frame


def test_clicking_a_neuron_shows_its_weight_image(page, shot_dir):
    open_page(page)
    page.check("input[name=reader][value=pretrained-dense]")   # the CNN's maps: tests/browser/test_digits_cnn.py
    draw(page, ZERO)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "0", timeout=10_000)
    before = canvas_png(page, "#neuron-image")

    net = page.locator("#net canvas")
    box = net.bounding_box()
    y = box["y"] + box["height"] / 2
    for x in range(int(box["x"]), int(box["x"] + box["width"]), 3):  # hover until a first-layer neuron
        page.mouse.move(x, y)
        if "layer 1," in (net.get_attribute("title") or ""):
            break
    else:
        pytest.fail("no neuron of layer 1 found under the mouse across the network view")
    page.mouse.click(x, y)

    expect(page.locator("#neuron-title")).to_contain_text("Layer 1, neuron")
    assert canvas_png(page, "#neuron-image") != before
    assert count_pixels(page, "#neuron-image", 3) == 28 * 28  # every pixel painted
    page.screenshot(path=shot_dir / "digits-neuron.png", full_page=True)


def test_hidden_layers_are_read_in_one_place_and_refused_in_the_users_words(page):
    open_page(page)
    train, problem, hidden = page.locator("#train"), page.locator("#hidden-problem"), page.locator("input[name=hidden]")
    expect(train).to_be_enabled(timeout=30_000)
    hidden.fill("abc")
    expect(problem).to_have_text("Hidden layers “abc” is not valid: give numbers separated by commas, like 128, 64.")
    expect(train).to_be_disabled()
    assert train.get_attribute("title") == problem.text_content()
    assert page.text_content("#architecture") == ""            # not "784–NaN–10"
    hidden.fill("")
    expect(problem).to_contain_text("Hidden layers is empty")
    expect(train).to_be_disabled()
    hidden.fill("64, 2000")
    expect(problem).to_contain_text("at most 1,024 neurons in a layer, not 2,000")
    hidden.fill("32")
    expect(problem).to_be_hidden()
    expect(train).to_be_enabled()
    expect(page.locator("#architecture")).to_have_text("784–32–10 · softmax output")


def test_the_test_line_is_measured_from_the_first_second_and_the_charts_read_out(page):
    open_page(page)
    train = page.locator("#train")
    expect(train).to_be_enabled(timeout=30_000)
    train.click()
    # 60,000 images in batches of 128: 469 steps an epoch; test points well before its end
    wait_until(page, "(document.querySelector('#loss-chart').dataset.measuredAt_test_loss || '').split(',')"
                     ".filter(x => +x > 0 && +x < 469).length >= 3", timeout=30_000)
    train.click()
    expect(train).to_have_text("▶ Train")
    chart = page.locator("#loss-chart")
    page.check("#loss-chart .chart-log input")
    expect(chart).to_have_attribute("data-scale", "log")
    box = page.locator("#loss-chart .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    legend = page.locator("#loss-chart .u-legend").text_content()
    assert "train" in legend and "test" in legend and "step" in legend


def test_offline_download_says_no_mirror_answered_and_how_to_install_by_hand(start_server, tab_on, tmp_path):
    from .conftest import free_port
    folder = tmp_path / "no-mnist"
    server = start_server(env={"NNPLAY_DATA_DIR": str(folder), "NNPLAY_MNIST_MIRRORS": f"http://127.0.0.1:{free_port()}/"})
    page = tab_on(server.url)
    page.goto("/digits")
    expect(page.locator("#mnist-missing")).to_be_visible(timeout=30_000)
    page.click("#download")
    expect(page.locator("#download-failed")).to_be_visible(timeout=30_000)
    reason = page.text_content("#download-reason")
    assert "none of the download mirrors could be reached" in reason and "Errno" not in reason
    assert page.locator("#download-files li").all_text_contents() == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert page.text_content("#download-dir") == str(folder)
    assert "NNPLAY_DATA_DIR" in page.text_content("#download-failed")
    details = page.locator("#download-failed details pre")
    expect(details).to_be_hidden()
    page.click("#download-failed details summary")
    expect(details).to_contain_text("Connection refused")
    expect(page.locator("#download")).to_have_text("Try again")
