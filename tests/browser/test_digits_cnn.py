"""The Digits page with convolutional networks (issue 15), in real Chromium: the pretrained CNN reads
digits drawn with the mouse while its feature maps light up; clicking a map shows its kernels and
where it fired; the dense model is a choice; a small CNN trains live from the page on a slice of
MNIST; and conv layers that cannot work are refused on the page before anything is sent.
"""
from __future__ import annotations

from playwright.sync_api import expect

from .test_digits import ONE, ZERO, canvas_png, count_pixels, draw, open_page
from .waiting import wait_until

SEVEN = [[(70, 50), (210, 50), (150, 150), (110, 245)]]
THREE = [[(90, 60), (140, 40), (185, 70), (170, 120), (130, 140), (180, 165), (190, 215), (140, 245), (90, 225)]]
FOUR = [[(160, 240), (160, 40), (70, 170), (215, 170)]]
SIX = [[(180, 40), (110, 110), (85, 190), (130, 245), (180, 210), (170, 160), (120, 150), (90, 190)]]
DIGITS = {"1": ONE, "0": ZERO, "7": SEVEN, "3": THREE, "4": FOUR, "6": SIX}

# The maps of the network view lit: pixels of its canvas of the feature maps' yellow (255, 206, 84 and
# blends towards it from the unlit cells) in the part of the view between the input and the outputs.
LIT_PIXELS = """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] > 120 && d[i + 2] < 110) n++; return n; }"""


def test_the_pretrained_cnn_reads_drawn_digits_and_its_feature_maps_light_up(page, shot_dir):
    open_page(page)
    expect(page.locator("input[name=reader][value=pretrained]")).to_be_checked()
    expect(page.locator("#net-source")).to_contain_text("CNN")
    net = page.locator("#net canvas")
    unlit = net.evaluate(LIT_PIXELS)
    for digit, strokes in DIGITS.items():
        page.click("#clear")
        draw(page, strokes)
        expect(page.locator("#guess")).to_have_attribute("data-digit", digit, timeout=10_000)
        if digit == "3":
            page.screenshot(path=shot_dir / "digits-cnn-three.png", full_page=True)
    page.wait_for_timeout(100)   # the view draws in the next animation frame
    assert net.evaluate(LIT_PIXELS) > unlit + 500, "the feature maps did not light up"
    label = page.locator("#net").get_attribute("aria-label")
    assert "conv" in label and "pool" in label and "it reads 6" in label


def test_clicking_a_feature_map_shows_its_kernels_and_where_it_fired(page, shot_dir):
    open_page(page)
    draw(page, THREE)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "3", timeout=10_000)
    net = page.locator("#net canvas")
    box = net.bounding_box()
    y = box["y"] + box["height"] / 2
    for x in range(int(box["x"] + 100), int(box["x"] + box["width"]), 3):   # past the input, to a map of layer 3
        page.mouse.move(x, y)
        if "layer 3 (conv), map" in (net.get_attribute("title") or ""):
            break
    page.mouse.click(x, y)
    expect(page.locator("#neuron-title")).to_contain_text("Layer 3 (conv 5×5), map")
    expect(page.locator("#neuron-image-caption")).to_contain_text("one per input channel")
    kernels = page.locator("#neuron-image").evaluate("c => [c.width, c.height]")
    channels = page.evaluate("fetch('/api/models/pretrained/weights').then(r => r.arrayBuffer())"
                             ".then(b => JSON.parse(new TextDecoder().decode(new Uint8Array(b, 8, new DataView(b).getUint32(4, true)))))"
                             ".then(h => h.layers[2].channels)")
    assert kernels[0] == min(channels, 8) * 6 - 1   # 5×5 kernels with a 1-pixel gap, 8 a row
    assert count_pixels(page, "#neuron-input", 0) > 50   # the drawing, and where the map fired on it
    page.screenshot(path=shot_dir / "digits-cnn-map.png", full_page=True)


def test_the_dense_model_is_a_choice_and_its_neurons_show_their_weights(page):
    open_page(page)
    page.check("input[name=reader][value=pretrained-dense]")
    expect(page.locator("#net-source")).to_contain_text("dense")
    draw(page, ZERO)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "0", timeout=10_000)
    assert "hidden" in page.locator("#net").get_attribute("aria-label")
    assert "conv" not in page.locator("#net").get_attribute("aria-label")


