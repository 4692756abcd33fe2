"""The sessions of one server process. Used from the event loop only.

A session is *live* while a socket is attached to it. When its client drops off without closing
(a network blip, a laptop lid), a configured session is *parked* for ``grace_s`` seconds, paused,
and its page can reclaim it with the session's resume token; after that it is closed.

    add(session, client)      admit a new live session, or say why not (a sentence naming the limit)
    reclaim(token)            the parked session with that token, live again; None if there is none
    release(session, park)    its socket is gone: park it, or close it now

At most ``capacity`` sessions in all and ``per_client`` from one client address, parked ones
included; but a parked session gives way, oldest first, when a new one needs its room, so sessions
whose clients have left never keep anyone out.
"""
from __future__ import annotations

import asyncio

from app.session import Session


class SessionRegistry:
    def __init__(self, capacity: int, per_client: int, grace_s: float):
        self.capacity, self.per_client, self.grace_s = capacity, per_client, grace_s
        self._client: dict[Session, str] = {}                      # every session -> its client address
        self._parked: dict[str, tuple[Session, asyncio.TimerHandle]] = {}  # token -> session, expiry

    def __len__(self) -> int:
        return len(self._client)

    @property
    def live(self) -> int:
        return len(self._client) - len(self._parked)

    def add(self, session: Session, client: str) -> str | None:
        """Register ``session`` for ``client``; None when admitted, else why it was not."""
        mine = [s for s, c in self._client.items() if c == client]
        if len(mine) >= self.per_client and not self._evict(mine):
            return (f"this address already has {len(mine)} sessions open: max_sessions_per_client="
                    f"{self.per_client}; close a tab or try again later")
        if len(self._client) >= self.capacity and not self._evict(list(self._client)):
            return (f"this server already has {len(self._client)} sessions open: max_sessions={self.capacity}; "
                    "try again later")
        self._client[session] = client
        return None

    def reclaim(self, token: str) -> Session | None:
        parked = self._parked.pop(token, None)
        if parked is None:
            return None
        session, expiry = parked
        expiry.cancel()
        return session

    def release(self, session: Session, park: bool) -> None:
        if session not in self._client:
            return
        if park and self.grace_s > 0 and session.alive:
            session.submit({"type": "park"})
            expiry = asyncio.get_running_loop().call_later(self.grace_s, self._expire, session.resume_token)
            self._parked[session.resume_token] = (session, expiry)
        else:
            self._close(session)

    def close_all(self) -> None:
        for session in list(self._client):
            self._close(session)

    # -- inside ---------------------------------------------------------------------------------
    def _evict(self, candidates: list[Session]) -> bool:
        """Close the longest-parked session among ``candidates``; False if none of them is parked."""
        for token, (session, _) in self._parked.items():  # dicts keep insertion order: oldest first
            if session in candidates:
                self._close(session)
                return True
        return False

    def _expire(self, token: str) -> None:
        parked = self._parked.get(token)
        if parked is not None:
            self._close(parked[0])

    def _close(self, session: Session) -> None:
        parked = self._parked.pop(session.resume_token, None)
        if parked is not None:
            parked[1].cancel()
        self._client.pop(session, None)
        session.close()
