"""The ``nnplay`` command (also ``python -m app``).

    nnplay serve [--host H] [--port P] [--workers N] [--open]   the web app (default 127.0.0.1:8000)
    nnplay train PRESET [--epochs N] [--seed S] [--save NAME] [--layers JSON]
    nnplay predict IMAGE [--model NAME]            NAME: pretrained (the CNN), pretrained-dense, or a saved model

Settings come from the environment (app/settings.py); flags override them.

NumPy is imported only inside ``main``, after it defaults OPENBLAS_NUM_THREADS to 1: the
server trains one session per worker thread, and with several sessions, or a busy machine,
OpenBLAS's own threads fight over the cores (on the 2-core build machine an MNIST step took
17-47 ms with its threads and 0.7 ms without).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
import webbrowser
from pathlib import Path

from app import __version__, presets

BAR_WIDTH = 30
BAR_UPDATES_PER_SECOND = 10


def _parser() -> argparse.ArgumentParser:
    from app.settings import PRETRAINED_MODELS
    parser = argparse.ArgumentParser(prog="nnplay", description="A neural-network playground in the browser.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, or $NNPLAY_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000, or $PORT)")
    serve.add_argument("--workers", type=int, metavar="N",
                       help="server processes sharing the port (default 1, or $NNPLAY_WORKERS); "
                            "each holds its own sessions and limits")
    serve.add_argument("--open", action="store_true", help="open the app in a web browser")
    train = commands.add_parser("train", help="train a preset network in the terminal")
    train.add_argument("preset", choices=presets.names(), metavar="PRESET",
                       help=f"one of: {', '.join(presets.names())}")
    train.add_argument("--epochs", type=int, help="passes over the training set (default: the preset's)")
    train.add_argument("--seed", type=int, help="random seed for data, weights and batch order")
    train.add_argument("--save", metavar="NAME", help="save the trained model under NAME")
    train.add_argument("--mnist-train-size", type=int, help="MNIST only: train on the first N images")
    train.add_argument("--layers", metavar="JSON", type=_layers,
                       help='MNIST only: train a conv network of these layers (the config field "layers", '
                            'docs/protocol.md), e.g. \'[{"type": "conv", "size": 5, "channels": 8}, {"type": "pool"}, '
                            '{"type": "flatten"}]\' (the output layer is added)')
    predict = commands.add_parser("predict", help="read the digit in a picture")
    predict.add_argument("image", type=Path, help="a PNG (or JPEG, ...) of one handwritten digit")
    predict.add_argument("--model", metavar="NAME",
                         help=f"{' or '.join(PRETRAINED_MODELS)} (pretrained; default {next(iter(PRETRAINED_MODELS))}), "
                              "or the name of a saved model")
    return parser


def _layers(text: str) -> list:
    """--layers: JSON text; its content is checked with the rest of the config (app/convnet.py)."""
    try:
        return json.loads(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r:.60} is not JSON ({e}): give a list of layer objects") from None


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS (app.settings loads it)
    args = _parser().parse_args(argv)
    from app.protocol import CommandError
    from app.settings import Settings

    try:
        settings = Settings.from_env()
        if args.command == "serve":
            return serve(settings.with_overrides(host=args.host, port=args.port, workers=args.workers), args.open)
        if args.command == "train":
            return train(settings, args.preset, args.epochs, args.seed, args.save, args.mnist_train_size, args.layers)
        return predict(settings, args.image, args.model)
    except (ValueError, CommandError) as e:
        print(f"nnplay: {e.message if isinstance(e, CommandError) else e}", file=sys.stderr)
        return 2


# -- serve ------------------------------------------------------------------------------------
def serve(settings, open_browser: bool) -> int:
    import uvicorn

    from app.http import HeaderDeadlineProtocol

    app = _app(settings)
    url = f"http://{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}:{settings.port}/"
    print(f"nnplay is serving on {url}  (Ctrl+C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                workers=settings.workers, factory=settings.workers > 1,
                timeout_graceful_shutdown=3, ws_max_size=max(16 << 20, 2 * settings.max_message_bytes),
                ws_per_message_deflate=False,  # deflating float arrays costs CPU and saves little
                http=HeaderDeadlineProtocol, timeout_keep_alive=settings.header_timeout_s)
    return 0


def _app(settings):
    """The app, for one process. Several worker processes (uvicorn starts each afresh) import its
    factory by name instead and build their settings from the environment they inherit, where
    the command line's overrides are put first (Settings.worker_environ)."""
    if settings.workers == 1:
        from app.main import create_app
        return create_app(settings)
    os.environ.update(settings.worker_environ())
    return "app.main:create_app"


# -- train ------------------------------------------------------------------------------------
class ProgressBar:
    """``[#####.....]  42%  label`` redrawn in place on a terminal (stderr), at most 10 times a
    second; in a log (not a terminal) ``\\r`` frames would pile up, so there it writes a plain
    line per ``line()`` call instead (one per epoch)."""

    def __init__(self, total: int, stream=None):
        self.total, self.stream, self.shown_at = max(total, 1), stream or sys.stderr, 0.0
        self.tty = self.stream.isatty()

    def show(self, done: int, label: str, force: bool = False) -> None:
        now = time.monotonic()
        if not self.tty or (not force and now - self.shown_at < 1.0 / BAR_UPDATES_PER_SECOND):
            return
        self.shown_at = now
        filled = BAR_WIDTH * done // self.total
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // self.total:3d}%  {label}")
        self.stream.flush()

    def line(self, label: str) -> None:
        """A milestone (an epoch done): a line of its own in a log; on a terminal the bar shows it."""
        if not self.tty:
            self.stream.write(f"{label}\n")
            self.stream.flush()

    def finish(self, label: str) -> None:
        if self.tty:
            self.show(self.total, label, force=True)
            self.stream.write("\n")
        else:
            self.stream.write(f"{label}\n")
        self.stream.flush()


