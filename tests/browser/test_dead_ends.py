"""Issue 14 on the Playground, walked in real Chromium: controls that obey the published schema
before anything is sent, a divergence the run recovers from, messages in the user's words."""
from __future__ import annotations

from .playground import TIMEOUT, number, open_playground, query, wait_for_query, wait_for_sizes
from .waiting import wait_until

SOFTSIGN = """
import numpy as np
from engine import activations
activations.register("softsign", lambda z: z / (1 + np.abs(z)), lambda z, a: (1 - np.abs(a)) ** 2)
"""


def losses_are_finite(page) -> bool:
    return all(page.text_content(s).strip() not in ("∞", "–") for s in ("#train-loss", "#test-loss"))


def test_a_divergence_goes_back_to_finite_weights_and_training_goes_on(page):
    """The repro of issue 14, item 2, step by step."""
    open_playground(page, "?dataset=plane&activation=linear&output=linear&learning_rate=1")
    page.click("#play")
    message = page.wait_for_selector(".message.error[data-key=diverged]", timeout=TIMEOUT)
    assert "diverged" in message.text_content() and "learning rate 1 " in message.text_content()
    wait_until(page, "document.querySelector('#play').textContent.includes('Play')", timeout=TIMEOUT)
    # the network is back at a step whose losses are finite, and the page says which
    wait_until(page, "document.querySelector('#step-count').textContent === '0'", timeout=TIMEOUT)
    assert losses_are_finite(page), (page.text_content("#train-loss"), page.text_content("#test-loss"))
    assert "back at step 0" in message.text_content()

    message.query_selector("button:text('Learning rate ÷ 10')").click()
    wait_for_query(page, "learning_rate", "0.1")
    assert page.input_value("[data-field=learning_rate]") == "0.1"           # the control follows
    text = page.text_content(".message.error[data-key=diverged]")
    assert "now 0.1" in text and "learning rate 1 " not in text               # and so does the message

    page.select_option("[data-field=learning_rate]", "0.001")
    wait_for_query(page, "learning_rate", "0.001")
    page.click("#play")
    wait_until(page, "parseInt(document.querySelector('#step-count').textContent.replace(/,/g, '')) > 200",
               timeout=TIMEOUT)
    assert page.text_content("#play").strip().endswith("Pause")
    assert losses_are_finite(page) and number(page, "#train-loss") < 1
    assert not page.query_selector(".message.error[data-key=diverged]")
    page.click("#play")


def test_the_add_layer_button_stops_at_the_servers_limit(browser, start_server, tab_on):
    page = tab_on(start_server(env={"NNPLAY_MAX_LAYERS": "3"}).url)
    open_playground(page, "?dataset=circle&hidden=4,2")
    add = page.locator("#add-layer")
    assert add.is_enabled()
    add.click()
    wait_for_sizes(page, "2,4,2,2,1")
    wait_until(page, "document.querySelector('#add-layer').disabled", timeout=TIMEOUT)
    assert "at most 3 hidden layers" in add.get_attribute("title")
    assert page.text_content("#layer-count") == "3 hidden layers"


def test_a_registered_activation_is_offered_by_both_pages_and_trains(start_server, tab_on):
    url = start_server(preamble=SOFTSIGN).url
    page = tab_on(url)
    open_playground(page, "?dataset=circle")
    assert page.text_content("[data-field=activation] option[value=softsign]") == "Softsign"
    page.select_option("[data-field=activation]", "softsign")
    wait_for_query(page, "activation", "softsign")
    page.click("#step")
    wait_until(page, "document.querySelector('#step-count').textContent === '1'", timeout=TIMEOUT)
    digits = tab_on(url)
    digits.goto("/digits")
    assert digits.text_content("select[name=activation] option[value=softsign]") == "Softsign"


