"""TrainingGate: at most ``slots`` sessions train at the same moment, taking turns in arrival order.

Every session has its own worker thread, but Python runs one thread's bytecode at a time (the
GIL). With twenty workers training flat out, the event-loop thread waited behind all of them
each time it wanted the GIL back, and /healthz took 200 ms (bench/load.py). Behind the gate,
waiting workers sleep on a lock, so only ``slots`` of them (one per core by default) compete
with the event loop.

    with gate.turn():            # blocks until a slot is free and earlier arrivals have had theirs
        ...train for one slice (a few milliseconds)...

A released slot goes straight to the longest waiter, so a worker that asks again at once queues
behind the others instead of taking the slot back: every session keeps training, at an equal
share of the machine.
"""
from __future__ import annotations

import collections
import threading
from contextlib import contextmanager


CANCEL_CHECK_S = 0.05  # how often a cancellable waiter looks at its cancel event


class TrainingGate:
    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError(f"slots={slots!r}: a training gate needs at least 1 slot")
        self.slots = slots
        self._free = slots
        self._lock = threading.Lock()
        self._waiting: collections.deque[threading.Lock] = collections.deque()

    @contextmanager
    def turn(self, cancel: threading.Event | None = None):
        """Yields True while holding a slot; or False, holding nothing, when ``cancel`` is set while
        waiting (a session that closes does not wait for a turn it no longer needs)."""
        granted = self._acquire(cancel)
        try:
            yield granted
        finally:
            if granted:
                self._release()

    def handover(self) -> None:
        """Called while holding a turn: let the longest waiter have one, then wait for the next."""
        with self._lock:
            if not self._waiting:
                return  # nobody waits: keep the slot
        self._release()
        self._acquire()

    def _acquire(self, cancel: threading.Event | None = None) -> bool:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            ticket = threading.Lock()
            ticket.acquire()
            self._waiting.append(ticket)
        # released by _release when this waiter's turn comes, holding the slot
        while not ticket.acquire(timeout=CANCEL_CHECK_S if cancel is not None else -1):
            if cancel.is_set():
                with self._lock:
                    if ticket in self._waiting:
                        self._waiting.remove(ticket)
                        return False
                ticket.acquire()  # the slot came to us just now: take it, the caller gives it back
                return True
        return True

    def _release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes on without ever being free
            else:
                self._free += 1
