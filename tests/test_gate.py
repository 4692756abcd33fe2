"""The training gate: never more than ``slots`` holders, and turns in arrival order."""
import threading
import time

import pytest

from app.gate import TrainingGate


def test_a_gate_needs_a_slot():
    with pytest.raises(ValueError, match="slots=0"):
        TrainingGate(0)


def test_never_more_than_slots_hold_a_turn_and_everyone_gets_turns():
    gate, holding, most, turns = TrainingGate(2), [0], [0], [0] * 8
    lock = threading.Lock()

    def worker(i):
        for _ in range(50):
            with gate.turn():
                with lock:
                    holding[0] += 1
                    most[0] = max(most[0], holding[0])
                time.sleep(0.0002)
                with lock:
                    holding[0] -= 1
                turns[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most[0] == 2
    assert turns == [50] * 8


def test_a_released_slot_goes_to_the_longest_waiter_not_back_to_its_holder():
    gate, order = TrainingGate(1), []
    with gate.turn():
        waiters = []
        for name in "abc":
            t = threading.Thread(target=lambda name=name: (gate._acquire(), order.append(name), gate._release()))
            t.start()
            while len(gate._waiting) < len(waiters) + 1:  # each is queued before the next starts
                time.sleep(0.001)
            waiters.append(t)
    with gate.turn():  # the holder asks again at once: it queues behind a, b and c
        order.append("holder")
    for t in waiters:
        t.join(5)
    assert order == ["a", "b", "c", "holder"]


def test_a_waiter_whose_cancel_is_set_leaves_the_queue_without_a_slot():
    import threading
    from app.gate import TrainingGate
    gate, cancel, got = TrainingGate(1), threading.Event(), []
    with gate.turn() as mine:
        assert mine
        waiter = threading.Thread(target=lambda: got.append(gate.turn(cancel).__enter__()))
        waiter.start()
        cancel.set()
        waiter.join(5)
        assert got == [False]
    with gate.turn() as mine:  # the slot is free again: nobody took it by mistake
        assert mine
