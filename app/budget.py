"""What a session's network will need in memory, estimated before anything is allocated.

For a network with layer widths n_0 … n_L, P = Σ (n_{l-1} + 1) · n_l parameters, batch size B,
an optimiser keeping s arrays per parameter (sgd 0, momentum 1, adam 2), E rows evaluated at a
time and, for plane data sets, G = r² neuron-map grid points, in numbers of the network's dtype:

    weights, gradients, optimiser state   (2 + s) · P
    snapshot frames                       3 · P          one being encoded, one queued, one sending
    one mini-batch                        4 · B · Σ n_l  z, a, δ and ∂L/∂a of every layer
    an evaluation                         3 · E · max n_l   input, z and a of the widest layer
    neuron maps                           2 · G · Σ n_l  z and a of every layer over the grid

The MNIST arrays are shared by every session of a process and are not counted. ``bench/memory.py``
compares the estimate with the peak RSS that sessions really reach.
"""
from __future__ import annotations

from app.protocol import CommandError

MB = 1 << 20


def estimate(sizes: list[int], batch_size: int, optimizer_slots: int, evaluation_rows: int,
             grid_points: int = 0, itemsize: int = 4) -> int:
    """Bytes a session with this network is expected to use at most (the formula above)."""
    P = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    width_sum, widest = sum(sizes), max(sizes)
    numbers = ((2 + optimizer_slots) * P + 3 * P + 4 * batch_size * width_sum + 3 * evaluation_rows * widest
               + 2 * grid_points * width_sum)
    return numbers * itemsize


def max_parameters(budget_mb: int, itemsize: int = 4) -> int:
    """The most parameters any network can have within the budget: weights, gradients and
    snapshots alone take 5 · P numbers (the formula above, with sgd)."""
    return budget_mb * MB // (5 * itemsize)


def check(need: int, budget_mb: int, sizes: list[int], batch_size: int, field: str) -> None:
    """CommandError("limit") naming the estimate and the budget when ``need`` bytes are over it."""
    if need > budget_mb * MB:
        shape = "-".join(map(str, sizes))
        raise CommandError("limit", f"a {shape} network at batch_size={batch_size} needs about "
                                    f"{need / MB:.0f} MB: this server gives each session at most "
                                    f"session_memory_mb={budget_mb} MB; use fewer or narrower layers or a "
                                    "smaller batch", field)
