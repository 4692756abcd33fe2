"""The ``nnplay`` command: train, predict, serve (and ``python -m app`` as the same thing)."""
from __future__ import annotations

import functools
import http.server
import io
import os
import signal
import threading
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from app.cli import ProgressBar, main
from engine import digits, mnist, modelfile
from engine.network import Network

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("NNPLAY_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("NNPLAY_PRETRAINED", str(tmp_path / "missing.npz"))
    return tmp_path


def test_train_xor_shows_progress_and_final_metrics_and_saves(env, capsys):
    assert main(["train", "xor", "--seed", "0", "--save", "xor-1"]) == 0
    out, err = capsys.readouterr()
    # not a terminal: a plain line per epoch, no \r frames
    assert "\r" not in err and "epoch 1/1500  loss" in err and "epoch 1500/1500  loss" in err and "1500 steps" in err
    assert len([line for line in err.splitlines() if line.startswith("epoch ")]) == 1500
    assert "train loss" in out and "test  loss" in out and "accuracy 100.0%" in out
    net, meta = modelfile.load(env / "models" / "xor-1.npz")
    assert net.sizes == [2, 2, 1] and meta["dataset"] == "xor_table" and meta["test_accuracy"] == 1.0
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert list(net.classify(net.forward(X))) == [0, 1, 1, 0]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_redraws_one_line_on_a_terminal_only():
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressBar(4, stream)
        for done in range(1, 5):
            bar.show(done, f"step {done}", force=True)
            bar.line(f"epoch {done}/4")
        bar.finish("4 steps")
    assert terminal.getvalue().count("\r[") == 5 and "epoch 1/4" not in terminal.getvalue()
    assert "[" + "#" * 30 + "] 100%  4 steps\n" in terminal.getvalue()
    assert log.getvalue() == "epoch 1/4\nepoch 2/4\nepoch 3/4\nepoch 4/4\n4 steps\n"


def test_one_epoch_is_one_epoch(env, capsys):
    assert main(["train", "circle", "--epochs", "1"]) == 0
    err = capsys.readouterr().err
    assert ", 1 epoch\n" in err and "1 epochs" not in err


def test_train_checks_its_arguments_before_training(env, capsys):
    assert main(["train", "xor", "--epochs", "0"]) == 2
    assert "--epochs=0 is out of range" in capsys.readouterr().err
    assert main(["train", "circle", "--save", "../escape"]) == 2
    err = capsys.readouterr().err
    assert "--save" in err and "^[A-Za-z0-9]" in err and "training" not in err
    with pytest.raises(SystemExit):
        main(["train", "no-such-preset"])


def test_train_mnist_briefly(env, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(mnist_dir))
    assert main(["train", "mnist", "--epochs", "1", "--mnist-train-size", "500"]) == 0
    out, err = capsys.readouterr()
    assert "[784, 128, 64, 10], 500 training samples" in err
    accuracy = float(out.split("test  loss")[1].split("accuracy")[1].strip().rstrip("%"))
    assert 30 < accuracy <= 100  # 8 steps of Adam on 500 digits: well above chance (10 %)


@pytest.fixture
def mirror(mnist_dir):
    """A local HTTP mirror serving the MNIST .gz files, like the public ones."""
    handler = functools.partial(QuietHandler, directory=str(mnist_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_train_mnist_downloads_it_on_first_use(env, mirror, monkeypatch, capsys):
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(env / "mnist"))
    monkeypatch.setenv("NNPLAY_MNIST_MIRRORS", mirror)
    assert main(["train", "mnist", "--epochs", "1", "--mnist-train-size", "100"]) == 0
    err = capsys.readouterr().err
    assert "downloading it" in err and "t10k-labels-idx1-ubyte.gz" in err and "1 epoch" in err
    assert sorted(p.name for p in (env / "mnist").glob("*.gz")) == sorted(f"{stem}.gz" for stem in mnist.FILES)


def test_train_mnist_without_a_reachable_mirror_says_so(env, monkeypatch, capsys):
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(env / "mnist"))
    monkeypatch.setenv("NNPLAY_MNIST_MIRRORS", f"http://127.0.0.1:{free_port()}/")
    assert main(["train", "mnist", "--epochs", "1"]) == 2
    assert "no mirror could be reached" in capsys.readouterr().err


def test_predict_prints_the_digit_and_probabilities(env, capsys):
    net = Network.create([784, 10], ["softmax"], "cross_entropy", seed=1)
    modelfile.save(net, env / "model.npz")
    os.environ["NNPLAY_PRETRAINED"] = str(env / "model.npz")
    grey = digits.draw_strokes([[(100, 40), (100, 240)]], size=280, pen_width=20)
    Image.fromarray(255 - grey).save(env / "one.png")
    assert main(["predict", str(env / "one.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    expected = net.forward(digits.to_mnist(255 - grey).reshape(1, 784))[0]
    assert out[0] == f"digit: {int(np.argmax(expected))}"
    assert [float(line.split()[1]) for line in out[1:11]] == pytest.approx(expected, abs=1e-4)


def test_predict_errors_are_plain_messages(env, capsys):
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(env / "empty.png")
    (env / "junk.png").write_bytes(b"not a png")
    assert main(["predict", str(env / "junk.png")]) == 2
    assert "cannot read the picture" in capsys.readouterr().err
    assert main(["predict", str(env / "empty.png")]) == 2
    assert "no ink" in capsys.readouterr().err
    grey = digits.draw_strokes([[(10, 5), (10, 30)]], size=40, pen_width=4)
    Image.fromarray(grey).save(env / "digit.png")
    assert main(["predict", str(env / "digit.png")]) == 2
    assert "run make model" in capsys.readouterr().err
    assert main(["predict", str(env / "digit.png"), "--model", "nothing"]) == 2
    err = capsys.readouterr().err
    assert "no saved model of that name" in err and "no model is saved yet" in err and "/api/models" not in err
    (env / "models").mkdir()
    modelfile.save(Network.create([784, 10], ["softmax"], "cross_entropy"), env / "models" / "tiny.npz")
    modelfile.save(Network.create([784, 10], ["softmax"], "cross_entropy"), env / "models" / "other.npz")
    assert main(["predict", str(env / "digit.png"), "--model", "nosuch"]) == 2
    assert "the saved models are: other, tiny" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, env_extra, tmp_path):
    env = dict(os.environ, NNPLAY_MODELS_DIR=str(tmp_path / "models"), PYTHONUNBUFFERED="1", **env_extra)
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_healthy(url: str, proc) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).json() == {"status": "ok"}:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.05)
    raise AssertionError("the server did not answer /healthz")


def test_serve_takes_port_from_the_environment_prints_its_url_and_stops_on_sigterm(tmp_path):
    port = free_port()
    proc = start(["serve"], {"PORT": str(port), "NNPLAY_HOST": "127.0.0.1"}, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        from websockets.sync.client import connect
        with connect(f"ws://127.0.0.1:{port}/ws/session") as ws:  # a live session must not delay the stop
            ws.recv()
            ws.send('{"type": "play"}')
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        assert time.monotonic() - started < 5
        log = proc.stdout.read()
        assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its clean shutdown
        assert f"http://127.0.0.1:{port}/" in log and "Finished server process" in log
    finally:
        proc.kill()


def test_serve_flags_override_the_environment_and_open_a_browser(tmp_path):
    port = free_port()
    record = tmp_path / "opened.txt"
    (tmp_path / "browser.py").write_text(f"import sys; open({str(record)!r}, 'w').write(sys.argv[1])\n")
    proc = start(["serve", "--port", str(port), "--open"],
                 {"PORT": "1", "BROWSER": f"{sys.executable} {tmp_path / 'browser.py'} %s"}, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        for _ in range(100):
            if record.exists() and record.read_text():
                break
            time.sleep(0.05)
        assert record.read_text() == f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)


def test_numpy_loads_only_after_the_command_limits_openblas_to_one_thread():
    """app/cli.py's docstring: OpenBLAS's own threads made an MNIST step 17-47 ms instead of 0.7.
    Importing the CLI must not load NumPy (a module-level import of app.settings did, so the
    server trained with two OpenBLAS threads: half the steps per second on the Digits page while
    the browser drew); after a command runs, the setting is in place."""
    code = ("import os, sys; os.environ.pop('OPENBLAS_NUM_THREADS', None); from app import cli; "
            "print('numpy' in sys.modules)\n"
            "try:\n    cli.main(['predict', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('numpy' not in sys.modules or os.environ.get('OPENBLAS_NUM_THREADS') == '1')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split()[0] == "False" and done.stdout.split()[-1] == "True", (done.stdout, done.stderr)
