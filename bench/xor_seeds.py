"""How often does a 2-2-1 sigmoid network get stuck on XOR? 100 seeds, the engine's own Trainer.

    python bench/xor_seeds.py [--seeds 100] [--steps 10000] [--grid]

The network and training are built exactly as the app builds the "xor" preset (app/presets.py):
the XOR truth table, Network.create([2, 2, 1], sigmoid, squared_error, init, seed=s) and
Trainer(sgd η, batch_size=4, seed=s) — full-batch gradient descent. A seed counts as *stuck*
when the loss has not fallen below 0.01 within ``--steps`` steps (a run stops as soon as it does).
For every stuck seed it shows the final loss and accuracy. With L = 1/(2·4) Σ (a − y)² two
local minima show up: L ≈ 0.0625 = (0.5² + 0.5²)/8, two points stuck at output 0.5 (accuracy
0.5), and L ≈ 0.083 = ((1/3)² + (1/3)² + (2/3)²)/8, three points sharing output 2/3, targets
1, 1, 0 (accuracy 0.75).

``--grid`` also tries other initialisations and learning rates (slower: a few minutes).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from engine import data  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402
from engine.train import Trainer  # noqa: E402

PRESET = {"init": "xavier", "learning_rate": 2.0}  # app/presets.py "xor"
TARGET_LOSS = 0.01
GRID_INITS = ("xavier", "normal", "uniform", "he")
GRID_RATES = (0.5, 1.0, 2.0, 5.0)


def run(seed: int, init: str, learning_rate: float, max_steps: int) -> tuple[int | None, float, float]:
    """(steps until loss < TARGET_LOSS or None, final loss, final accuracy) for one seed."""
    xor = data.small("xor_table")
    net = Network.create([2, 2, 1], "sigmoid", "squared_error", init=init, seed=seed)
    trainer = Trainer(net, xor.X_train, net.targets(xor.y_train), make_optimizer("sgd", learning_rate),
                      batch_size=4, labels=xor.y_train, seed=seed)
    for stats in trainer.steps(max_steps):
        if stats.loss < TARGET_LOSS:
            return stats.step, stats.loss, net.accuracy(xor.X_train, xor.y_train)
    return None, stats.loss, net.accuracy(xor.X_train, xor.y_train)


def survey(seeds: int, init: str, learning_rate: float, max_steps: int):
    """(stuck seeds with (final loss, accuracy), steps of the seeds that converged)."""
    stuck, steps = {}, []
    for seed in range(seeds):
        step, loss, accuracy = run(seed, init, learning_rate, max_steps)
        if step is None:
            stuck[seed] = (loss, accuracy)
        else:
            steps.append(step)
    return stuck, steps


def describe(stuck: dict, steps: list[int], seeds: int) -> str:
    converged = f"converged: median {np.median(steps):.0f} steps, max {max(steps)}" if steps else "none converged"
    return f"stuck {len(stuck)}/{seeds}; {converged}"


def main():
    parser = argparse.ArgumentParser(description="Count the XOR seeds that get stuck.")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--grid", action="store_true", help="also try other inits and learning rates")
    args = parser.parse_args()

    init, lr = PRESET["init"], PRESET["learning_rate"]
    print(f"XOR truth table, 2-2-1 sigmoid, squared error, sgd, batch 4; stuck = loss not below "
          f"{TARGET_LOSS} within {args.steps} steps; seeds 0..{args.seeds - 1}\n")
    stuck, steps = survey(args.seeds, init, lr, args.steps)
    preset_stuck = len(stuck)
    print(f"preset (init={init}, learning_rate={lr:g}): {describe(stuck, steps, args.seeds)}")
    for seed, (loss, accuracy) in stuck.items():
        print(f"  seed {seed:3d}: final loss {loss:.4f}, accuracy {accuracy:.2f}")
    first_good = [s for s in range(args.seeds) if s not in stuck]
    print(f"  seeds that converge: {first_good[:10]}{' ...' if len(first_good) > 10 else ''}")
    if args.grid:
        print(f"\n{'init':>8} " + " ".join(f"{'lr=' + format(r, 'g'):>28}" for r in GRID_RATES))
        for grid_init in GRID_INITS:
            cells = []
            for rate in GRID_RATES:
                stuck, steps = survey(args.seeds, grid_init, rate, args.steps)
                median = f"{np.median(steps):.0f}" if steps else "-"
                cells.append(f"{len(stuck):>3} stuck, median {median:>5} steps")
            print(f"{grid_init:>8} " + " ".join(f"{c:>28}" for c in cells), flush=True)
    print(f"\nstuck_seeds={preset_stuck}")


if __name__ == "__main__":
    main()
