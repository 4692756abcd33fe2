"""prefers-reduced-motion (issue 16, item 6): decoration stops (the home page's drawn 7, the bars'
easing), while the training views still show every new state.
"""
from __future__ import annotations

import pytest

from .waiting import wait_until


@pytest.fixture
def tab(browser, server, request):
    """A tab that prefers reduced motion, or not (parametrised)."""
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800}, reduced_motion=request.param)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("tab", ["reduce", "no-preference"], indirect=True)
def test_decoration_stops_when_less_motion_is_asked(tab):
    reduce = tab.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
    tab.goto("/")
    assert tab.evaluate("getComputedStyle(document.querySelector('.pic-stroke')).animationName") == (
        "none" if reduce else "pic-draw")
    tab.goto("/digits")
    wait_until(tab, "document.querySelector('.bar-fill') !== null")
    assert tab.evaluate("getComputedStyle(document.querySelector('.bar-fill')).transitionDuration") == (
        "0s" if reduce else "0.08s")


@pytest.mark.parametrize("tab", ["reduce"], indirect=True)
def test_training_views_still_update_with_reduced_motion(tab):
    tab.goto("/playground")
    wait_until(tab, "document.querySelector('#network').dataset.step !== undefined")
    tab.click("#play")
    wait_until(tab, "+document.querySelector('#network').dataset.step > 50", timeout=20_000)
    wait_until(tab, "+document.querySelector('#loss-chart').dataset.points > 5", timeout=20_000)
    tab.click("#play")
