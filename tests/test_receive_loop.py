"""The receiver of app/ws.py never cancels a receive while the client is still there. ASGI does not
promise that a cancelled ``receive()`` keeps its message: Starlette's TestClient (anyio's memory
stream) loses one that was handed over just as the cancel came. When the idle check cancelled the
receive each ``idle_timeout_s``, a ``pause`` sent at that moment went unanswered and the run went
on (a CI run once read 10,000 messages waiting for its ack)."""
from __future__ import annotations

import asyncio
from concurrent.futures import Future

from app.outbox import Outbox
from app.settings import Settings
from app.ws import receive_loop

IDLE_S = 0.2


class LossySocket:
    """receive() takes the next message at once and hands it over ``hold`` seconds later; a cancel
    in between loses it, as a receive that is not cancel-safe may. Then the client leaves."""

    def __init__(self, messages: list[dict], hold: float):
        self.messages, self.hold = list(messages), hold

    async def receive(self) -> dict:
        if not self.messages:
            return {"type": "websocket.disconnect", "code": 1000}
        message = self.messages.pop(0)
        await asyncio.sleep(self.hold)
        return message


class RunningSession:
    """What the receiver needs of a Session: a running one that records the commands submitted."""

    configured, running = True, True

    def __init__(self):
        self.commands: list[dict] = []

    def submit(self, command: dict) -> Future:
        self.commands.append(command)
        done: Future = Future()
        done.set_result(None)
        return done


def test_a_message_that_arrives_at_an_idle_check_is_not_lost():
    async def run():
        session = RunningSession()
        socket = LossySocket([{"type": "websocket.receive", "text": '{"type": "pause", "id": "p"}'}],
                             hold=1.5 * IDLE_S)   # in the receiver's hands when the idle check comes
        ended = await asyncio.wait_for(receive_loop(socket, session, Outbox(asyncio.get_running_loop()),
                                                    Settings(idle_timeout_s=IDLE_S), None, set()), 10)
        return ended, session.commands

    ended, commands = asyncio.run(run())
    assert [c["type"] for c in commands] == ["pause"] and commands[0]["id"] == "p"
    assert ended == 1000   # then the client left, normally
