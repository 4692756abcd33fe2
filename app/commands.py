"""The session's command handlers: one ``_cmd_<type>`` method per message type (docs/protocol.md).

They run on the session's worker thread (app/session.py), holding a turn at the training gate,
and reply through ``self._reply``. Besides the client's commands there are two the server sends
itself: ``park`` when the client's socket dropped, ``resume`` when a new socket reclaimed the session.
"""
from __future__ import annotations

import time

import numpy as np

from engine import data as toysets
from engine.optim import REGULARIZERS, Regularizer
from engine.train import DivergenceError, Trainer
from app import config as cfg
from app import budget, frames, predict, presets
from app.protocol import VERSION, CommandError, bad, boolean, choice, integer, number

MAX_PROBE_ROWS = 64
MAX_WEIGHT = 1000.0         # set_weight / set_bias values lie in [-MAX_WEIGHT, MAX_WEIGHT]
MAX_SPEED = 10000
SETTABLE = ("learning_rate", "batch_size", "regularization", "regularization_rate")


class Commands:
    """Mixed into Session: reads and replaces its network, trainer, data and config."""

    def _configured_reply(self) -> dict:
        return {"type": "configured", "config": self.config, "network": frames.network_info(self.network),
                "dataset": frames.dataset_info(self.data), "state": self.state()}

    def _show_everything(self) -> None:
        if not self.data.is_mnist:
            self.outbox.post(frames.dataset_frame(self.data))
        self.report.refresh()

    # -- the server's own ---------------------------------------------------------------------
    def _cmd_hello(self, command: dict) -> None:
        self._reply(command, {"type": "ack", "command": "hello", "protocol": VERSION})

    def _cmd_park(self, command: dict) -> None:
        self.running = False

    def _cmd_resume(self, command: dict) -> None:
        self._reply(command, self._configured_reply())
        self._show_everything()

    # -- the client's -------------------------------------------------------------------------
    def _cmd_configure(self, command: dict) -> None:
        base = self.config
        name = command.get("preset")
        if name is not None:
            preset = presets.get(choice("preset", name, presets.names()))
            base = cfg.normalise(cfg.DEFAULT, preset["config"], self.settings)
        config = cfg.normalise(base, command.get("config", {}), self.settings)
        self._build(config)
        self.running = False
        self.configured = True
        if name is not None:
            self.steps_per_second = preset["steps_per_second"]
        self._reply(command, self._configured_reply())
        self._show_everything()

    def _cmd_play(self, command: dict) -> None:
        if not self.running:
            self.running = True
            self._next_step_at = time.perf_counter()
            self.report.restart_clock()
        self._reply(command, {"type": "ack", "command": "play", "state": self.state()})

    def _cmd_pause(self, command: dict) -> None:
        was_running, self.running = self.running, False
        # the running network's unsent metrics would go out after this ack: fresh ones follow it
        self._reply(command, {"type": "ack", "command": "pause", "state": self.state()},
                    stale=("metrics", "snapshot") if was_running else ())
        if was_running:
            self.report.refresh(evaluate=True)

    def _cmd_step(self, command: dict) -> None:
        unit = choice("unit", command.get("unit", "batch"), ("batch", "epoch"))
        trace = boolean("trace", command.get("trace", False))
        if trace and unit != "batch":
            raise bad("trace", True, "a trace is recorded for unit='batch' only")
        if trace:
            problem = frames.trace_limit_error(self.network, self.trainer.batch_size)
            if problem:
                raise CommandError("limit", problem, "trace")
        self.running = False
        complete = True
        try:
            if unit == "batch":
                stats = self.trainer.step(trace=trace)
                self.report.count(stats)
            else:
                epoch = self.trainer.epoch
                complete = self.steps_in_turns(lambda: self.trainer.epoch != epoch)
        except DivergenceError as e:
            self._reply(command, self.diverged(e))
            self.report.refresh()
            return
        self._reply(command, {"type": "ack", "command": "step", "unit": unit, "state": self.state(),
                              **({} if complete else {"interrupted": True})})
        if trace:
            self._reply(command, frames.trace_message(stats.trace, self.trainer.step_count))
        self.report.refresh(evaluate=self.trainer.epoch > self.report.evaluated_epoch)

    def _cmd_reset(self, command: dict) -> None:
        config = dict(self.config)
        if command.get("seed") is not None:
            config["seed"] = integer("seed", command["seed"], 0, 2**32 - 1)
        self.running = False
        self.network = cfg.build_network(config, self.data)
        self.trainer = cfg.build_trainer(config, self.network, self.data)
        self.config = config
        self._counters_to_zero()
        self._reply(command, {"type": "ack", "command": "reset", "seed": config["seed"], "state": self.state()})
        self.report.refresh()

    def _cmd_set(self, command: dict) -> None:
        fields = [k for k in command if k not in ("type", "id")]
        unknown = [k for k in fields if k not in SETTABLE]
        if unknown:
            raise bad(unknown[0], command[unknown[0]], f"set changes only {', '.join(SETTABLE)}")
        if not fields:
            raise CommandError("bad_value", f"set needs at least one of {', '.join(SETTABLE)}", None)
        changed = {}
        for key in fields:
            changed[key] = (choice(key, command[key], REGULARIZERS) if key == "regularization"
                            else cfg.checked(key, command[key], self.settings))
        if "batch_size" in changed:
            self.check_memory(budget.plans_of(self.network), changed["batch_size"], self.config["optimizer"])
        self.config = {**self.config, **changed}
        self.trainer.optimizer.learning_rate = self.config["learning_rate"]
        self.trainer.batch_size = self.config["batch_size"]
        self.trainer.regularizer = Regularizer(self.config["regularization"], self.config["regularization_rate"])
        self._reply(command, {"type": "ack", "command": "set", **changed})

    def _cmd_speed(self, command: dict) -> None:
        if "steps_per_second" not in command:
            raise bad("steps_per_second", None, f"give a number from 1 to {MAX_SPEED}, or null for flat out")
        value = command["steps_per_second"]
        self.steps_per_second = None if value is None else number("steps_per_second", value, 1, MAX_SPEED)
        self._next_step_at = time.perf_counter()
        self._reply(command, {"type": "ack", "command": "speed", "state": self.state()})

    def _layer(self, command: dict) -> int:
        """The 1-based index of a dense layer (conv, pool and flatten layers are not edited by hand)."""
        l = integer("layer", command.get("layer"), 1, len(self.network.layers))
        kind = self.network.layers[l - 1].kind
        if kind != "dense":
            dense = [i for i, layer in enumerate(self.network.layers, start=1) if layer.kind == "dense"]
            raise bad("layer", l, f"layer {l} is a {kind} layer: set_weight and set_bias edit dense layers only "
                                  f"(layers {', '.join(map(str, dense))} of this network)")
        return l

    def _cmd_set_weight(self, command: dict) -> None:
        l = self._layer(command)
        W = self.network.layers[l - 1].W
        i = integer("from", command.get("from"), 0, W.shape[0] - 1)
        j = integer("to", command.get("to"), 0, W.shape[1] - 1)
        W[i, j] = number("value", command.get("value"), -MAX_WEIGHT, MAX_WEIGHT)
        self._reply(command, {"type": "ack", "command": "set_weight", "layer": l, "from": i, "to": j,
                              "value": float(W[i, j])})
        self.report.refresh()

    def _cmd_set_bias(self, command: dict) -> None:
        l = self._layer(command)
        b = self.network.layers[l - 1].b
        j = integer("neuron", command.get("neuron"), 0, len(b) - 1)
        b[j] = number("value", command.get("value"), -MAX_WEIGHT, MAX_WEIGHT)
        self._reply(command, {"type": "ack", "command": "set_bias", "layer": l, "neuron": j, "value": float(b[j])})
        self.report.refresh()

    def _cmd_add_point(self, command: dict) -> None:
        if self.data.grid is None or self.data.name == "xor_table":
            raise bad("type", "add_point", f"points can be added to the 2-D toy sets only, not {self.data.name!r}")
        x1 = number("x1", command.get("x1"), -toysets.EXTENT, toysets.EXTENT)
        x2 = number("x2", command.get("x2"), -toysets.EXTENT, toysets.EXTENT)
        label = (integer("label", command.get("label"), 0, 1) if self.data.task == "classification"
                 else number("label", command.get("label"), -1.0, 1.0))
        if len(self.config["points"]) >= self.settings.max_samples:
            raise CommandError("limit", f"this session already has {len(self.config['points'])} added points: "
                                        f"max_samples={self.settings.max_samples}", "add_point")
        self.config = {**self.config, "points": [*self.config["points"], [x1, x2, label]]}
        self.data = cfg.build_data(self.config, self.mnist.arrays)
        old = self.trainer
        self.trainer = Trainer(self.network, self.data.X_train, cfg.targets(self.network, self.data, self.data.y_train),
                               old.optimizer, old.batch_size, old.regularizer,
                               labels=self.data.y_train if self.data.task == "classification" else None,
                               seed=self.config["seed"] + old.step_count)
        self.trainer.step_count, self.trainer.epoch = old.step_count, old.epoch
        self._reply(command, {"type": "ack", "command": "add_point", "point": [x1, x2, label],
                              "n_train": len(self.data.X_train)})
        self.outbox.post(frames.dataset_frame(self.data))
        self.report.refresh()

    def _cmd_predict(self, command: dict) -> None:
        kind = predict.answer_format(command)
        found = predict.prediction(self.network, predict.read_digit(command, default_side=28))
        if kind == "json":
            self._reply(command, {"type": "prediction", **found})
        else:  # a binary frame carries the command's id in its header
            self._reply(command, predict.prediction_frame(found, **({"id": command["id"]} if "id" in command else {})))

    def _cmd_probe(self, command: dict) -> None:
        rows, width = command.get("inputs"), self.data.raw_train.shape[1]
        rule = f"must be a list of 1 to {MAX_PROBE_ROWS} rows of {width} numbers"
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_PROBE_ROWS:
            raise bad("inputs", rows, rule)
        for row in rows:
            if not isinstance(row, list) or len(row) != width:
                raise bad("inputs", row, rule)
            for x in row:
                number("inputs", x, -1e6, 1e6)
        self._reply(command, frames.probe_body(self.network, self.data, np.array(rows, dtype=np.float64)))

    def _meta(self) -> dict:
        return {"dataset": self.data.name, "config": self.config, "step": self.trainer.step_count,
                "epoch": self.trainer.epoch, "test_accuracy": self.report.test[1], "inputs": self.data.inputs}

    def _cmd_save(self, command: dict) -> None:
        info = self.models.save(self.network, command.get("name"), self._meta())
        self._reply(command, {"type": "saved", "name": info["name"], "network": frames.network_info(self.network),
                              "model": info})

    def _cmd_load(self, command: dict) -> None:
        network, meta = self.models.load(command.get("name"))
        if network.sizes[0] != self.network.sizes[0] or network.sizes[-1] != self.network.sizes[-1]:
            raise bad("name", command["name"], f"that model has sizes {network.sizes}; this session's data needs "
                                               f"{self.network.sizes[0]} inputs and {self.network.sizes[-1]} outputs")
        self.check_memory(budget.plans_of(network), self.config["batch_size"], self.config["optimizer"])
        self.running = False
        hidden = [name for name in network.activations[:-1] if name is not None]
        config = {**self.config, "output": network.activations[-1], "loss": network.loss.name}
        if network.is_dense:
            config.update(architecture="dense", hidden=network.sizes[1:-1])
        else:  # the layers as they are; each weighted one keeps its own activation
            config.update(architecture="conv", layers=network.spec[:-1])
        if hidden and len(set(hidden)) == 1 and hidden[0] in cfg.hidden_activations():
            config["activation"] = hidden[0]
        self.config, self.network = config, network
        self.trainer = cfg.build_trainer(config, network, self.data)
        self.configured = True
        self._counters_to_zero()
        self._reply(command, {"type": "loaded", "name": command["name"], "network": frames.network_info(network),
                              "config": config, "meta": meta, "state": self.state()})
        self.report.refresh(evaluate=True)
