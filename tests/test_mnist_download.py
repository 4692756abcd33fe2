"""Tests for engine.mnist.download from local mirrors: falling back past a corrupt mirror with
progress reports, naming the file when every mirror fails, refusing truncated, short and
decompression-bomb files, doing nothing when all files are there, and refusing bad arguments."""
from __future__ import annotations

import functools
import gzip
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine import mnist
from tests.mnist_fakes import TEST_LABELS, TRAIN_LABELS, corrupt_copy


class MirrorHandler(SimpleHTTPRequestHandler):
    """Serves the mirror folders; /short/<file> promises the whole good file but sends half of it."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requested.append(self.path)
        if self.path.startswith("/short/"):
            body = (Path(self.directory) / "good" / self.path.removeprefix("/short/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            return
        super().do_GET()


@pytest.fixture(scope="module")
def mirrors(mnist_dir, tmp_path_factory):
    """Local mirrors: good; bad (corrupt train labels); truncated, short, bomb (test labels); empty; refused."""
    root = tmp_path_factory.mktemp("mirrors")
    for name in ("good", "bad", "truncated", "bomb", "empty"):
        (root / name).mkdir()
    for stem in mnist.FILES:
        shutil.copy(mnist_dir / f"{stem}.gz", root / "good")
    corrupt_copy(mnist_dir / f"{TRAIN_LABELS}.gz", root / "bad" / f"{TRAIN_LABELS}.gz")
    genuine = (root / "good" / f"{TEST_LABELS}.gz").read_bytes()
    (root / "truncated" / f"{TEST_LABELS}.gz").write_bytes(genuine[:2000])
    (root / "bomb" / f"{TEST_LABELS}.gz").write_bytes(gzip.compress(bytes(10_000_000)))  # 10 MB of zeros
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(MirrorHandler, directory=str(root)))
    server.requested = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"good": f"{base}/good/", "bad": f"{base}/bad",  # no trailing slash: download must add it
           "truncated": f"{base}/truncated/", "bomb": f"{base}/bomb/",
           "short": f"{base}/short/", "empty": f"{base}/empty/", "refused": f"http://127.0.0.1:{closed_port}/",
           "root": root, "requested": server.requested}
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def test_download_falls_back_past_a_corrupt_mirror(mirrors, tmp_path):
    cache = tmp_path / "cache" / "mnist"
    calls = []

    def progress(stem, done, total):
        calls.append((stem, done, total, sorted(p.name for p in cache.iterdir())))

    del mirrors["requested"][:]
    mnist.download(cache, progress=progress, mirrors=[mirrors["bad"], mirrors["good"]], timeout=10)

    good = mirrors["root"] / "good"
    expected = [f"{stem}.gz" for stem in mnist.FILES] + [mnist.CACHE_MARKER]
    assert sorted(p.name for p in cache.iterdir()) == sorted(expected)
    for stem in mnist.FILES:
        assert (cache / f"{stem}.gz").read_bytes() == (good / f"{stem}.gz").read_bytes()
    assert mirrors["requested"].index(f"/bad/{TRAIN_LABELS}.gz") < mirrors["requested"].index(
        f"/good/{TRAIN_LABELS}.gz")

    for stem in mnist.FILES:  # progress ends at the full size; bytes never exceed the announced total
        mine = [(done, total) for s, done, total, _ in calls if s == stem]
        size = (good / f"{stem}.gz").stat().st_size
        assert mine[-1] == (size, size) and all(done <= total for done, total in mine)
    assert len([c for c in calls if c[0] == "train-images-idx3-ubyte"]) > 10  # reported as it goes
    # the corrupt copy was reported on, then deleted before the good mirror was tried
    starts = [listing for s, done, _, listing in calls if s == TRAIN_LABELS and done == 0]
    assert len(starts) == 2
    assert f"{TRAIN_LABELS}.gz" not in starts[1]
    assert len([name for name in starts[1] if name.endswith(".part")]) == 1


def test_download_names_the_file_when_every_mirror_fails(mirrors, mnist_dir, tmp_path):
    for stem in mnist.FILES:
        if stem != TRAIN_LABELS:
            shutil.copy(mnist_dir / f"{stem}.gz", tmp_path)
    with pytest.raises(mnist.MnistError) as caught:
        mnist.download(tmp_path, mirrors=[mirrors["refused"], mirrors["bad"], mirrors["empty"]], timeout=10)
    message = str(caught.value)
    assert message.startswith(f"could not download {TRAIN_LABELS}.gz from any mirror")
    assert "refused" in message.lower() and "sha256" in message and "404" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{s}.gz" for s in mnist.FILES if s != TRAIN_LABELS] + [mnist.CACHE_MARKER])


@pytest.mark.parametrize("mirror, reason", [
    ("truncated", r"not a complete gzip file"),
    ("short", r"stopped after \d+ of \d+ bytes|IncompleteRead"),
    ("bomb", r"inflates to more than the 10008 bytes"),
])
def test_download_rejects_partial_files(mirrors, mnist_dir, tmp_path, mirror, reason):
    for stem in mnist.FILES:
        if stem != TEST_LABELS:
            shutil.copy(mnist_dir / f"{stem}.gz", tmp_path)
    with pytest.raises(mnist.MnistError, match=rf"{TEST_LABELS}\.gz.*({reason})"):
        mnist.download(tmp_path, mirrors=[mirrors[mirror]], timeout=10)
    assert not list(tmp_path.glob(f"*{TEST_LABELS}*"))
    mnist.download(tmp_path, mirrors=[mirrors[mirror], mirrors["good"]], timeout=10)
    assert mnist.status(tmp_path)["ready"]
    assert mnist.load("test", tmp_path)[1].shape == (10000,)


def test_download_does_nothing_when_all_files_are_present(mirrors, mnist_dir, tmp_path):
    for stem in mnist.FILES:
        (tmp_path / f"{stem}.gz").symlink_to(mnist_dir / f"{stem}.gz")
    before = len(mirrors["requested"])
    mnist.download(tmp_path, mirrors=[mirrors["refused"], mirrors["good"]])  # "refused" would raise
    assert len(mirrors["requested"]) == before
    assert not (tmp_path / mnist.CACHE_MARKER).exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"mirrors": ()}, r"mirrors=\(\) is invalid: must be one or more http:// or https:// base URLs"),
    ({"mirrors": ["ftp://example.org/mnist/"]}, r"mirrors=\('ftp://example.org/mnist/',\) is invalid"),
    ({"timeout": 0}, r"timeout=0 is out of range: must be more than 0 and at most 3600 seconds"),
])
def test_download_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mnist.download(tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())
