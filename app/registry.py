"""The open sessions of one server, at most ``capacity`` of them. Used from the event loop only."""
from __future__ import annotations

from app.session import Session


class SessionRegistry:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._sessions: dict[str, Session] = {}

    def add(self, session: Session) -> bool:
        """Register ``session``; False when the server is full."""
        if len(self._sessions) >= self.capacity:
            return False
        self._sessions[session.id] = session
        return True

    def remove(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def close_all(self) -> None:
        for session in list(self._sessions.values()):
            session.close()
        self._sessions.clear()
