"""What a running session tells its client, and how often: metrics, snapshots, evaluations.

Each periodic output has a Pacer: it runs at most every ``interval`` seconds, and only while
its own cost stays within ``share`` of the worker thread's CPU time (plus the time a throttled
session spends waiting: see Reporter.clock), so that looking at the network never slows its
training by more than a few percent:

    metrics        every 1 / metrics_rate s; the figures in it are refreshed under TEST_SHARE,
                   and at least every TEST_AT_LEAST_EVERY s while that stays under TEST_SHARE_MAX
    snapshot       every 1 / frame_rate s at most, under SNAPSHOT_SHARE, and only when the
                   sender is free for one (Outbox.snapshot_wanted)
    weights_img    MNIST first-layer images, in one snapshot every WEIGHT_IMAGES_EVERY s
    evaluation     MNIST, whole test set: at the end of an epoch, under EVALUATION_SHARE (so at
                   most every other epoch when epochs are very short), and on pause

Figures: toy sets score their whole training and test sets. MNIST scores the first
TEST_SUBSET test digits live (``test_rows`` says how many), and its training figures are the
mean over the mini-batches since the previous metrics message. ``test_step`` says at which step
the test figures were measured, so that a chart draws them there only.

A conv network's scoring is costly: the Digits page's 8/16-channel CNN scores its 1,000 test digits
in about 0.1 s, so under TEST_SHARE alone its test line moved every 10 s, and the page announced
98.5 % some 10-20 s after the network got there. Hence the second, larger share with a floor on
how often: the CNN's figures come every 2 s for 5 % of its time; a dense MNIST network's (3.6 ms)
still come every 0.4 s under TEST_SHARE.

Early in a run the test share alone scores too rarely: MNIST's first scoring under it came only
at the end of the first epoch (0.6 s, 477 steps, on the 2-core build machine), so the test line
sat flat at its first value. During the first epoch the test figures are therefore also scored
at the first metrics after steps EARLY_SCORING, 2·EARLY_SCORING, 4·EARLY_SCORING, ...: six
scorings of 3.6 ms in MNIST's first epoch of 469 steps (about 4 % of it), none afterwards.
"""
from __future__ import annotations

import time

from app import frames
from app.protocol import dumps

TEST_SUBSET = 1000
TEST_SHARE = 0.01
TEST_AT_LEAST_EVERY = 2.0   # seconds
TEST_SHARE_MAX = 0.05
SNAPSHOT_SHARE = 0.025
EVALUATION_SHARE = 0.02
WEIGHT_IMAGES_EVERY = 0.4
LOOK_EVERY = 0.004          # seconds between two checks of what is due
EARLY_SCORING = 10          # steps


class Pacer:
    """Due every ``interval`` wall-clock seconds at most, and only once the worker has spent
    (1/share − 1) times the job's last cost on other work (both in the worker's CPU time, so a
    busy machine that slows the worker slows its looking as much)."""

    def __init__(self, interval: float, share: float = 1.0):
        self.interval, self.share = interval, share
        self.next_time = self.next_cpu = 0.0

    def due(self, now: float, cpu: float) -> bool:
        return now >= self.next_time and cpu >= self.next_cpu

    def ran(self, now: float, cpu_before: float, cpu_after: float) -> None:
        self.next_time = now + self.interval
        self.next_cpu = cpu_after + (cpu_after - cpu_before) * (1.0 / self.share - 1.0)


