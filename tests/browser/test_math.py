"""The Math page in real Chromium: every number it shows is the engine's, operation by operation.

Each displayed matrix is a <figure data-matrix=name data-decimals=d> whose cells carry the
full-precision value in data-value and the rounded value as text. The checks compare both
with the `trace` message captured from the WebSocket, and the rounded text with an independent
NumPy recomputation from the shown X, W and b.
"""
import re

import numpy as np

from .mathpage import (MINUS, card, go_to, open_math, rows, shown_op, sigmoid, trace_value,
                       traces, wait_for_trace, walk)  # noqa: F401 (traces is a fixture)


def test_xor_step_shows_the_engines_numbers(page, traces, shot_dir):
    open_math(page)
    wait_for_trace(page, traces, 1)
    trace = traces[0]
    assert page.evaluate("window.nnplayMath.lastTrace") == trace
    assert trace["activations"] == ["sigmoid", "sigmoid"] and len(trace["X"]) == 4
    seen = walk(page)
    assert list(seen) == ["input", "params1", "z1", "a1", "params2", "z2", "a2", "error", "delta2", "delta1",
                          "grad1", "update1", "grad2", "update2"]

    # (a) every matrix shown is the trace's, to full precision in data-value and rounded in the text
    checked = set()
    for op_id, figures in seen.items():
        for name, shown in figures.items():
            want = trace_value(trace, name)
            if want is None:
                assert name == "ones.T", f"{op_id} shows {name}, which is not a trace array"
                assert (shown.value == 1).all()
                continue
            assert np.array_equal(shown.value, want), f"{op_id}: {name} differs from the trace"
            shown.assert_shows(want, f"{op_id}: {name}")
            checked.add(name)
    assert {"z1", "z2", "a2", "error", "fprime2", "delta2", "grad_a1", "delta1", "dW1", "db2", "W1_new", "b2_new"} <= checked

    # (b) an independent float64 recomputation from the shown X, Y, W and b
    X, Y = seen["input"]["X"].value, seen["input"]["Y"].value
    W1, b1 = seen["params1"]["W1"].value, seen["params1"]["b1"].value
    W2, b2 = seen["params2"]["W2"].value, seen["params2"]["b2"].value
    lr, n = trace["learning_rate"], len(X)
    z1 = X @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)
    e = Y - a2
    delta2 = -(e * a2 * (1 - a2)) / n
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    dW1, dW2 = X.T @ delta1, a1.T @ delta2
    for op_id, name, want in [("z1", "z1", z1), ("a1", "a1", a1), ("z2", "z2", z2), ("a2", "a2", a2),
                              ("error", "error", e), ("delta2", "delta2", delta2), ("delta1", "delta1", delta1),
                              ("grad1", "dW1", dW1), ("grad1", "db1", delta1.sum(0)), ("grad2", "dW2", dW2),
                              ("update1", "W1_new", W1 - lr * dW1), ("update1", "b1_new", b1 - lr * delta1.sum(0)),
                              ("update2", "W2_new", W2 - lr * dW2)]:
        seen[op_id][name].assert_shows(want, f"recomputed {name}")

    # the learning rate shown in the update (the page is on its last operation now) is the trace's
    assert page.locator("#math-op .eq-scalar-label").all_text_contents() == ["η", "η"]
    assert float(page.locator("#math-op .eq-scalar-value").first.text_content()) == lr

    go_to(page, "z1")
    page.hover('figure[data-matrix="z1"] .mx-cell[data-row="2"][data-col="1"]')
    page.screenshot(path=str(shot_dir / "math-xor-z1-hover.png"))
    go_to(page, "delta1")
    page.screenshot(path=str(shot_dir / "math-xor-delta1.png"))

    # next training step: the weights shown are the ones the last step produced
    go_to(page, "update2")
    page.click("#math-step")
    wait_for_trace(page, traces, 2)
    shown_op(page, "update2", step=2)
    now = card(page)
    assert np.array_equal(now["W2"].value, seen["update2"]["W2_new"].value)
    assert np.array_equal(now["W2"].value, rows(trace["W_new"][1]))
    assert np.array_equal(now["b2"].value, rows(trace["b_new"][1]))
    go_to(page, "params1")
    assert np.array_equal(card(page)["W1"].value, rows(trace["W_new"][0]))
    assert page.locator("#math-op .op-count").text_content().startswith("Step 2")


