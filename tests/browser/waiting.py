"""wait_until: Playwright's page.wait_for_function, polled from Python.

Playwright's own wait_for_function runs the expression through eval() inside the page, which the
app's Content-Security-Policy (script-src 'self', no 'unsafe-eval') rightly refuses. page.evaluate
goes through the DevTools protocol instead, so the tests keep the real policy switched on.
"""
from __future__ import annotations

import time

from playwright.sync_api import Error, Page


def wait_until(page: Page, expression: str, timeout: float = 30_000, interval: float = 0.05):
    """Evaluate ``expression`` in the page until it is truthy; return its value.

    An expression that throws (say, an element not drawn yet) counts as not yet true; on timeout
    the error names the expression and the last exception, if any.
    """
    deadline = time.monotonic() + timeout / 1000
    last_error = None
    while True:
        try:
            value = page.evaluate(expression)
            if value:
                return value
            last_error = None
        except Error as e:
            if page.is_closed():
                raise
            last_error = e
        if time.monotonic() > deadline:
            detail = f" (it last threw: {last_error.message.splitlines()[0]})" if last_error else ""
            raise TimeoutError(f"not true after {timeout / 1000:g} s: {expression}{detail}")
        time.sleep(interval)
