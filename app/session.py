"""One client's training session: one data set, one network and trainer, one worker thread.

Everything that touches the network runs on the session's worker thread, so nothing needs a
lock: the WebSocket handler hands each command over as a job, and between jobs the worker
trains while ``running``. Flat out it runs steps back to back; at ``steps_per_second`` it
waits for the next step's time (or the next job, whichever comes first). Training happens in
turns at the server's TrainingGate (app/gate.py), so only a core's worth of sessions compete
with the event loop at any moment.

Replies go through the Outbox in order; the Reporter (app/reporter.py) decides when the
latest metrics, snapshot and MNIST evaluation are published while training.
"""
from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from concurrent.futures import Future

import numpy as np

from engine import data as toysets
from engine.network import Network
from engine.optim import REGULARIZERS, Regularizer
from engine.train import DivergenceError, Trainer
from app import config as cfg
from app import frames, presets, predict
from app.gate import TrainingGate
from app.mnist_data import MnistData
from app.models import ModelStore
from app.outbox import Outbox
from app.reporter import Reporter
from app.protocol import CommandError, bad, boolean, choice, dumps, integer, number
from app.settings import Settings

log = logging.getLogger("nnplay.session")

SLICE = 0.01               # seconds of training per turn at the gate, when other work waits
MAX_CATCH_UP = 0.1          # a throttled worker that fell behind skips steps older than this (s)
MAX_PROBE_ROWS = 64
MAX_WEIGHT = 1000.0         # set_weight / set_bias values lie in [-MAX_WEIGHT, MAX_WEIGHT]
MAX_SPEED = 10000
SETTABLE = ("learning_rate", "batch_size", "regularization", "regularization_rate")
_CLOSE = object()


