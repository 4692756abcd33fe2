"""One client's training session: one data set, one network and trainer, one worker thread.

Everything that touches the network runs on the session's worker thread, so nothing needs a
lock: the WebSocket handler hands each command over as a job, and between jobs the worker
trains while ``running``. Flat out it runs steps back to back; at ``steps_per_second`` it
waits for the next step's time (or the next job, whichever comes first).

The worker computes only while it holds a turn at the server's TrainingGate (app/gate.py):
commands, training slices and evaluations alike, so at most a core's worth of sessions compute,
and allocate their working memory, at any moment. Long commands (a whole epoch) give their turn
up every SLICE seconds and stop early when another job arrives or the session closes.

Nothing a command does can end the worker: every failure becomes an ``error`` reply. The
command handlers themselves are in app/commands.py; replies go through the Outbox in order, and
the Reporter (app/reporter.py) decides when metrics, snapshots and evaluations are published.
"""
from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from concurrent.futures import Future

import numpy as np

from engine.optim import optimizer_class
from engine.train import DivergenceError
from app import budget, frames
from app import config as cfg
from app.commands import Commands
from app.gate import TrainingGate
from app.memory import give_back_free_memory
from app.mnist_data import MnistData
from app.models import ModelStore
from app.outbox import Outbox
from app.protocol import CommandError, dumps
from app.reporter import Reporter
from app.settings import Settings

log = logging.getLogger("nnplay.session")

WORKER_COMMANDS = ("hello", "configure", "play", "pause", "step", "reset", "set", "speed", "set_weight",
                   "set_bias", "add_point", "predict", "probe", "save", "load")
SLICE = 0.01               # seconds of training per turn at the gate, when other work waits
MAX_CATCH_UP = 0.1          # a throttled worker that fell behind skips steps older than this (s)
_CLOSE = object()
# The reply of last resort, when even an error reply cannot be written.
_FAILED = dumps({"type": "error", "code": "internal", "field": None,
                 "message": "the server could not answer that command; the session is paused"})


