"""Mini-batch training: one step at a time, a generator of step statistics, and a step trace.

One step on the mini-batch (X_b, Y_b) of ``batch_size`` rows:

    pass  = network.backprop(X_b, Y_b)          forward, loss, δˡ, dWˡ, dbˡ   (see network.py)
    θ     ← optimizer.update(θ, ∂L/∂θ)          e.g. W ← W − η dW

Each epoch visits the n training rows once, in an order drawn from the trainer's own
``np.random.default_rng(seed)``, so the same seed and settings give bit-identical weights.
A step whose loss or gradients are not finite raises ``DivergenceError`` and rolls the trainer
back to its last checkpoint: weights, optimiser state, data order and counters as they were at
that step, so training can go on from there (at a lower learning rate, say). The last finite
step is no good place to go back to: on the Playground's plane set at learning rate 1 the losses
run 19.6, 1.2·10⁹, ∞, and from the weights of the second step even learning rate 0.001 diverges.
So a checkpoint is taken at most every CHECKPOINT_EVERY steps, and only of a step whose batch
loss is within HEALTHY_GROWTH of the running geometric mean of the batch losses.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from engine.network import Network
from engine.optim import Optimizer, Regularizer

MAX_BATCH_SIZE = 65536
# Copying the parameters and Adam's moments of the 784-128-64-10 MNIST network takes 0.04 ms, 3 %
# of a 1.2 ms step at batch 128 (one core): every 10 steps that is 0.3 %.
CHECKPOINT_EVERY = 10
# Healthy runs of every preset stay within 210× of the running mean (spiral, 3,000 steps, as its
# loss nears 10⁻⁵); the plane set's blow-up jumps 6·10⁷× in one step.
HEALTHY_GROWTH = 1000.0
LOSS_MEMORY = 0.1           # weight of the newest batch loss in the running mean of log(loss)
_TINY_LOSS = 1e-30          # log(0) guard


class DivergenceError(ArithmeticError):
    """The loss or a gradient became NaN or infinite at ``step``; the trainer is back at ``restored_step``."""

    def __init__(self, message: str, step: int = 0, restored_step: int = 0):
        super().__init__(message)
        self.step, self.restored_step = step, restored_step


@dataclass
class _Checkpoint:
    params: list[np.ndarray]
    optimizer: dict
    order: np.ndarray         # epoch orders are replaced, never changed in place: kept by reference
    position: int
    epoch: int
    step: int
    rng: dict
    log_loss: float | None


@dataclass
class StepStats:
    step: int                 # steps done so far, this one included
    epoch: int                # whole epochs completed
    loss: float               # mini-batch loss, regularisation included
    accuracy: float | None    # mini-batch accuracy (classification only)
    grad_norms: list[float]   # ‖dWˡ‖ (Frobenius), one per layer
    batch_size: int
    trace: "Trace | None" = None


@dataclass
class Trace:
    """One training step as its named matrices, layer lists indexed from layer 1 at 0."""

    X: np.ndarray
    Y: np.ndarray
    W: list[np.ndarray]
    b: list[np.ndarray]
    z: list[np.ndarray]
    a: list[np.ndarray]
    error: np.ndarray            # Y − aᴸ (target − output)
    delta: list[np.ndarray]
    dW: list[np.ndarray]
    db: list[np.ndarray]
    W_new: list[np.ndarray]
    b_new: list[np.ndarray]
    loss: float
    learning_rate: float
    activations: list[str] = field(default_factory=list)
    loss_name: str = ""
    fprime: list[np.ndarray | None] = field(default_factory=list)  # fˡ'(zˡ); None where not element-wise (softmax)
    grad_a: list[np.ndarray | None] = field(default_factory=list)  # ∂L/∂aˡ = δˡ⁺¹·Wˡ⁺¹ᵀ; None for the output layer
    # Conv networks: z, a, delta, fprime and grad_a of conv and pool layers are (batch, H, W, C) maps;
    # pool and flatten layers have no weights and no activation, so None in W, b, dW, db, W_new, b_new, fprime.


def copy(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else array.copy()


def evaluate(network: Network, X: np.ndarray, Y: np.ndarray, labels=None) -> tuple[float, float | None]:
    """(loss, accuracy) of the network on a whole set; accuracy only when labels are given."""
    a = network.forward(X)
    loss = network.loss.f(a, np.asarray(Y, dtype=a.dtype))
    accuracy = None if labels is None else float(np.mean(network.classify(a) == labels))
    return loss, accuracy


class Trainer:
    """Trains ``network`` on (X, Y) with ``optimizer``; labels (n,) enable accuracy."""

    def __init__(self, network: Network, X, Y, optimizer: Optimizer, batch_size: int = 10,
                 regularizer: Regularizer | None = None, labels=None, seed: int = 0):
        self.network = network
        self.X = np.ascontiguousarray(X, dtype=network.dtype)
        self.Y = np.ascontiguousarray(Y, dtype=network.dtype)
        if len(self.X) == 0:
            raise ValueError("the training set is empty: give at least one sample")
        if self.X.shape != (len(self.X), network.sizes[0]) or self.Y.shape != (len(self.X), network.sizes[-1]):
            raise ValueError(f"X {self.X.shape} and Y {self.Y.shape} do not fit a {network.sizes} network: "
                             f"expected (n, {network.sizes[0]}) and (n, {network.sizes[-1]})")
        self.labels = None if labels is None else np.asarray(labels)
        self.optimizer = optimizer
        self.regularizer = regularizer or Regularizer()
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(self.X))
        self.position = 0
        self.step_count = 0
        self.epoch = 0
        self._checkpoint: _Checkpoint | None = None
        self._log_loss: float | None = None     # running mean of log(batch loss)

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size={value!r} is out of range: must be a whole number from 1 to {MAX_BATCH_SIZE}")
        self._batch_size = int(value)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.X) / self.batch_size)

    def next_batch(self) -> np.ndarray:
        """Row indices of the next mini-batch; a new shuffled order starts each epoch."""
        rows = self.order[self.position:self.position + self.batch_size]
        self.position += len(rows)
        if self.position >= len(self.X):
            self.epoch += 1
            self.position = 0
            self.order = self.rng.permutation(len(self.X))
        return rows

    def step(self, trace: bool = False) -> StepStats:
        """Train on one mini-batch; ``trace`` also records the step's matrices."""
        due = self._checkpoint is None or self.step_count - self._checkpoint.step >= CHECKPOINT_EVERY
        mark = (self.order, self.position, self.epoch, self.rng.bit_generator.state) if due else None
        rows = self.next_batch()
        X, Y = self.X[rows], self.Y[rows]
        p = self.network.backprop(X, Y, self.regularizer)
        grad_norms = [0.0 if dW is None else math.sqrt(np.vdot(dW, dW)) for dW in p.dW]  # 0: pool, flatten
        if not (math.isfinite(p.loss) and all(map(math.isfinite, grad_norms))):
            raise self._roll_back(p.loss, mark)
        self._watch(p.loss, mark)
        before = [(copy(l.W), copy(l.b)) for l in self.network.layers] if trace else None
        self.optimizer.update(self.network.parameters(),
                              [g for dW, db in zip(p.dW, p.db) if dW is not None for g in (dW, db)])
        self.step_count += 1
        accuracy = None
        if self.labels is not None:
            accuracy = float(np.mean(self.network.classify(p.a[-1]) == self.labels[rows]))
        stats = StepStats(self.step_count, self.epoch, p.loss, accuracy, grad_norms, len(rows))
        if trace:
            net = self.network
            stats.trace = Trace(
                X=p.X, Y=p.Y, W=[W for W, _ in before], b=[b for _, b in before], z=p.z, a=p.a,
                error=p.Y - p.a[-1], delta=p.delta, dW=p.dW, db=p.db,
                W_new=[copy(l.W) for l in net.layers], b_new=[copy(l.b) for l in net.layers],
                loss=p.loss, learning_rate=self.optimizer.learning_rate,
                activations=net.activations, loss_name=net.loss.name,
                fprime=[l.activation.df(z, a) if l.activation and l.activation.df else None
                        for l, z, a in zip(net.layers, p.z, p.a)],
                grad_a=p.grad_a)
        return stats

    def _watch(self, loss: float, mark) -> None:
        """Update the running mean of log(loss); checkpoint the weights (not yet updated) when due and healthy."""
        log_loss = math.log(max(loss, _TINY_LOSS))
        healthy = self._log_loss is None or log_loss <= self._log_loss + math.log(HEALTHY_GROWTH)
        self._log_loss = log_loss if self._log_loss is None else self._log_loss + LOSS_MEMORY * (log_loss - self._log_loss)
        if mark is not None and healthy:
            order, position, epoch, rng = mark
            self._checkpoint = _Checkpoint([q.copy() for q in self.network.parameters()], self.optimizer.state(),
                                           order, position, epoch, self.step_count, rng, self._log_loss)

    def _roll_back(self, loss: float, mark) -> DivergenceError:
        """Back to the last checkpoint (or, without one, to before this batch); the error to raise."""
        step = self.step_count + 1
        c = self._checkpoint
        if c is not None:
            for q, saved in zip(self.network.parameters(), c.params):
                np.copyto(q, saved)
            self.optimizer.restore(c.optimizer)
            self.order, self.position, self.epoch, self.step_count = c.order, c.position, c.epoch, c.step
            self.rng.bit_generator.state = c.rng
            self._log_loss = c.log_loss
        elif mark is not None:  # the weights have not changed: only the data position moved on
            self.order, self.position, self.epoch = mark[:3]
            self.rng.bit_generator.state = mark[3]
        return DivergenceError(
            f"training diverged at step {step}: the loss became {loss}; the trainer is back at step "
            f"{self.step_count}, before the loss blew up — learning_rate={self.optimizer.learning_rate:g} "
            "is probably too high: lower it", step, self.step_count)

    def steps(self, count: int | None = None) -> Iterator[StepStats]:
        """Yield the statistics of ``count`` steps, or forever when count is None."""
        done = 0
        while count is None or done < count:
            yield self.step()
            done += 1