def plural(n: int, word: str) -> str:
    """"1 epoch", "2 epochs"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _percent(accuracy) -> str:
    return "n/a" if accuracy is None else f"{100 * accuracy:.1f}%"


def train(settings, preset_name: str, epochs: int | None, seed: int | None, save: str | None,
          mnist_train_size: int | None, layers: list | None = None) -> int:
    from app import config as cfg
    from app import frames
    from app.mnist_data import MnistData
    from app.models import ModelStore

    preset = presets.get(preset_name)
    patch = {**preset["config"]}
    if seed is not None:
        patch["seed"] = seed
    if mnist_train_size is not None:
        patch["mnist_train_size"] = mnist_train_size
    if layers is not None:
        patch.update(architecture="conv", layers=layers)
    config = cfg.normalise(cfg.DEFAULT, patch, settings)
    epochs = preset["epochs"] if epochs is None else epochs
    if not 1 <= epochs <= 100000:
        raise ValueError(f"--epochs={epochs} is out of range: must be from 1 to 100000")
    store = ModelStore.from_settings(settings)
    if save is not None:
        store.path(save, field="--save")  # check the name before training, not after
    mnist = MnistData(settings.data_dir, settings.mnist_mirrors)
    if config["dataset"] == "mnist" and not mnist.status()["ready"]:
        fetch_mnist(mnist)
    data = cfg.build_data(config, mnist.arrays)
    network = cfg.build_network(config, data)
    trainer = cfg.build_trainer(config, network, data)
    from app.budget import describe, plans_of
    shape = network.sizes if network.is_dense else describe(plans_of(network))
    print(f"training {preset['title']}: network {shape}, {len(data.X_train)} training samples, "
          f"{plural(epochs, 'epoch')}", file=sys.stderr)
    bar = ProgressBar(epochs * trainer.steps_per_epoch)
    started = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            while trainer.epoch < epoch:
                stats = trainer.step()
                bar.show(trainer.step_count, f"epoch {epoch}/{epochs}  loss {stats.loss:.4f}")
            bar.line(f"epoch {epoch}/{epochs}  loss {stats.loss:.4f}")
    except Exception as e:  # DivergenceError, or anything else: report it plainly
        print(f"\nnnplay: {e}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    train_loss, train_accuracy = frames.score(network, data, data.X_train, data.y_train)
    test_loss, test_accuracy = frames.score(network, data, data.X_test, data.y_test)
    bar.finish(f"{trainer.step_count} steps in {elapsed:.1f} s")
    print(f"train loss {train_loss:.4f}  accuracy {_percent(train_accuracy)}")
    print(f"test  loss {test_loss:.4f}  accuracy {_percent(test_accuracy)}")
    if save is not None:
        store.save(network, save, {"dataset": data.name, "config": config, "step": trainer.step_count,
                                   "epoch": trainer.epoch, "test_accuracy": test_accuracy, "inputs": data.inputs})
        print(f"saved as {save!r} in {settings.models_dir}")
    return 0


def fetch_mnist(mnist) -> None:
    """MNIST on first use, as the web app does: downloaded into the data directory, with progress."""
    print(f"MNIST is not in {mnist.data_dir} yet: downloading it (about 11 MB)", file=sys.stderr)
    current = {"file": None, "bar": None}

    def progress(stem: str, done: int, total: int) -> None:
        if f"{stem}.gz" != current["file"]:
            if current["bar"]:
                current["bar"].finish(current["file"])
            current.update(file=f"{stem}.gz", bar=ProgressBar(total))
        current["bar"].show(done, current["file"])

    mnist.download(progress)
    if current["bar"]:
        current["bar"].finish(current["file"])


# -- predict ----------------------------------------------------------------------------------
def predict(settings, image: Path, model: str | None) -> int:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from app.predict import PretrainedModels, prediction
    from engine import digits

    try:
        with Image.open(image) as picture:
            picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
            pixels = np.asarray(picture)
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"{image}: cannot read the picture ({e})") from None
    try:
        x28 = digits.to_mnist(pixels)
    except digits.EmptyCanvasError:
        raise ValueError(f"{image}: no ink: the picture is empty — draw a digit") from None
    pretrained = PretrainedModels(settings.pretrained_models())
    network = pretrained.get(model) if model is None or model in pretrained else saved_model(settings, model)
    answer = prediction(network, x28)
    print(f"digit: {answer['digit']}")
    for digit, p in enumerate(answer["probabilities"]):
        print(f"  {digit}: {p:.4f}  {'#' * math.floor(40 * p)}")
    return 0


def saved_model(settings, name: str):
    """A saved model by name; a name that is not saved gets the list of those that are."""
    from app.models import ModelStore
    from app.settings import PRETRAINED_MODELS
    from app.protocol import CommandError

    store = ModelStore.from_settings(settings)
    try:
        return store.load(name, field="--model")[0]
    except CommandError as e:
        if e.code != "not_found":
            raise
    names = [m["name"] for m in store.list()["models"]]
    saved = (f"the saved models are: {', '.join(names)}" if names
             else "no model is saved yet (nnplay train PRESET --save NAME saves one)")
    raise ValueError(f"--model {name!r}: there is no saved model of that name in {settings.models_dir}, and the "
                     f"pretrained models are {', '.join(PRETRAINED_MODELS)}; {saved}")
