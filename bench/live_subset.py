"""Is the Digits page's live test accuracy a fair figure? The first 1,000 test digits against all 10,000.

    python bench/live_subset.py [--preset mnist_cnn] [--seed 0] [--every 70] [--checks 20]

While a session trains, app/reporter.py scores the first TEST_SUBSET (1,000) MNIST test digits, and
the page announces its milestone (98.5 % for the conv preset) from that figure; the whole test set
is scored only after an epoch (under a CPU share) and on pause. This trains the preset's network
with the engine as a session does (app/config.py, 1 BLAS thread) and every --every steps prints
the accuracy on the first 1,000 test digits, on all 10,000 and on every tenth one, then how often
the live figure was at or below the whole set's, and where it first reached the milestone.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import config, presets  # noqa: E402
from app.mnist_data import MnistData  # noqa: E402
from app.reporter import TEST_SUBSET  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.drawn_digits import mnist_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="mnist_cnn", choices=[k for k in presets.PRESETS if k.startswith("mnist")])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=70, help="steps between two checks")
    parser.add_argument("--checks", type=int, default=20)
    args = parser.parse_args()
    preset = presets.PRESETS[args.preset]
    c = config.normalise(config.DEFAULT, {**preset["config"], "seed": args.seed}, Settings.from_env({}))
    data = config.build_data(c, MnistData(mnist_dir()).arrays)
    network = config.build_network(c, data)
    trainer = config.build_trainer(c, network, data)
    accuracy = lambda X, y: float((network.classify(network.forward(X)) == y).mean())  # noqa: E731
    milestone, below, first = preset.get("milestone"), 0, None
    for _ in range(args.checks):
        for _ in range(args.every):
            trainer.step()
        live = accuracy(data.X_test[:TEST_SUBSET], data.y_test[:TEST_SUBSET])
        whole = accuracy(data.X_test, data.y_test)
        below += live <= whole
        if first is None and milestone is not None and live >= milestone:
            first = (trainer.step_count, live, whole)
        print(f"step {trainer.step_count:5d}  first {TEST_SUBSET}: {live:.3f}  all {len(data.y_test)}: {whole:.4f}  "
              f"every tenth: {accuracy(data.X_test[::10], data.y_test[::10]):.3f}", flush=True)
    print(f"the live figure was at or below the whole set's at {below} of {args.checks} checks")
    if first:
        print(f"it first reached the milestone {milestone} at step {first[0]}: live {first[1]:.3f}, whole set {first[2]:.4f}")


if __name__ == "__main__":
    main()
