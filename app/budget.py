"""What a session's network will need in memory and work, estimated before anything is allocated.

For a network planned by engine.spec (layers l = 1..L, n_l values per sample out of layer l and n_0
in, P = all weights and biases, c_l the im2col values per sample of a conv layer: H'·W'·k·k·C_in,
0 for the other layers), batch size B, an optimiser keeping s arrays per parameter (sgd 0,
momentum 1, adam 2), E rows evaluated at a time (a conv network forwards them in chunks of R =
min(E, MAX_COLUMN_VALUES // max c_l) rows, engine/network.py; R = E without conv layers) and, for
plane data sets, G = r² neuron-map grid points, in numbers of the network's dtype:

    weights, gradients, optimiser state   (2 + s) · P
    snapshot frames                       3 · P          one being encoded, one queued, one sending
    one mini-batch                        4 · B · Σ n_l  z, a, δ and ∂L/∂a of every layer
                                        + 2 · B · Σ c_l  each conv layer's columns and their gradient
    an evaluation                         3 · R · max n_l + R · max c_l   input, z and a of the widest
                                                         layer, and the widest columns
    neuron maps                           2 · G · Σ n_l  z and a of every layer over the grid

The MNIST arrays are shared by every session of a process and are not counted. ``bench/memory.py``
compares the estimate with the peak RSS that sessions really reach.

Work: reading one sample (a forward pass) takes F = 2 · Σ_l m_l floating-point operations, with
m_l = n_{l-1} · n_l multiply-adds for a dense layer and H'·W'·k·k·C_in·C_out for a conv layer
(pool and flatten layers are not counted); a training step takes about 3 · B · F, scoring the
MNIST test set 10,000 · F. Weight sharing lets a conv network need far more work per byte than a
dense one, so memory alone does not bound it.
"""
from __future__ import annotations

import math

from engine.conv import MAX_COLUMN_VALUES
from engine.spec import Plan, plan
from app.protocol import CommandError

MB = 1 << 20


def columns(p: Plan) -> int:
    """c_l: the im2col values one sample makes in a conv layer (0 for the others)."""
    if p.spec["type"] != "conv":
        return 0
    return math.prod(p.out_shape[:2]) * math.prod(p.W_shape[:3])


def plans_of(network) -> list[Plan]:
    """The plans of a network that exists (a loaded model, the session's own)."""
    return plan(list(network.input_shape), network.spec)


def estimate(plans: list[Plan], batch_size: int, optimizer_slots: int, evaluation_rows: int,
             grid_points: int = 0, itemsize: int = 4) -> int:
    """Bytes a session with this network is expected to use at most (the formula above)."""
    P = sum(p.parameters for p in plans)
    sizes = [math.prod(plans[0].in_shape)] + [math.prod(p.out_shape) for p in plans]
    cols = [columns(p) for p in plans]
    width_sum, widest, widest_cols = sum(sizes), max(sizes), max(cols)
    rows = min(evaluation_rows, max(1, MAX_COLUMN_VALUES // widest_cols)) if widest_cols else evaluation_rows
    numbers = ((2 + optimizer_slots) * P + 3 * P + 4 * batch_size * width_sum + 2 * batch_size * sum(cols)
               + 3 * rows * widest + rows * widest_cols + 2 * grid_points * width_sum)
    return numbers * itemsize


def max_parameters(budget_mb: int, itemsize: int = 4) -> int:
    """The most parameters any network can have within the budget: weights, gradients and
    snapshots alone take 5 · P numbers (the formula above, with sgd)."""
    return budget_mb * MB // (5 * itemsize)


def flops(plans: list[Plan]) -> int:
    """F: the floating-point operations of one sample's forward pass (the formula above)."""
    multiply_adds = 0
    for p in plans:
        if p.spec["type"] == "conv":
            multiply_adds += math.prod(p.out_shape[:2]) * math.prod(p.W_shape)
        elif p.spec["type"] == "dense":
            multiply_adds += math.prod(p.W_shape)
    return 2 * multiply_adds


def check_work(plans: list[Plan], max_mflop: int, field: str) -> None:
    """CommandError("limit") naming the work and the limit when one sample's forward pass is over it."""
    mflop = flops(plans) / 1e6
    if mflop > max_mflop:
        raise CommandError("limit", f"a {describe(plans)} network needs {mflop:.0f} MFLOP to read one sample: "
                                    f"this server allows at most max_sample_mflop={max_mflop}; use fewer "
                                    "channels, smaller kernels, or pool (or 'valid' padding) earlier", field)


def describe(plans: list[Plan]) -> str:
    """784-128-64-10 for a dense network; conv 5×5×8 → pool → … → dense 10 for the others."""
    if all(p.spec["type"] == "dense" for p in plans):
        return "-".join(str(math.prod(s)) for s in [plans[0].in_shape] + [p.out_shape for p in plans])
    words = {"conv": lambda s: f"conv {s['size']}×{s['size']}×{s['channels']}", "pool": lambda s: "pool",
             "flatten": lambda s: "flatten", "dense": lambda s: f"dense {s['size']}"}
    return " → ".join(words[p.spec["type"]](p.spec) for p in plans)


def check(need: int, budget_mb: int, plans: list[Plan], batch_size: int, field: str) -> None:
    """CommandError("limit") naming the estimate and the budget when ``need`` bytes are over it."""
    if need > budget_mb * MB:
        raise CommandError("limit", f"a {describe(plans)} network at batch_size={batch_size} needs about "
                                    f"{need / MB:.0f} MB: this server gives each session at most "
                                    f"session_memory_mb={budget_mb} MB; use fewer or narrower layers or a "
                                    "smaller batch", field)
