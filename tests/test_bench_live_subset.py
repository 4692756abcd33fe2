"""bench/live_subset.py runs the conv preset as a session would and reports what the page's live
figure stands for: its first-1,000 and whole-set accuracies and the comparison line."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_the_live_subset_bench_compares_the_two_figures(mnist_dir):
    env = dict(os.environ, NNPLAY_DATA_DIR=str(mnist_dir))
    result = subprocess.run([sys.executable, "bench/live_subset.py", "--every", "30", "--checks", "2"], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["step", "30"], ["step", "60"]], lines
    assert "first 1000:" in lines[0] and "all 10000:" in lines[0]
    accuracies = [float(line.split("all 10000: ")[1].split()[0]) for line in lines[:2]]
    assert 0.5 < accuracies[1] <= 1.0, accuracies   # 60 steps of Adam already read most digits
    assert lines[2].startswith("the live figure was at or below the whole set's at ") and lines[2].endswith("of 2 checks")