class Session(Commands):
    def __init__(self, settings: Settings, mnist: MnistData, models: ModelStore, outbox: Outbox,
                 gate: TrainingGate):
        self.id = secrets.token_hex(6)
        self.resume_token = secrets.token_urlsafe(18)  # reclaims the session after its socket dropped
        self.settings, self.mnist, self.models, self.outbox, self.gate = settings, mnist, models, outbox, gate
        self.config = dict(cfg.DEFAULT)
        self.configured = False  # the client has sent a configuration (or loaded a model) of its own
        self.data: cfg.TrainingData | None = None
        self.network = None
        self.trainer = None
        self.running = False
        self.steps_per_second: float | None = None
        self.idle = 0.0  # seconds the worker waited for a throttled session's next step
        self.report = Reporter(self, settings.metrics_rate, settings.frame_rate)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._closing = threading.Event()  # set by close() (event loop), read by the worker
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
        """Ask the worker to stop: at once between jobs, within a mini-batch inside a long one."""
        self._closing.set()
        self._jobs.put(_CLOSE)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._closing.is_set()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the worker thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            with np.errstate(all="ignore"):  # overflow is caught as DivergenceError, not printed
                self._work_once(first=True)
                while not self._closing.is_set():
                    self._work_once()
        finally:
            if not self._closing.is_set():  # a bug got past _work_once: tell the client, end the socket
                self.outbox.post(_FAILED)
                self.outbox.post(Outbox.END)
            self._forget()

    def _work_once(self, first: bool = False) -> None:
        """Handle the next job, or train for a turn (or, the first time, build the default network);
        no exception gets past this."""
        job = None if first else self._next_job()
        if job is _CLOSE or self._closing.is_set():
            if job not in (None, _CLOSE):
                job[1].set_result(None)
            return
        try:
            if first:
                with self.gate.turn(self._closing) as mine:
                    if mine:
                        self._build(self.config)
            elif job is not None:
                with self.gate.turn(self._closing) as mine:
                    if mine:
                        self._handle(*job)
                    else:  # closing: the command is dropped with its session
                        job[1].set_result(None)
            elif self.running:
                self._train_for_a_turn()
        except BaseException:  # the gate or the reporter failed: pause, and keep the worker alive
            log.exception("session %s: the worker caught a failure", self.id)
            self.running = False
            self.outbox.post(_FAILED)
            if job is not None and not job[1].done():
                job[1].set_result(None)

    def _forget(self) -> None:
        """The worker is ending: drop the network and data, and hand their memory back to the system.
        (A session and its reporter point at each other: left to the garbage collector, the arrays
        stayed until its next full collection, and malloc_trim found nothing to give back.)"""
        self.running = False
        self.network = self.trainer = self.data = None
        self.report = None
        give_back_free_memory()

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

    def interrupted(self) -> bool:
        """A long command should stop: another job waits, or the session is closing."""
        return self._closing.is_set() or not self._jobs.empty()

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

    def _reply(self, command: dict, body: dict | bytes, stale: tuple[str, ...] = ()) -> None:
        """Queue the reply to ``command``; ``stale``: the published slots it outdates (Outbox.post)."""
        if isinstance(body, dict):
            if "id" in command:
                body = {**body, "id": command["id"]}
            try:
                body = dumps(body)
            except Exception:
                log.exception("session %s: a %s reply could not be written", self.id, body.get("type"))
                self.running = False
                body = _FAILED
        self.outbox.post(body, stale)

    # -- building -----------------------------------------------------------------------------
    def _build(self, config: dict) -> None:
        """Data set, network and trainer from a complete config; counters start at zero."""
        data = cfg.build_data(config, self.mnist.arrays)
        self.check_memory(cfg.network_plans(config, data), config["batch_size"], config["optimizer"], data)
        network = cfg.build_network(config, data)
        trainer = cfg.build_trainer(config, network, data)
        self.config, self.data, self.network, self.trainer = config, data, network, trainer
        self._counters_to_zero()

    def check_memory(self, plans: list, batch_size: int, optimizer: str, data=None) -> None:
        """CommandError("limit") when a network of these layer plans (engine.spec.plan) would need
        more memory than this session's budget, or more work to read one sample than the server allows."""
        data = data or self.data
        rows = frames.EVALUATION_ROWS if data.is_mnist else max(len(data.X_train), len(data.X_test))
        grid = 0 if data.grid is None else len(data.grid)
        need = budget.estimate(plans, batch_size, len(optimizer_class(optimizer).ARRAYS), rows, grid)
        dense = all(p.spec["type"] == "dense" for p in plans)
        budget.check(need, self.settings.session_memory_mb, plans, batch_size,
                     "batch_size" if batch_size > 1024 else "hidden" if dense else "layers")
        budget.check_work(plans, self.settings.max_sample_mflop, "hidden" if dense else "layers")

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
        with self.gate.turn(self._closing) as mine:
            if not mine:
                return
            end = time.perf_counter() + SLICE
            while True:
                self._train_one_step()
                now = time.perf_counter()
                if (not self.running or now >= end or self.interrupted()
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
            # the metrics and snapshot of the restored network follow it, never older ones
            self.outbox.post(dumps(self.diverged(e)), stale=("metrics", "snapshot"))
            self.report.refresh()
        except Exception as e:
            log.exception("session %s: training step failed", self.id)
            self.running = False
            self.outbox.post(dumps({"type": "error", "code": "internal", "field": None,
                                    "message": f"training failed inside the server ({type(e).__name__}: {e}); "
                                               "the session is paused"}))

    def diverged(self, e: DivergenceError) -> dict:
        """The ``diverged`` error: the trainer has rolled back to ``restored_step`` and the session is paused."""
        return {"type": "error", "code": "diverged", "field": "learning_rate", "message": f"{e}. The session is paused.",
                "step": e.step, "restored_step": e.restored_step, "learning_rate": self.config["learning_rate"],
                "state": self.state()}

    def steps_in_turns(self, stop) -> bool:
        """Train step after step until ``stop()``, giving the gate's turn up every SLICE seconds.
        False when interrupted by another job or by closing before ``stop()`` came true."""
        end = time.perf_counter() + SLICE
        while not stop():
            if self.interrupted():
                return False
            self.report.count(self.trainer.step())
            if time.perf_counter() >= end:
                self.gate.handover()
                end = time.perf_counter() + SLICE
        return True