class Session:
    def __init__(self, settings: Settings, mnist: MnistData, models: ModelStore, outbox: Outbox,
                 gate: TrainingGate):
        self.id = secrets.token_hex(6)
        self.settings, self.mnist, self.models, self.outbox, self.gate = settings, mnist, models, outbox, gate
        self.config = dict(cfg.DEFAULT)
        self.data: cfg.TrainingData | None = None
        self.network: Network | None = None
        self.trainer: Trainer | None = None
        self.running = False
        self.steps_per_second: float | None = None
        self.idle = 0.0  # seconds the worker waited for a throttled session's next step
        self.report = Reporter(self, settings.metrics_rate, settings.frame_rate)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"nnplay-session-{self.id}", daemon=True)

    # -- called from the event loop ---------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def submit(self, command: dict) -> Future:
        """Queue a client command for the worker; the future completes when it has been handled."""
        done: Future = Future()
        done.set_running_or_notify_cancel()  # running from now on: it can no longer be cancelled
        self._jobs.put((command, done))
        return done

    def close(self) -> None:
        """Ask the worker to stop after its current step."""
        self._jobs.put(_CLOSE)

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the worker thread ------------------------------------------------------------------
    def _run(self) -> None:
        with np.errstate(all="ignore"):  # overflow is caught as DivergenceError, not printed
            self._build(self.config)
            while True:
                job = self._next_job()
                if job is _CLOSE:
                    return
                if job is not None:
                    self._handle(*job)
                elif self.running:
                    self._train_for_a_turn()

    def _next_job(self):
        """The next job; None when it is time for a training step instead."""
        if not self.running:
            return self._jobs.get()
        if self.steps_per_second is not None:
            wait = self._next_step_at - time.perf_counter()
            if wait > 0:
                started = time.perf_counter()
                try:
                    return self._jobs.get(timeout=wait)
                except queue.Empty:
                    return None
                finally:
                    self.idle += time.perf_counter() - started
        return None if self._jobs.empty() else self._jobs.get_nowait()

    def _handle(self, command: dict, done: Future) -> None:
        kind = command["type"]
        try:
            getattr(self, f"_cmd_{kind}")(command)
        except CommandError as e:
            self._reply(command, {"type": "error", **e.body()})
        except ValueError as e:  # the engine's own checks name the parameter and its range
            self._reply(command, {"type": "error", "code": "bad_value", "message": str(e), "field": None})
        except Exception as e:  # a bug: keep the server and the session alive, tell the client
            log.exception("session %s: command %s failed", self.id, kind)
            self.running = False
            self._reply(command, {"type": "error", "code": "internal", "field": None,
                                  "message": f"{kind} failed inside the server ({type(e).__name__}: {e}); "
                                             "the session is paused"})
        finally:
            done.set_result(None)

    def _reply(self, command: dict, body: dict | bytes) -> None:
        if isinstance(body, dict):
            if "id" in command:
                body = {**body, "id": command["id"]}
            body = dumps(body)
        self.outbox.post(body)

    # -- building -----------------------------------------------------------------------------
    def _build(self, config: dict) -> None:
        """Data set, network and trainer from a complete config; counters start at zero."""
        data = cfg.build_data(config, self.mnist.arrays)
        network = cfg.build_network(config, data)
        trainer = cfg.build_trainer(config, network, data)
        self.config, self.data, self.network, self.trainer = config, data, network, trainer
        self._counters_to_zero()

    def _counters_to_zero(self) -> None:
        self.report.reset()
        self._next_step_at = time.perf_counter()

    def state(self) -> dict:
        return {"running": self.running, "steps_per_second": self.steps_per_second,
                "step": self.trainer.step_count, "epoch": self.trainer.epoch}

    # -- training -----------------------------------------------------------------------------
    def _train_for_a_turn(self) -> None:
        """Steps while this worker holds a slot of the gate: until a job arrives, the session
        pauses, a throttled session must wait for its next step, or SLICE seconds are over."""
        with self.gate.turn():
            end = time.perf_counter() + SLICE
            while True:
                self._train_one_step()
                now = time.perf_counter()
                if (not self.running or now >= end or not self._jobs.empty()
                        or (self.steps_per_second is not None and self._next_step_at > now)):
                    return

    def _train_one_step(self) -> None:
        try:  # the reporting too: a fault there must not end the worker thread
            stats = self.trainer.step()
            if self.steps_per_second is not None:
                now = time.perf_counter()
                self._next_step_at = max(self._next_step_at + 1.0 / self.steps_per_second, now - MAX_CATCH_UP)
            self.report.stepped(stats)
        except DivergenceError as e:
            self.running = False
            self.outbox.post(dumps(self._diverged(e)))
            self.report.refresh()
        except Exception as e:
            log.exception("session %s: training step failed", self.id)
            self.running = False
            self.outbox.post(dumps({"type": "error", "code": "internal", "field": None,
                                    "message": f"training failed inside the server ({type(e).__name__}: {e}); "
                                               "the session is paused"}))

    def _diverged(self, e: DivergenceError) -> dict:
        """The ``diverged`` error: the trainer has rolled back to ``restored_step`` and the session is paused."""
        return {"type": "error", "code": "diverged", "field": "learning_rate", "message": f"{e}. The session is paused.",
                "step": e.step, "restored_step": e.restored_step, "learning_rate": self.config["learning_rate"],
                "state": self.state()}

    # -- commands (one method per client message type, run on the worker) --------------------
    def _cmd_configure(self, command: dict) -> None:
        base = self.config
        name = command.get("preset")
        if name is not None:
            preset = presets.get(choice("preset", name, presets.names()))
            base = cfg.normalise(cfg.DEFAULT, preset["config"], self.settings)
        config = cfg.normalise(base, command.get("config", {}), self.settings)
        self._build(config)
        self.running = False
        if name is not None:
            self.steps_per_second = preset["steps_per_second"]
        self._reply(command, {"type": "configured", "config": config, "network": frames.network_info(self.network),
                              "dataset": frames.dataset_info(self.data), "state": self.state()})
        if not self.data.is_mnist:
            self.outbox.post(frames.dataset_frame(self.data))
        self.report.refresh()

    def _cmd_play(self, command: dict) -> None:
        if not self.running:
            self.running = True
            self._next_step_at = time.perf_counter()
            self.report.restart_clock()
        self._reply(command, {"type": "ack", "command": "play", "state": self.state()})

    def _cmd_pause(self, command: dict) -> None:
        was_running, self.running = self.running, False
        self._reply(command, {"type": "ack", "command": "pause", "state": self.state()})
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
        try:
            if unit == "batch":
                stats = self.trainer.step(trace=trace)
                self.report.count(stats)
            else:
                epoch = self.trainer.epoch
                while self.trainer.epoch == epoch:
                    self.report.count(self.trainer.step())
        except DivergenceError as e:
            self._reply(command, self._diverged(e))
            self.report.refresh()
            return
        self._reply(command, {"type": "ack", "command": "step", "unit": unit, "state": self.state()})
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
        return integer("layer", command.get("layer"), 1, len(self.network.layers))

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
        x28 = predict.read_digit(command, default_side=28)
        self._reply(command, {"type": "prediction", **predict.prediction(self.network, x28)})

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
        self.running = False
        hidden = network.activations[:-1]
        config = {**self.config, "hidden": network.sizes[1:-1], "output": network.activations[-1],
                  "loss": network.loss.name}
        if hidden and len(set(hidden)) == 1 and hidden[0] in cfg.hidden_activations():
            config["activation"] = hidden[0]
        self.config, self.network = config, network
        self.trainer = cfg.build_trainer(config, network, self.data)
        self._counters_to_zero()
        self._reply(command, {"type": "loaded", "name": command["name"], "network": frames.network_info(network),
                              "config": config, "meta": meta, "state": self.state()})
        self.report.refresh(evaluate=True)
