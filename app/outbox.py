"""The mailbox between a session's worker thread and its WebSocket sender task.

Replies (ack, configured, error, trace, ...) queue up in order and are all delivered. Metrics,
snapshots and evaluations are *latest-only* slots: a newer one replaces an unsent older one,
so a slow client gets fewer frames, never a growing queue. The sender sends the queued replies
first, then the slots in the order evaluation, metrics, snapshot: the order they are published
in, so the metrics that report an evaluation's figures always arrive after it.

The worker calls ``post`` and ``publish`` from its own thread; they hop onto the event loop
with ``call_soon_threadsafe``, which keeps their order. ``snapshot_wanted`` compares two
counters, each written by one thread only: snapshots published (worker) and the number of the
last one sent (event loop).
"""
from __future__ import annotations

import asyncio
from collections import deque

SLOTS = ("evaluation", "metrics", "snapshot")  # the order the Reporter publishes them in
END = b""  # posted last by a worker that ended on its own: the sender stops, and the socket closes
Message = str | bytes


class Outbox:
    END = END

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._replies: deque[Message] = deque()
        self._latest: dict[str, Message] = {}
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._published = 0        # snapshots published; written by the worker
        self._queued = 0           # the number of the snapshot in the slot; event loop
        self._sent = 0             # the number of the last snapshot sent; event loop

    @property
    def snapshot_wanted(self) -> bool:
        """The sender has sent every snapshot published so far: the worker may build the next."""
        return self._sent == self._published

    # -- the worker thread -------------------------------------------------------------------
    def post(self, message: Message, stale: tuple[str, ...] = ()) -> None:
        """Queue a reply. ``stale`` names slots whose unsent message it outdates: the worker
        publishes fresh ones right after it (a ``diverged`` error), and an older one sent after
        the reply would contradict it."""
        self._call(self._add_reply, message, stale)

    def publish(self, slot: str, message: Message) -> None:
        if slot == "snapshot":
            self._published += 1
            self._call(self._set_latest, slot, message, self._published)
        else:
            self._call(self._set_latest, slot, message)

    def _call(self, fn, *args) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the event loop has closed: nobody is listening any more
            pass

    # -- event loop thread -------------------------------------------------------------------
    def _add_reply(self, message: Message, stale: tuple[str, ...] = ()) -> None:
        for slot in stale:
            self._latest.pop(slot, None)
        self._replies.append(message)
        self._drained.clear()
        self._ready.set()

    def _set_latest(self, slot: str, message: Message, number: int = 0) -> None:
        self._latest[slot] = message
        if number:
            self._queued = number
        self._ready.set()

    def snapshot_sent(self) -> None:
        self._sent = self._queued

    def clear(self) -> None:
        """Forget everything unsent (a parked session's output, when a new socket reclaims it)."""
        self._replies.clear()
        self._latest.clear()
        self._sent = self._queued = self._published
        self._drained.set()
        self._ready.clear()

    async def take(self) -> list[tuple[str, Message]]:
        """Everything pending, as (kind, message): replies first, then the latest of each slot."""
        await self._ready.wait()
        self._ready.clear()
        batch = [("reply", m) for m in self._replies]
        self._replies.clear()
        batch += [(slot, self._latest.pop(slot)) for slot in SLOTS if slot in self._latest]
        self._drained.set()
        return batch

    async def room(self, backlog: int = 32) -> None:
        """Wait until fewer than ``backlog`` replies are waiting to be sent."""
        while len(self._replies) >= backlog:
            await self._drained.wait()
