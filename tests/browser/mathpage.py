"""What the Math page browser tests share: the engine's numbers recomputed in NumPy, the `trace`
messages captured from the socket (the ``traces`` fixture), and moving through the operations."""
import json
import re

import numpy as np
import pytest

from .waiting import wait_until

MINUS = "\u2212"

READ_CARD = """() => Object.fromEntries([...document.querySelectorAll('#math-op figure[data-matrix]')].map((f) => {
  const rows = +f.dataset.rows, cols = +f.dataset.cols;
  const value = Array.from({length: rows}, () => new Array(cols));
  const text = Array.from({length: rows}, () => new Array(cols));
  for (const c of f.querySelectorAll('.mx-cell')) {
    value[+c.dataset.row][+c.dataset.col] = c.dataset.value;
    text[+c.dataset.row][+c.dataset.col] = c.textContent;
  }
  return [f.dataset.matrix, {decimals: +f.dataset.decimals, value, text}];
}))"""


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


class Shown:
    """One displayed matrix: its full-precision values, its text and its decimals."""

    def __init__(self, raw):
        self.decimals = raw["decimals"]
        self.value = np.array([[float(v) for v in row] for row in raw["value"]])
        self.text = raw["text"]
        self.rounded = np.array([[float(t.replace(MINUS, "-")) for t in row] for row in raw["text"]])

    def assert_shows(self, expected, name):
        """The text equals `expected` rounded to the shown decimals (one float32 ulp of slack)."""
        expected = np.asarray(expected, dtype=np.float64).reshape(self.rounded.shape)
        slack = 0.5 * 10.0 ** -self.decimals + 1e-6 * np.maximum(1, np.abs(expected))
        bad = np.abs(self.rounded - expected) > slack
        assert not bad.any(), f"{name} shows {self.text}, expected {np.round(expected, self.decimals + 2).tolist()}"


def rows(v):
    """A trace vector (n,) as the 1×n row the page shows."""
    v = np.asarray(v, dtype=np.float64)
    return v[None, :] if v.ndim == 1 else v


def trace_value(trace, name):
    """The trace array a page matrix name stands for (None for a name made by presentation)."""
    if name.endswith(".T"):
        value = trace_value(trace, name[:-2])
        return None if value is None else value.T
    if name in ("X", "Y", "error"):
        return np.asarray(trace[name], dtype=np.float64)
    m = re.fullmatch(r"(W|b|z|a|delta|dW|db|fprime|grad_a)(\d+)(_new)?", name)
    if not m:
        return None
    key = m.group(1) + (m.group(3) or "")
    return rows(trace[key][int(m.group(2)) - 1])


@pytest.fixture
def traces(page):
    """Every `trace` message the page receives, captured from the socket itself."""
    got = []

    def on_frame(payload):
        if isinstance(payload, str):
            message = json.loads(payload)
            if message.get("type") == "trace":
                got.append(message)
    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return got


def open_math(page, query="preset=xor"):
    page.goto(f"/math?{query}")
    wait_until(page, "window.nnplayMath && window.nnplayMath.operations.length > 0", timeout=15000)


def operation(page):
    return page.evaluate("window.nnplayMath.operation")


def shown_op(page, op_id, step=None):
    """Until the card on screen shows operation `op_id` (of training step `step`)."""
    card = f"#math-op[data-op={json.dumps(op_id)}]" + (f'[data-step="{step}"]' if step else "")
    page.wait_for_selector(card, timeout=15000)


def card(page):
    return {name: Shown(raw) for name, raw in page.evaluate(READ_CARD).items()}


def walk(page):
    """Go through every operation of the current step with the Next button; {op id: {name: Shown}}."""
    ids = page.evaluate("window.nnplayMath.operations")
    page.locator("#math-ops li").first.click()
    seen = {}
    for i, op_id in enumerate(ids):
        shown_op(page, op_id)
        seen[op_id] = card(page)
        if i < len(ids) - 1:
            page.click("#math-next")
    return seen


def go_to(page, op_id):
    page.click(f'#math-ops li[data-op="{op_id}"]')
    shown_op(page, op_id)


def wait_for_trace(page, traces, count):
    """Until the page has shown step `count` and the socket listener has seen as many traces."""
    wait_until(page, f"window.nnplayMath.lastTrace && window.nnplayMath.lastTrace.step === {count}", timeout=15000)
    for _ in range(100):
        if len(traces) >= count:
            break
        page.wait_for_timeout(50)
    assert len(traces) == count