def test_a_small_cnn_trains_live_from_the_page_and_reads_the_drawing(page, mnist_dir, shot_dir):
    open_page(page)
    page.select_option("select[name=architecture]", "conv")
    expect(page.locator("#layers-field")).to_be_visible()
    expect(page.locator("#hidden-field")).to_be_hidden()
    layers = page.locator("input[name=layers]")
    expect(layers).to_have_value("conv 5×5×8 valid, pool, conv 5×5×16 valid, pool, flatten, dense 64")
    expect(page.locator("#architecture")).to_have_text("28×28 → 24×24×8 → 12×12×8 → 8×8×16 → 4×4×16 → 256 → 64 → 10 · softmax output")
    layers.fill("conv 5×5×4 valid, pool, flatten, dense 32")   # small: a test on a busy machine
    layers.dispatch_event("change")
    page.select_option("select[name=mnist_train_size]", "10000")
    train = page.locator("#train")
    expect(train).to_be_enabled(timeout=30_000)
    expect(page.locator("#weights-sub")).to_contain_text("5×5 kernels of the first conv layer", timeout=30_000)
    before_png = canvas_png(page, "#weights canvas")
    before = float(page.locator("#accuracy").text_content().split()[0])

    train.click()
    wait_until(page, "() => parseFloat(document.querySelector('#accuracy').textContent) >= 85", timeout=90_000)
    draw(page, ZERO)
    page.check("input[name=reader][value=live]")
    expect(page.locator("#net-source")).to_contain_text("training here")
    wait_until(page, "() => document.querySelector('#net').getAttribute('aria-label').includes('conv 24×24×4')")
    expect(page.locator("#guess")).not_to_have_attribute("data-digit", "", timeout=10_000)   # read by the live CNN
    expect(page.locator("#weights-sub")).to_contain_text("each of its 4 maps")
    page.screenshot(path=shot_dir / "digits-cnn-training.png", full_page=True)
    train.click()   # pause: the whole test set is scored
    expect(train).to_have_text("▶ Train")
    after = float(page.locator("#accuracy").text_content().split()[0])
    assert before < 30 and after > before + 50, (before, after)
    assert canvas_png(page, "#weights canvas") != before_png   # the kernels changed while it trained
    expect(page.locator(".gallery figure").first).to_be_visible(timeout=30_000)


def test_conv_layers_that_cannot_work_are_refused_on_the_page(page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_page(page)
    page.select_option("select[name=architecture]", "conv")
    layers, problem, train = page.locator("input[name=layers]"), page.locator("#hidden-problem"), page.locator("#train")
    expect(train).to_be_enabled(timeout=30_000)
    configures = sum("configure" in str(s) for s in sent)
    cases = {
        "conv 5×5×8, dense 10": "follows 28×28×8 maps: put “flatten” before it",
        "conv 5×5×8 valid, pool, pool, pool, pool, pool, flatten": "needs maps of at least 2×2, but its input is 1×1×8",
        "conv 31×31×8, flatten": "the kernel size must be 1 to 9, not 31",
        "conv 5×5×8 valid, pool, pool, conv 7×7×4, flatten": "must be 1 to 6, not 7 (the kernel must fit the 6×6 maps",
        "conv 5×5×0, flatten": "a conv layer has 1 to 1024 channels, not 0",
        "conv 5×5×8": "end with 28×28×8 maps",
        "conv 5×3×8, flatten": "kernels are square",
        "conv 5×5×8 wide, flatten": "padding “wide” is not one of same, valid",
    }
    for text, words in cases.items():
        layers.fill(text)
        expect(problem).to_contain_text(words)
        expect(layers).to_have_attribute("aria-invalid", "true")
        expect(train).to_be_disabled()
    layers.fill("conv 3x3x4, pool, flatten, 16")
    expect(problem).to_be_hidden()
    expect(train).to_be_enabled()
    assert sum("configure" in str(s) for s in sent) == configures, "a refused value was sent"
    assert configures >= 1   # the frames were seen at all


def test_the_keyboard_walks_the_maps_and_neurons_and_enter_shows_one(page):
    """Without a mouse: Tab to the network view, arrows move between maps and layers (a live region
    says where), Enter opens the same kernels and drawing a click opens."""
    open_page(page)
    draw(page, THREE)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "3", timeout=10_000)
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#net canvas')"):
            break
    else:
        raise AssertionError("Tab never reached the network view")
    said = page.locator("#net [aria-live]")
    page.keyboard.press("ArrowDown")                  # the first key puts the ring on layer 1's first map
    expect(said).to_have_text("layer 1 (conv), map 0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")                 # past the pool, to the second conv layer
    page.keyboard.press("ArrowDown")
    expect(said).to_have_text("layer 3 (conv), map 2")   # numbered as the neuron panel numbers them
    page.keyboard.press("Enter")
    expect(page.locator("#neuron-title")).to_contain_text("Layer 3 (conv 5×5), map 2")
    expect(page.locator("#neuron-image-caption")).to_contain_text("one per input channel")
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")                 # pool, then the dense layer after the flatten
    expect(said).to_contain_text("layer 6, neuron")
    assert page.evaluate("document.activeElement.matches('#net canvas')")


def test_a_small_drawing_gets_a_hint_to_draw_bigger(page):
    """Small digits are read less reliably (reader.js, SMALL_DRAWING): a finished small drawing is told
    so; a big one, an empty pad and a small drawing that grows bigger are not."""
    open_page(page)
    hint = page.locator("#size-hint")
    small_seven = [[(120, 120), (165, 120), (145, 150), (135, 170)]]   # 50 px + the 20 px pen
    box = page.locator("#pad canvas").bounding_box()
    page.mouse.move(box["x"] + 120, box["y"] + 120)
    page.mouse.down()
    page.mouse.move(box["x"] + 150, box["y"] + 120, steps=4)       # small so far, but the stroke goes on
    page.wait_for_timeout(200)
    expect(hint).to_be_hidden()
    page.mouse.up()
    expect(hint).to_be_visible()
    page.click("#clear")
    draw(page, small_seven)
    expect(hint).to_be_visible()
    expect(page.locator("#guess")).to_have_attribute("data-digit", "7", timeout=10_000)
    draw(page, [[(60, 40), (60, 250)]])        # a long stroke beside it: the drawing is big now
    expect(hint).to_be_hidden()
    page.click("#clear")
    expect(hint).to_be_hidden()
    draw(page, SEVEN)
    expect(page.locator("#guess")).to_have_attribute("data-digit", "7", timeout=10_000)
    expect(hint).to_be_hidden()
