"""bench/memory.py measures configurations the server really accepts: each worst case is within the
memory budget and the work limit, and app/config.py builds it to the plans the bench estimates.
(The bench once went on calling budget.estimate with layer widths after it came to take plans.)"""
from __future__ import annotations

import importlib

from app import budget
from app import config as cfg
from app.mnist_data import MnistData
from app.settings import Settings
from tests.conftest import REPO_ROOT


def test_the_memory_bench_worst_cases_are_accepted_and_estimated_as_the_server_does(monkeypatch, mnist_dir):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "bench"))
    memory = importlib.import_module("memory")
    settings = Settings()
    arrays = MnistData(mnist_dir).arrays
    worst = memory.worst_configs(settings)
    assert set(worst) == {"widest", "batch", "conv"}
    for name, config in worst.items():
        full = cfg.normalise(cfg.DEFAULT, {"dataset": "mnist", "output": "softmax", "loss": "cross_entropy",
                                           "mnist_train_size": 100, **config}, settings)
        server = cfg.network_plans(full, cfg.build_data(full, arrays))
        bench = memory.plans(config)
        assert budget.describe(server) == budget.describe(bench), name
        assert sum(p.parameters for p in server) == sum(p.parameters for p in bench), name
        assert memory.need(config, config["batch_size"]) <= settings.session_memory_mb * budget.MB, name
        assert budget.flops(bench) <= settings.max_sample_mflop * 1e6, name
