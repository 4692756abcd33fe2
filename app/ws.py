"""``/ws/session``: one training session per WebSocket (docs/protocol.md).

The handler runs two tasks: this one receives and checks client messages and hands commands to
the session's worker one at a time; the sender task sends whatever the worker put in the outbox.
When the socket closes, for whatever reason, the ``finally`` stops the worker and drops the
session from the registry.
"""
from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app import config as cfg
from app import presets, schema
from app.deps import get_gate, get_mnist, get_models, get_sessions, get_settings
from app.gate import TrainingGate
from app.memory import give_back_free_memory
from app.mnist_data import MnistData
from app.models import ModelStore
from app.outbox import Outbox
from app.protocol import VERSION, CommandError, dumps, loads
from app.registry import SessionRegistry
from app.session import Session
from app.settings import Settings

router = APIRouter()

WORKER_COMMANDS = ("configure", "play", "pause", "step", "reset", "set", "speed", "set_weight", "set_bias",
                   "add_point", "predict", "probe", "save", "load")
COMMANDS = ("hello", *WORKER_COMMANDS, "download_mnist")
MAX_ID_LENGTH = 64
DOWNLOAD_REPORTS_PER_SECOND = 10
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_PROTOCOL, CLOSE_POLICY, CLOSE_TRY_LATER = 1000, 1001, 1002, 1008, 1013


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Browsers send Origin: it must be this server's own host or one of ``allowed_origins``."""
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser
        return True
    return origin.rstrip("/") in settings.allowed_origins or urlsplit(origin).netloc == websocket.headers.get("host")


def error(code: str, message: str, field: str | None = None, id_=None) -> str:
    body = {"type": "error", "code": code, "message": message, "field": field}
    if id_ is not None:
        body["id"] = id_
    return dumps(body)


def parse(text: str, settings: Settings) -> dict:
    """A client text frame → its command object; CommandError says what is wrong."""
    size = len(text.encode())
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
    if "id" in command:
        id_ = command["id"]
        if not (isinstance(id_, str) and len(id_) <= MAX_ID_LENGTH or isinstance(id_, int) and not isinstance(id_, bool)
                and len(str(id_)) <= MAX_ID_LENGTH):
            del command["id"]
            raise CommandError("bad_value", f"id must be a string or an integer of at most {MAX_ID_LENGTH} "
                                            "characters", "id")
    if command.get("type") not in COMMANDS:
        shown = json.dumps(command.get("type"))[:40]
        raise CommandError("unknown_command", f"type={shown} is not a command: the commands are "
                                              f"{', '.join(COMMANDS)}", "type")
    return command


async def send_loop(websocket: WebSocket, outbox: Outbox) -> None:
    while True:
        for kind, message in await outbox.take():
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_text(message)
            if kind == "snapshot":
                outbox.snapshot_wanted = True


def hello(session: Session, settings: Settings) -> str:
    return dumps({"type": "hello", "protocol": VERSION, "session": session.id, "limits": settings.limits(),
                  "presets": presets.all_presets(), "config": cfg.DEFAULT, "schema": schema.build(settings)})


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


async def receive_loop(websocket: WebSocket, session: Session, outbox: Outbox, settings: Settings,
                       mnist: MnistData, background: set) -> tuple[str, int] | None:
    """Handle client messages until the client leaves (None) or the server must close: (error, close code)."""
    while True:
        try:
            # a client that does not read its replies is not read from either
            await asyncio.wait_for(outbox.room(), settings.idle_timeout_s)
        except asyncio.TimeoutError:
            return error("limit", f"the client read nothing for idle_timeout_s={settings.idle_timeout_s:g} "
                                  "seconds: the session is closed", "idle_timeout_s"), CLOSE_GOING_AWAY
        try:
            message = await asyncio.wait_for(websocket.receive(), settings.idle_timeout_s)
        except asyncio.TimeoutError:
            if session.running:  # a run someone is watching is not idle
                continue
            return error("limit", f"no message for idle_timeout_s={settings.idle_timeout_s:g} seconds: "
                                  "the session is closed", "idle_timeout_s"), CLOSE_GOING_AWAY
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is None:
            outbox.post(error("bad_json", "binary messages are not accepted: send JSON text"))
            continue
        try:
            command = parse(message["text"], settings)
        except CommandError as e:
            outbox.post(error(e.code, e.message, e.field))
            continue
        kind, id_ = command["type"], command.get("id")
        if kind == "hello":
            if command.get("version", VERSION) != VERSION:
                return error("version", f"version={json.dumps(command.get('version'))[:20]} is not supported: "
                                        f"this server speaks protocol {VERSION}", "version", id_), CLOSE_PROTOCOL
            outbox.post(dumps({"type": "ack", "command": "hello", "protocol": VERSION,
                               **({"id": id_} if id_ is not None else {})}))
        elif kind == "download_mnist" and background:
            outbox.post(error("limit", "a download_mnist of this session is still running: wait for its ack",
                              None, id_))
        elif kind == "download_mnist":
            task = asyncio.create_task(download(outbox, mnist, command))
            background.add(task)
            task.add_done_callback(background.discard)
        else:
            await asyncio.wrap_future(session.submit(command))


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    try:
        await task
    except BaseException:  # cancelled, or the send that failed because the client left
        pass


@router.websocket("/ws/session")
async def session_socket(websocket: WebSocket, settings: Settings = Depends(get_settings),
                         sessions: SessionRegistry = Depends(get_sessions), mnist: MnistData = Depends(get_mnist),
                         models: ModelStore = Depends(get_models), gate: TrainingGate = Depends(get_gate)) -> None:
    if not origin_allowed(websocket, settings):
        await websocket.close(CLOSE_POLICY)
        return
    await websocket.accept()
    outbox = Outbox(asyncio.get_running_loop())
    session = Session(settings, mnist, models, outbox, gate)
    if not sessions.add(session):
        await websocket.send_text(error("limit", f"this server already has {len(sessions)} sessions open: "
                                                 f"max_sessions={settings.max_sessions}; try again later"))
        await websocket.close(CLOSE_TRY_LATER, "too many sessions")
        return
    session.start()
    outbox.post(hello(session, settings))
    background: set[asyncio.Task] = set()
    sender = asyncio.create_task(send_loop(websocket, outbox))
    receiver = asyncio.create_task(receive_loop(websocket, session, outbox, settings, mnist, background))
    try:
        await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        closing = receiver.result() if receiver.done() and not receiver.cancelled() else None
        await _stop(sender)
        if closing is not None:
            await websocket.send_text(closing[0])
            await websocket.close(closing[1])
    except (WebSocketDisconnect, RuntimeError):  # the client left while we were still talking
        pass
    finally:
        for task in (sender, receiver, *background):
            task.cancel()
        session.close()
        sessions.remove(session)
        await asyncio.to_thread(session.join, 5.0)
        await asyncio.to_thread(give_back_free_memory)
        if websocket.application_state == WebSocketState.CONNECTED:
            try:
                await websocket.close(CLOSE_NORMAL)
            except (WebSocketDisconnect, RuntimeError):  # the client has gone already
                pass
