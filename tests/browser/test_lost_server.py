"""Issue 14, item 3: a lost server is never silent, and a blip loses nothing. Real Chromium against
a server of the test's own that it stops and starts again on the same port, or behind a proxy
that drops every connection at once."""
from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from .proxy import Proxy
from .playground import TIMEOUT, number, open_playground, query, wait_for_sizes
from .waiting import wait_until

# what Chromium logs while the page's server cannot be reached
OFFLINE_NOISE = ("WebSocket connection to", "ERR_CONNECTION_REFUSED", "Failed to load resource")


def step_count(page) -> int:
    return int(number(page, "#step-count"))


def resumes_sessions(url: str) -> bool:
    """Does this server hand out resume tokens (hello.resume, the lead's side of issue 14 item 3)?"""
    with connect(f"ws://{urlparse(url).netloc}/ws/session") as ws:
        return "resume" in json.loads(ws.recv())


def test_a_stopped_server_is_said_plainly_and_a_restart_rebuilds_the_run(start_server, tab_on, shot_dir):
    server = start_server()
    page = tab_on(server.url, ignore=OFFLINE_NOISE)
    open_playground(page, "?dataset=spiral&hidden=6,4&optimizer=adam&learning_rate=0.01")
    page.click("#play")
    wait_until(page, "parseInt(document.querySelector('#step-count').textContent.replace(/,/g, '')) > 300",
               timeout=TIMEOUT)

    server.stop()
    banner = page.locator("#connection-banner")
    expect(banner).to_be_visible(timeout=TIMEOUT)
    expect(banner).to_contain_text("connection to the server was lost")
    expect(banner).to_contain_text("Trying again in")
    expect(page.locator("#play")).to_have_text("▶ Play")                  # shown paused, not "Pause"
    assert page.is_disabled("#play") and page.get_attribute("#play", "title") == "Waiting for the server"
    assert page.evaluate("['.pg-runbar', '.pg-data', '.pg-network'].every(s => document.querySelector(s).inert)")
    page.screenshot(path=str(shot_dir / "playground-server-lost.png"))

    server.start()
    expect(banner).to_contain_text("training starts again from step 0", timeout=TIMEOUT)
    expect(page.locator(".message.note[data-key=connection]")).to_contain_text("rebuilt from this page's address")
    wait_for_sizes(page, "2,6,4,1")
    assert query(page)["dataset"] == "spiral" and query(page)["optimizer"] == "adam"
    expect(page.locator("#play")).to_have_text("❚❚ Pause", timeout=TIMEOUT)   # it was playing: it plays again
    assert not page.evaluate("document.querySelector('.pg-data').inert")
    page.click("#play")


def test_the_digits_page_says_so_too(start_server, tab_on):
    server = start_server()
    page = tab_on(server.url, ignore=OFFLINE_NOISE)
    page.goto("/digits")
    train = page.locator("#train")
    expect(train).to_be_enabled(timeout=TIMEOUT)
    server.stop()
    expect(page.locator("#connection-banner")).to_contain_text("connection to the server was lost", timeout=TIMEOUT)
    expect(train).to_be_disabled()
    assert train.get_attribute("title") == "Waiting for the server"
    server.start()
    expect(page.locator("#connection-banner")).to_contain_text("training starts again from step 0", timeout=TIMEOUT)
    expect(train).to_be_enabled(timeout=TIMEOUT)


def test_a_network_blip_resumes_the_same_session(start_server, tab_on):
    """Needs the server's side (hello.resume and /ws/session?resume=<token>): the lead's, on main."""
    server = start_server()
    if not resumes_sessions(server.url):
        pytest.skip("needs server resume: this server's hello has no resume token yet (issue 14 item 3, server side)")
    proxy = Proxy(server.port)
    try:
        page = tab_on(proxy.url, ignore=OFFLINE_NOISE)
        open_playground(page, "?dataset=circle&hidden=6,3")
        page.click("#play")
        wait_until(page, "parseInt(document.querySelector('#step-count').textContent.replace(/,/g, '')) > 300",
                   timeout=TIMEOUT)
        proxy.cut()
        banner = page.locator("#connection-banner")
        expect(banner).to_contain_text("Reconnected at step", timeout=TIMEOUT)
        words = page.text_content("#connection-banner .banner-text")
        resumed_at = int(words.split("Reconnected at step")[1].strip(" .").replace(",", ""))
        assert resumed_at > 300                                    # the same session: weights and step count kept
        expect(page.locator("#play")).to_have_text("❚❚ Pause", timeout=TIMEOUT)   # and it plays on
        wait_until(page, f"parseInt(document.querySelector('#step-count').textContent.replace(/,/g, '')) > {resumed_at + 100}",
                   timeout=TIMEOUT)
        assert "step 0" not in page.text_content("#connection-banner .banner-text")
        assert not page.query_selector(".message.note[data-key=connection]:has-text('rebuilt')")
        wait_for_sizes(page, "2,6,3,1")
        page.click("#play")
    finally:
        proxy.close()


def test_a_network_blip_resumes_the_digits_training_too(start_server, tab_on):
    """Needs the server's side (hello.resume and /ws/session?resume=<token>): the lead's, on main."""
    server = start_server()
    if not resumes_sessions(server.url):
        pytest.skip("needs server resume: this server's hello has no resume token yet (issue 14 item 3, server side)")
    proxy = Proxy(server.port)
    try:
        page = tab_on(proxy.url, ignore=OFFLINE_NOISE)
        page.goto("/digits?mnist_train_size=10000")
        train = page.locator("#train")
        expect(train).to_be_enabled(timeout=TIMEOUT)
        train.click()
        wait_until(page, "(document.querySelector('#loss-chart').dataset.points | 0) > 5", timeout=TIMEOUT)
        proxy.cut()
        expect(page.locator("#connection-banner .banner-text")).to_contain_text("Reconnected: the same session, at step",
                                                                             timeout=TIMEOUT)
        words = page.text_content("#connection-banner .banner-text")
        assert int(words.split("at step")[1].strip(" .").replace(",", "")) > 0
        expect(train).to_have_text("❚❚ Pause", timeout=TIMEOUT)            # it trains on
        train.click()
    finally:
        proxy.close()
