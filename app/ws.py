"""``/ws/session``: one training session per WebSocket (docs/protocol.md).

The handler runs two tasks: this one receives and checks client messages and queues commands for
the session's worker (at most MAX_PENDING unanswered at a time); the sender task sends whatever the
worker put in the outbox. The receiver never waits for the worker, so it sees a client leave at
once, whatever the worker is doing. When the socket closes, the ``finally`` either parks the
session, so that the page can reclaim it after a network blip (``?resume=<token>``), or closes it.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app import config as cfg
from app import presets, schema
from app.deps import get_gate, get_mnist, get_models, get_sessions, get_settings
from app.gate import TrainingGate
from app.mnist_data import MnistData
from app.models import ModelStore
from app.outbox import Outbox
from app.protocol import MAX_SAFE_INTEGER, VERSION, CommandError, dumps, loads
from app.registry import SessionRegistry
from app.session import WORKER_COMMANDS, Session
from app.settings import Settings

router = APIRouter()

COMMANDS = ("hello", *WORKER_COMMANDS, "download_mnist")
MAX_ID_LENGTH = 64
MAX_PENDING = 32            # commands queued for the worker and not yet answered
DOWNLOAD_REPORTS_PER_SECOND = 10
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_PROTOCOL, CLOSE_ABNORMAL, CLOSE_POLICY, CLOSE_TRY_LATER = (
    1000, 1001, 1002, 1006, 1008, 1013)


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Browsers send Origin: it must be this server's own host (which the Host check has allowed)
    or one of ``allowed_origins``."""
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser
        return True
    return origin.rstrip("/") in settings.allowed_origins or urlsplit(origin).netloc == websocket.headers.get("host")


def error(code: str, message: str, field: str | None = None, id_=None) -> str:
    body = {"type": "error", "code": code, "message": message, "field": field}
    if id_ is not None:
        body["id"] = id_
    return dumps(body)


def _valid_id(id_) -> bool:
    if isinstance(id_, str):
        return len(id_) <= MAX_ID_LENGTH and id_.isprintable() and not any("\ud800" <= c <= "\udfff" for c in id_)
    return isinstance(id_, int) and not isinstance(id_, bool) and abs(id_) <= MAX_SAFE_INTEGER