def test_hovering_a_result_writes_out_the_sum_and_lights_its_sources(page, traces):
    open_math(page)
    go_to(page, "z1")
    shown = card(page)
    X, W, b, z = shown["X"], shown["W1"], shown["b1"], shown["z1"]
    page.hover('figure[data-matrix="z1"] .mx-cell[data-row="2"][data-col="1"]')
    paren = lambda t: f"({t})" if t.startswith(MINUS) else t
    terms = " + ".join(f"{paren(X.text[2][k])}·{paren(W.text[k][1])}" for k in range(2))
    assert page.locator(".eq-readout").text_content() == f"z¹₃₂ = {terms} + {paren(b.text[0][1])} = {z.text[2][1]}"
    lit = page.evaluate("""[...document.querySelectorAll('.is-source')].map((c) =>
        `${c.closest('figure').dataset.matrix}:${c.dataset.row},${c.dataset.col}`).sort()""")
    assert lit == ["W1:0,1", "W1:1,1", "X:2,0", "X:2,1", "b1:0,1"]
    assert page.locator('figure[data-matrix="z1"] .is-target').count() == 1

    go_to(page, "delta2")
    page.hover('figure[data-matrix="delta2"] .mx-cell[data-row="0"][data-col="0"]')
    shown = card(page)
    e, fp, d = shown["error"].text[0][0], shown["fprime2"].text[0][0], shown["delta2"].text[0][0]
    assert page.locator(".eq-readout").text_content() == f"δ²₁₁ = −(e₁₁ · σ′(z²₁₁)) / n = −({paren(e)} · {paren(fp)}) / 4 = {d}"


def test_tutorial_form_and_bias_column_rearrange_but_agree(page, traces):
    open_math(page)
    wait_for_trace(page, traces, 1)
    trace = traces[0]
    go_to(page, "update1")
    gradient_form = card(page)
    page.check('input[name="math-update"][value="tutorial"]')
    page.wait_for_selector('#math-op[data-notation="tutorial separate"] figure[data-matrix="step1"]')
    tutorial = card(page)
    # the same new weights, from W + η·Xᵀ·Δ
    assert np.array_equal(tutorial["W1_new"].value, gradient_form["W1_new"].value)
    assert np.array_equal(tutorial["step1"].value, -rows(trace["dW"][0]))

    # recompute the tutorials' recipe in float64 from the shown numbers
    go_to(page, "input")
    X, Y = card(page)["X"].value, card(page)["Y"].value
    go_to(page, "params1")
    W1, b1 = card(page)["W1"].value, card(page)["b1"].value
    go_to(page, "params2")
    W2, b2 = card(page)["W2"].value, card(page)["b2"].value
    a1 = sigmoid(X @ W1 + b1)
    a2 = sigmoid(a1 @ W2 + b2)
    Delta2 = (Y - a2) * a2 * (1 - a2) / len(X)          # error ⊙ σ'(z), with the 1/n of the mean
    Delta1 = (Delta2 @ W2.T) * a1 * (1 - a1)
    go_to(page, "delta2")
    card(page)["Delta2"].assert_shows(Delta2, "Δ²")
    assert "(e ⊙ σ′(z²)) / n" in page.locator(".op-formula").text_content()
    go_to(page, "delta1")
    card(page)["Delta1"].assert_shows(Delta1, "Δ¹")
    go_to(page, "update1")
    shown = card(page)
    shown["step1"].assert_shows(X.T @ Delta1, "Xᵀ·Δ¹")
    shown["W1_new"].assert_shows(W1 + trace["learning_rate"] * X.T @ Delta1, "W¹ + η·Xᵀ·Δ¹")
    assert page.locator(".op-formula").text_content().startswith("W¹ ← W¹ + η · Xᵀ·Δ¹")

    # the bias as an input fixed at 1: X gains a column of ones, W gains b as its last row
    page.check('input[name="math-update"][value="gradient"]')
    page.check('input[name="math-bias"][value="column"]')
    go_to(page, "z1")
    page.wait_for_selector('#math-op[data-notation="gradient column"][data-op="z1"]')
    shown = card(page)
    assert np.array_equal(shown["X|1"].value, np.hstack([X, np.ones((4, 1))]))
    assert np.array_equal(shown["W1;b1"].value, np.vstack([W1, b1]))
    assert np.array_equal(shown["z1"].value, rows(trace["z"][0]))
    page.hover('figure[data-matrix="z1"] .mx-cell[data-row="0"][data-col="0"]')
    assert re.search(r"\+ 1·\S+ = ", page.locator(".eq-readout").text_content())
    go_to(page, "grad1")
    shown = card(page)
    assert np.array_equal(shown["dW1;db1"].value, np.vstack([rows(trace["dW"][0]), rows(trace["db"][0])]))
