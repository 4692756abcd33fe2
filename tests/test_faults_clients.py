"""Faults from clients: ones that vanish mid-frame, come back after a reset, stall while a wide
network trains flat out, or send without ever reading. The server must live on, free their places,
keep its memory flat and stop reading from a client that reads nothing."""
from __future__ import annotations

import contextlib
import json
import time

import anyio
import pytest

from tests.real_server import client_frame, open_session_within, raw_socket, reply, reset, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("faults"), NNPLAY_MAX_SESSIONS="4") as live:
        yield live


# -- clients that vanish, stall or return -------------------------------------------------------
def test_clients_that_vanish_mid_frame_leave_the_server_serving(server):
    with server.session() as bystander:
        bystander.send(json.dumps({"type": "configure", "preset": "xor", "id": 1}))
        assert reply(bystander, 1)["type"] == "configured"
        for cut in ("in the header", "in the payload", "with a reset while streaming"):
            sock = raw_socket(server.port)
            if cut == "in the header":
                sock.sendall(client_frame(b'{"type": "hello"}' * 100)[:3])
                sock.close()
            elif cut == "in the payload":
                sock.sendall(client_frame(json.dumps({"type": "probe", "inputs": [[0, 0]] * 60}).encode())[:200])
                sock.close()
            else:
                sock.sendall(client_frame(b'{"type": "play"}') + client_frame(b'{"type": "speed", '
                                                                                 b'"steps_per_second": null}'))
                sock.recv(65536)
                sock.sendall(client_frame(b'{"type": "hello"}')[:5])
                reset(sock)
        assert server.healthy()
        bystander.send(json.dumps({"type": "step", "id": 2}))
        assert reply(bystander, 2)["type"] == "ack"
        # every place those clients held is free again: 3 more sessions fit beside the bystander
        others = [open_session_within(server, 10) for _ in range(3)]
        for ws in others:
            ws.close()


def test_a_client_that_comes_back_after_a_reset_gets_a_working_session(server):
    for round_ in range(6):  # more rounds than places (max_sessions=4): a leaked place would show
        ws = open_session_within(server, 10)
        ws.send(json.dumps({"type": "configure", "preset": "circle", "id": "c"}))
        assert reply(ws, "c")["type"] == "configured"
        ws.send(json.dumps({"type": "play", "id": "p"}))
        assert reply(ws, "p")["state"]["running"] is True
        reset(ws.socket)
        with contextlib.suppress(Exception):
            ws.close()
    assert server.healthy()


def test_a_stalled_client_gets_fewer_frames_and_the_server_memory_stays_flat(server):
    """A client that never reads while a wide network trains flat out: every snapshot is ~3 MB,
    30 a second. The server keeps only the newest one, so its memory stays flat, and the
    other sessions and /healthz keep answering."""
    stalled = raw_socket(server.port, receive_buffer=4096)
    config = {"dataset": "circle", "hidden": [800, 800], "batch_size": 1}
    stalled.sendall(client_frame(json.dumps({"type": "configure", "config": config}).encode())
                    + client_frame(b'{"type": "speed", "steps_per_second": null}')
                    + client_frame(b'{"type": "play"}'))
    try:
        time.sleep(3)  # the socket buffers fill; the sender blocks
        start = server.rss_mb()
        samples = []
        with server.session() as other:
            for i in range(8):
                t = time.monotonic()
                other.send(json.dumps({"type": "hello", "id": i}))
                assert reply(other, i)["command"] == "hello"
                assert server.healthy()
                samples.append((round(server.rss_mb() - start, 1), round(time.monotonic() - t, 3)))
                time.sleep(0.5)
        growth = max(mb for mb, _ in samples)
        assert growth < 40, f"server memory grew by {growth} MB while a client stalled: {samples}"
    finally:
        reset(stalled)


ASGI_SCOPE = {"type": "websocket", "path": "/ws/session", "raw_path": b"/ws/session", "root_path": "",
              "scheme": "ws", "query_string": b"", "headers": [(b"host", b"testserver")],
              "client": ("127.0.0.1", 1), "server": ("testserver", 80), "subprotocols": [],
              "asgi": {"version": "3.0"}}


def test_a_client_that_sends_but_never_reads_is_not_read_from(make_client):
    """Every bad message earns an error reply; a client that never reads them would make the
    server queue replies without end. Instead the server stops reading from it once a few dozen
    replies wait (and TCP pushes back on the client)."""
    client = make_client()
    offered = 20000

    async def stalled_client(seconds: float) -> int:
        taken, connected = 0, False

        async def receive():
            nonlocal taken, connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            taken += 1
            if taken > offered:
                await anyio.sleep_forever()
            return {"type": "websocket.receive", "text": "not json"}

        async def send(message):
            if message["type"] == "websocket.send":
                await anyio.sleep_forever()  # the client never reads

        with anyio.move_on_after(seconds):
            await client.app(dict(ASGI_SCOPE), receive, send)
        return taken

    taken = client.portal.call(stalled_client, 2.0)
    assert taken < 100, f"the server read {taken} of {offered} messages from a client that reads nothing"
    assert client.get("/healthz").json() == {"status": "ok"}