class Reporter:
    """Publishes a session's output into its outbox; reads ``session.network``, ``.data``, ``.trainer``."""

    def __init__(self, session, metrics_rate: float, frame_rate: float):
        self.session = session
        self.metrics_rate, self.frame_rate = metrics_rate, frame_rate
        self.reset()

    def reset(self) -> None:
        """New network or data: forget every figure."""
        self.metrics = Pacer(1.0 / self.metrics_rate)
        self.scoring = Pacer(0.0, TEST_SHARE)
        self.scoring_floor = Pacer(TEST_AT_LEAST_EVERY, TEST_SHARE_MAX)
        self.snapshots = Pacer(1.0 / self.frame_rate, SNAPSHOT_SHARE)
        self.images = Pacer(WEIGHT_IMAGES_EVERY)
        self.evaluations = Pacer(0.0, EVALUATION_SHARE)
        self.evaluated_epoch = 0
        self.train = (None, None)
        self.test = (None, None)
        self.test_rows = 0
        self.test_step = None       # the step the test figures were measured at
        self.early_step = EARLY_SCORING
        self.batches = [0, 0.0, 0.0]  # MNIST: count, Σ loss, Σ accuracy since the last metrics
        self.samples = 0
        self.mark = (time.perf_counter(), 0)  # (time, samples) at the last metrics message
        self.last_stats = None
        self.next_look = 0.0

    def clock(self) -> float:
        """The budget clock of the Pacers: the worker's CPU time, plus the time it spent waiting
        for a throttled session's next step. Looking may use a share of what training uses, and
        all of the time a slow-paced session leaves idle: XOR at 150 steps/s still gets its
        snapshots at the full frame rate."""
        return time.thread_time() + self.session.idle

    # -- while training --------------------------------------------------------------------
    def restart_clock(self) -> None:
        self.mark = (time.perf_counter(), self.samples)

    def count(self, stats) -> None:
        """Account for one training step."""
        self.last_stats = stats
        self.samples += stats.batch_size
        self.batches[0] += 1
        self.batches[1] += stats.loss
        self.batches[2] += stats.accuracy or 0.0

    def stepped(self, stats) -> None:
        """After every step of the running worker: count it, and publish whatever is due."""
        self.count(stats)
        now = time.perf_counter()
        if now < self.next_look:  # tiny networks step in microseconds: look at the clocks less often
            return
        self.next_look = now + LOOK_EVERY
        s, cpu = self.session, self.clock()
        if s.data.is_mnist and s.trainer.epoch > self.evaluated_epoch and self.evaluations.due(now, cpu):
            self.evaluate()
        if self.metrics.due(now, cpu):
            s.outbox.publish("metrics", self.metrics_message(now))
        if s.outbox.snapshot_wanted and self.snapshots.due(now, cpu):
            images = self.images.due(now, cpu)
            if images:
                self.images.ran(now, cpu, cpu)
            before = self.clock()
            s.outbox.publish("snapshot", self.snapshot(images))
            self.snapshots.ran(now, before, self.clock())

    # -- after a command -------------------------------------------------------------------
    def refresh(self, evaluate: bool = False) -> None:
        """Publish fresh metrics and a snapshot now, and for MNIST the whole-test-set evaluation if asked."""
        evaluate = evaluate and self.session.data.is_mnist
        if evaluate:
            self.evaluate()
        self.session.outbox.publish("metrics", self.metrics_message(time.perf_counter(), fresh=not evaluate))
        self.session.outbox.publish("snapshot", self.snapshot(True))

    # -- the messages ----------------------------------------------------------------------
    def snapshot(self, weight_images: bool) -> bytes:
        s = self.session
        return frames.snapshot(s.network, s.data, s.trainer.step_count, s.trainer.epoch, weight_images)

    def evaluate(self) -> None:
        s, cpu = self.session, self.clock()
        frame, loss, accuracy = frames.evaluation(s.network, s.data, s.trainer.step_count, s.trainer.epoch)
        self.evaluated_epoch = s.trainer.epoch
        self.test, self.test_rows, self.test_step = (loss, accuracy), len(s.data.X_test), s.trainer.step_count
        s.outbox.publish("evaluation", frame)
        self.evaluations.ran(time.perf_counter(), cpu, self.clock())

    def _score(self, now: float) -> None:
        s, cpu = self.session, self.clock()
        d = s.data
        n = min(TEST_SUBSET, len(d.X_test)) if d.is_mnist else len(d.X_test)
        self.test, self.test_rows = frames.score(s.network, d, d.X_test[:n], d.y_test[:n]), n
        self.test_step = s.trainer.step_count
        if not d.is_mnist:
            self.train = frames.score(s.network, d, d.X_train, d.y_train)
        elif self.train[0] is None:
            self.train = frames.score(s.network, d, d.X_train[:TEST_SUBSET], d.y_train[:TEST_SUBSET])
        self.scored(now, cpu, self.clock())

    def scoring_due(self, now: float, cpu: float) -> bool:
        return self.scoring.due(now, cpu) or self.scoring_floor.due(now, cpu)

    def scored(self, now: float, cpu_before: float, cpu_after: float) -> None:
        self.scoring.ran(now, cpu_before, cpu_after)
        self.scoring_floor.ran(now, cpu_before, cpu_after)

    def _early(self) -> bool:
        """Due in the first epoch once the step count passed early_step, which then doubles."""
        trainer = self.session.trainer
        if trainer.epoch > 0 or trainer.step_count < self.early_step:
            return False
        while self.early_step <= trainer.step_count:
            self.early_step *= 2
        return True

    def metrics_message(self, now: float, fresh: bool = False) -> str:
        s = self.session
        self.metrics.ran(now, 0.0, 0.0)
        count, loss_sum, accuracy_sum = self.batches
        if s.data.is_mnist and count:
            self.train = (loss_sum / count, accuracy_sum / count)
        self.batches = [0, 0.0, 0.0]
        if fresh or self._early() or self.scoring_due(now, self.clock()):
            self._score(now)
        then, samples = self.mark
        rate = (self.samples - samples) / (now - then) if s.running and now > then else 0.0
        self.mark = (now, self.samples)
        return dumps({
            "type": "metrics", "step": s.trainer.step_count, "epoch": s.trainer.epoch,
            "train_loss": self.train[0], "test_loss": self.test[0],
            "train_accuracy": self.train[1] if s.data.task == "classification" else None,
            "test_accuracy": self.test[1], "test_rows": self.test_rows, "test_step": self.test_step,
            "samples_per_second": rate,
            "grad_norms": self.last_stats.grad_norms if self.last_stats else [], "running": s.running,
        })