def parse(text: str, settings: Settings) -> dict:
    """A client text frame → its command object; CommandError says what is wrong."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > settings.max_message_bytes:
        raise CommandError("limit", f"the message is {size} bytes: this server accepts at most "
                                    f"max_message_bytes={settings.max_message_bytes}", None)
    try:
        command = loads(text)
    except (ValueError, RecursionError) as e:
        raise CommandError("bad_json", f"the message is not valid JSON: {e}", None) from None
    if not isinstance(command, dict):
        raise CommandError("bad_json", f"the message is a JSON {type(command).__name__}: it must be an object "
                                       'with a "type"', None)
    if "id" in command and not _valid_id(command["id"]):
        del command["id"]
        raise CommandError("bad_value", f"id must be a string of at most {MAX_ID_LENGTH} printable characters or "
                                        f"a whole number from -{MAX_SAFE_INTEGER} to {MAX_SAFE_INTEGER}", "id")
    if command.get("type") not in COMMANDS:
        shown = json.dumps(command.get("type"))[:40]
        raise CommandError("unknown_command", f"type={shown} is not a command: the commands are "
                                              f"{', '.join(COMMANDS)}", "type")
    return command


async def send_loop(websocket: WebSocket, outbox: Outbox) -> None:
    while True:
        for kind, message in await outbox.take():
            if message is Outbox.END:
                return
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)
            if kind == "snapshot":
                outbox.snapshot_sent()


def hello(session: Session, settings: Settings, resumed: bool | None) -> str:
    body = {"type": "hello", "protocol": VERSION, "session": session.id, "worker": os.getpid(),
            "limits": settings.limits(),
            "presets": presets.all_presets(), "config": cfg.DEFAULT, "schema": schema.build(settings),
            "resume": {"token": session.resume_token, "grace_s": settings.resume_grace_s}}
    if resumed is not None:
        body["resumed"] = resumed
    return dumps(body)


async def download(outbox: Outbox, mnist: MnistData, command: dict) -> None:
    """Fetch MNIST in a thread, reporting progress at most DOWNLOAD_REPORTS_PER_SECOND times a second."""
    last = {"at": 0.0}

    def progress(stem: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last["at"] >= 1.0 / DOWNLOAD_REPORTS_PER_SECOND or done == total:
            last["at"] = now
            outbox.post(dumps({"type": "download", "file": stem, "done": done, "total": total}))

    reply = {"id": command["id"]} if "id" in command else {}
    try:
        await asyncio.to_thread(mnist.download, progress)
    except CommandError as e:
        outbox.post(dumps({"type": "error", **e.body(), **reply}))
        return
    outbox.post(dumps({"type": "ack", "command": "download_mnist", "mnist": mnist.status(), **reply}))


def _idle_limit(configured: bool, settings: Settings) -> tuple[float, str]:
    """How long a session may stay silent: short until it has asked for a configuration."""
    if configured or settings.idle_timeout_s <= settings.unconfigured_timeout_s:
        return settings.idle_timeout_s, "idle_timeout_s"
    return settings.unconfigured_timeout_s, "unconfigured_timeout_s"


class _Receiver:
    """The client's messages, one receive at a time, kept across idle checks: ASGI does not promise
    that a cancelled receive() keeps its message (Starlette's TestClient lost a pause handed over as
    the idle check cancelled it: tests/test_receive_loop.py), so a receive is cancelled only at the end."""

    def __init__(self, websocket: WebSocket):
        self.websocket, self.task = websocket, None

    async def next(self, timeout: float) -> dict | None:
        """The next message; None if none came within ``timeout`` seconds (the receive goes on)."""
        if self.task is None:
            self.task = asyncio.ensure_future(self.websocket.receive())
        done, _ = await asyncio.wait({self.task}, timeout=timeout)
        if not done:
            return None
        task, self.task = self.task, None
        return task.result()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def receive_loop(websocket: WebSocket, session: Session, outbox: Outbox, settings: Settings,
                       mnist: MnistData, background: set) -> tuple[str, int] | int:
    """Handle client messages until the client leaves (its close code) or the server must close:
    (error, close code)."""
    receiver = _Receiver(websocket)
    try:
        return await _handle_messages(receiver, session, outbox, settings, mnist, background)
    finally:
        receiver.cancel()


async def _handle_messages(receiver: _Receiver, session: Session, outbox: Outbox, settings: Settings,
                           mnist: MnistData, background: set) -> tuple[str, int] | int:
    pending: set[asyncio.Future] = set()
    configured = session.configured  # a reclaimed session is; a new one once it asks
    while True:
        timeout, name = _idle_limit(configured, settings)
        try:
            # a client that does not read its replies is not read from either
            await asyncio.wait_for(outbox.room(), timeout)
        except asyncio.TimeoutError:
            return error("limit", f"the client read nothing for {name}={timeout:g} seconds: the session is "
                                  "closed", name), CLOSE_GOING_AWAY
        message = await receiver.next(timeout)
        if message is None:
            if session.running:  # a run someone is watching is not idle
                continue
            return error("limit", f"no message for {name}={timeout:g} seconds: the session is closed",
                         name), CLOSE_GOING_AWAY
        if message["type"] == "websocket.disconnect":
            return message.get("code") or CLOSE_ABNORMAL
        if message.get("text") is None:
            outbox.post(error("bad_json", "binary messages are not accepted: send JSON text"))
            continue
        try:
            command = parse(message["text"], settings)
        except CommandError as e:
            outbox.post(error(e.code, e.message, e.field))
            continue
        kind, id_ = command["type"], command.get("id")
        if kind == "hello" and command.get("version", VERSION) != VERSION:
            return error("version", f"version={json.dumps(command.get('version'))[:20]} is not supported: "
                                    f"this server speaks protocol {VERSION}", "version", id_), CLOSE_PROTOCOL
        if kind == "download_mnist" and background:
            outbox.post(error("limit", "a download_mnist of this session is still running: wait for its ack",
                              None, id_))
        elif kind == "download_mnist":
            task = asyncio.create_task(download(outbox, mnist, command))
            background.add(task)
            task.add_done_callback(background.discard)
        elif len(pending) >= MAX_PENDING:
            outbox.post(error("limit", f"{len(pending)} commands of this session are still waiting for their "
                                       f"replies: at most {MAX_PENDING}; wait for a reply before sending more",
                              None, id_))
        else:  # hello too, so that its ack keeps its place among the replies
            configured = configured or kind in ("configure", "load")
            done = asyncio.wrap_future(session.submit(command))
            pending.add(done)
            done.add_done_callback(pending.discard)


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    try:
        await task
    except BaseException:  # cancelled, or the send that failed because the client left
        pass


async def _admit(websocket: WebSocket, settings: Settings, sessions: SessionRegistry, mnist: MnistData,
                 models: ModelStore, gate: TrainingGate) -> tuple[Session, bool | None] | None:
    """The session for this socket: the parked one its ``resume`` token names, else a new one.
    None (after telling the client) when the server has no room for it."""
    token = websocket.query_params.get("resume")
    session = sessions.reclaim(token) if token else None
    if session is not None:
        session.outbox.clear()  # what the worker said while nobody listened
        return session, True
    session = Session(settings, mnist, models, Outbox(asyncio.get_running_loop()), gate)
    refusal = sessions.add(session, websocket.client.host if websocket.client else "")
    if refusal is not None:
        await websocket.send_text(error("limit", refusal, "max_sessions"))
        await websocket.close(CLOSE_TRY_LATER, "too many sessions")
        return None
    return session, (False if token else None)


@router.websocket("/ws/session")
async def session_socket(websocket: WebSocket, settings: Settings = Depends(get_settings),
                         sessions: SessionRegistry = Depends(get_sessions), mnist: MnistData = Depends(get_mnist),
                         models: ModelStore = Depends(get_models), gate: TrainingGate = Depends(get_gate)) -> None:
    if not origin_allowed(websocket, settings):
        await websocket.close(CLOSE_POLICY)
        return
    await websocket.accept()
    admitted = await _admit(websocket, settings, sessions, mnist, models, gate)
    if admitted is None:
        return
    session, resumed = admitted
    outbox = session.outbox
    outbox.post(hello(session, settings, resumed))  # first, before anything the worker says
    if resumed:
        session.submit({"type": "resume"})  # configured, then the data, metrics and a snapshot
    else:
        session.start()
    background: set[asyncio.Task] = set()
    sender = asyncio.create_task(send_loop(websocket, outbox))
    receiver = asyncio.create_task(receive_loop(websocket, session, outbox, settings, mnist, background))
    ended: tuple[str, int] | int = CLOSE_ABNORMAL  # how the connection ended: see receive_loop
    try:
        await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        if receiver.done() and not receiver.cancelled():
            ended = receiver.result()
        await _stop(sender)
        if isinstance(ended, tuple):
            await websocket.send_text(ended[0])
            await websocket.close(ended[1])
    except (WebSocketDisconnect, RuntimeError):  # the client left while we were still talking
        pass
    finally:
        for task in (sender, receiver, *background):
            task.cancel()
        # Lost on the way (not closed by the server, nor by a page that went away): keep a configured
        # session for a while, so that the page can come back for it.
        lost = isinstance(ended, int) and ended != CLOSE_GOING_AWAY
        sessions.release(session, park=lost and session.configured)
        if websocket.application_state == WebSocketState.CONNECTED:
            try:
                await websocket.close(CLOSE_NORMAL)
            except (WebSocketDisconnect, RuntimeError):  # the client has gone already
                pass