def test_the_last_input_feature_cannot_be_unchecked(page):
    open_playground(page, "?dataset=circle&features=x1,x2")
    page.uncheck("[data-feature=x2]")
    wait_for_query(page, "features", "x1")
    x1 = page.locator("[data-feature=x1]")
    wait_until(page, "document.querySelector('[data-feature=x1]').disabled", timeout=TIMEOUT)
    assert x1.is_checked() and "at least one input" in page.get_attribute("label:has([data-feature=x1])", "title")
    page.check("[data-feature=x1x2]")
    wait_for_query(page, "features", "x1,x1x2")
    wait_until(page, "!document.querySelector('[data-feature=x1]').disabled", timeout=TIMEOUT)


def test_play_and_step_wait_while_the_batch_size_is_invalid(page):
    open_playground(page, "?dataset=circle")
    page.fill("[data-field=batch_size]", "0")
    problem = page.locator("#field-problem")
    wait_until(page, "!document.querySelector('#field-problem').hidden", timeout=TIMEOUT)
    assert "Batch size must be a whole number from 1 to 65,536, not 0." == problem.text_content()
    assert page.is_disabled("#play") and page.is_disabled("#step")
    assert page.get_attribute("#play", "title") == problem.text_content()
    page.keyboard.press("Enter")                       # nothing is sent: the run keeps its batch size
    page.wait_for_timeout(300)
    assert query(page)["batch_size"] == "10"
    page.fill("[data-field=batch_size]", "25")
    page.keyboard.press("Enter")
    wait_for_query(page, "batch_size", "25")
    assert page.is_enabled("#play") and problem.is_hidden()


def test_a_link_over_the_limits_is_refused_in_words(page):
    page.goto("/playground?dataset=circle&hidden=2,2,2,2,2,2,2,2,2")
    message = page.wait_for_selector(".message.error[data-key=link]", timeout=TIMEOUT)
    text = message.query_selector(".message-text").text_content()
    assert "at most 8 hidden layers" in text and "has 9" in text and "max_layers" not in text
    assert "max_layers=8" in message.query_selector("details pre").text_content()   # the server's words, behind details
    wait_for_sizes(page, "2,4,2,1")                      # the server's default network instead
    page.goto("/playground?dataset=circle&features=")
    message = page.wait_for_selector(".message.error[data-key=link]", timeout=TIMEOUT)
    assert "Choose at least one of the input features" in message.text_content()
    assert "features=[]" not in message.query_selector(".message-text").text_content()


def test_tables_have_no_plane_and_their_sliders_show_a_dash(page):
    open_playground(page, "?dataset=one_neuron&hidden=")
    wait_for_sizes(page, "3,1")
    note = page.text_content(".heatmap-note")
    assert "One neuron" in note and "one_neuron" not in note and "3 inputs" in note
    for name in ("noise", "train_ratio", "n_samples"):
        assert page.text_content(f"output[data-shows={name}]") == "—"
        assert page.is_disabled(f"input[data-field={name}]")


def test_space_plays_and_pauses(page):
    open_playground(page, "?dataset=circle")
    page.locator("#network").click(position={"x": 5, "y": 400})    # focus on the page, not on a control
    page.keyboard.press(" ")
    wait_until(page, "document.querySelector('#play').textContent.includes('Pause')", timeout=TIMEOUT)
    page.keyboard.press(" ")
    wait_until(page, "document.querySelector('#play').textContent.includes('Play')", timeout=TIMEOUT)
    page.focus("[data-field=batch_size]")                            # typing a space in a field does not
    page.keyboard.press(" ")
    page.wait_for_timeout(300)
    assert page.text_content("#play").strip().endswith("Play")


def test_an_unknown_page_answers_in_the_sites_style(server, tab_on):
    page = tab_on(server, ignore=("status of 404",))
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert page.text_content("h1") == "Page not found" and page.is_visible(".topbar")
    page.click(".card[href='/playground']")
    page.wait_for_selector("#connection.open", timeout=TIMEOUT)
