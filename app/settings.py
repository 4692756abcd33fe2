"""Every setting of the server, read in one place: environment variables, then CLI overrides.

    Settings.from_env(os.environ)                    defaults < environment
    settings.with_overrides(host=..., port=...)      < command-line flags (None = not given)

Environment variables:

    NNPLAY_HOST, PORT (or NNPLAY_PORT)      where ``nnplay serve`` listens (127.0.0.1:8000)
    NNPLAY_DATA_DIR                         MNIST files (else engine.mnist.default_data_dir())
    NNPLAY_MODELS_DIR                       saved models (else $XDG_DATA_HOME/nnplay/models,
                                            else ~/.local/share/nnplay/models)
    NNPLAY_PRETRAINED                       the default digit model, the CNN (else engine/pretrained/digits.npz)
    NNPLAY_PRETRAINED_DENSE                 the dense digit model (else engine/pretrained/digits_dense.npz)
    NNPLAY_STATIC_DIR, NNPLAY_TEMPLATES_DIR the front end (else static/ and templates/: in the app
                                            package when installed from a wheel, else the checkout's)
    NNPLAY_MAX_LAYERS, NNPLAY_MAX_WIDTH, NNPLAY_MAX_KERNEL, NNPLAY_MAX_SAMPLES, NNPLAY_MAX_MESSAGE_BYTES,
    NNPLAY_MAX_SESSIONS, NNPLAY_IDLE_TIMEOUT_S, NNPLAY_FRAME_RATE, NNPLAY_METRICS_RATE
    NNPLAY_ALLOWED_HOSTS                    comma-separated extra names the Host header may carry
                                            (besides localhost, loopback addresses and NNPLAY_HOST);
                                            a leading dot matches subdomains; * turns the check off
    NNPLAY_ALLOWED_ORIGINS                  comma-separated origins allowed to open a WebSocket
                                            besides the server's own host (empty: same host only)
    NNPLAY_SESSION_MEMORY_MB, NNPLAY_MAX_SAMPLE_MFLOP, NNPLAY_MAX_SESSIONS_PER_CLIENT, NNPLAY_UNCONFIGURED_TIMEOUT_S,
    NNPLAY_RESUME_GRACE_S, NNPLAY_MAX_MODELS, NNPLAY_MAX_MODELS_MB, NNPLAY_HEADER_TIMEOUT_S
    NNPLAY_MNIST_MIRRORS                    comma-separated base URLs to download MNIST from
    NNPLAY_TRAINING_SLOTS                   sessions that train at the same moment (the others
                                            wait their turn); default: the number of cores
    NNPLAY_WORKERS                          server processes sharing the port (default 1);
                                            every other limit holds per process
"""
from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from engine import data as toysets
from engine import mnist

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout; site-packages when installed


def _front_end(name: str) -> Path:
    """static/ or templates/: the wheel carries them inside the app package (pyproject.toml maps
    them there); a checkout has them at its top level, beside app/."""
    packaged = REPO_ROOT / "app" / name
    return packaged if packaged.is_dir() else REPO_ROOT / name


# name: (environment variable, type, low, high)
_LIMITS = {
    "max_layers": ("NNPLAY_MAX_LAYERS", int, 1, 64),
    "max_width": ("NNPLAY_MAX_WIDTH", int, 1, 65536),
    "max_kernel": ("NNPLAY_MAX_KERNEL", int, 1, 64),
    "max_samples": ("NNPLAY_MAX_SAMPLES", int, *toysets.SAMPLES),
    "max_message_bytes": ("NNPLAY_MAX_MESSAGE_BYTES", int, 1024, 64 << 20),
    "max_sessions": ("NNPLAY_MAX_SESSIONS", int, 1, 10000),
    "idle_timeout_s": ("NNPLAY_IDLE_TIMEOUT_S", float, 0.01, 7 * 24 * 3600),
    "frame_rate": ("NNPLAY_FRAME_RATE", float, 0.1, 120),
    "metrics_rate": ("NNPLAY_METRICS_RATE", float, 0.1, 120),
    "session_memory_mb": ("NNPLAY_SESSION_MEMORY_MB", int, 16, 1 << 20),
    "max_sample_mflop": ("NNPLAY_MAX_SAMPLE_MFLOP", int, 1, 1 << 20),
    "max_sessions_per_client": ("NNPLAY_MAX_SESSIONS_PER_CLIENT", int, 1, 10000),
    "unconfigured_timeout_s": ("NNPLAY_UNCONFIGURED_TIMEOUT_S", float, 0.01, 7 * 24 * 3600),
    "resume_grace_s": ("NNPLAY_RESUME_GRACE_S", float, 0, 24 * 3600),
    "max_models": ("NNPLAY_MAX_MODELS", int, 1, 1_000_000),
    "max_models_mb": ("NNPLAY_MAX_MODELS_MB", int, 1, 1 << 24),
    "header_timeout_s": ("NNPLAY_HEADER_TIMEOUT_S", float, 0.1, 3600),
}
# The names a Host header may always carry: loopback. A DNS-rebinding page has a name of its own.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

WORKERS_RANGE = (1, 256)  # server processes of one ``nnplay serve``
# The pretrained digit models, by the name a client gives (/api/predict "model", /api/models/{name}/weights,
# ``nnplay predict --model``), each with the Settings field holding its file; the first is the default reader.
PRETRAINED_MODELS = {"pretrained": "pretrained", "pretrained-dense": "pretrained_dense"}


def _models_dir(environ: Mapping[str, str]) -> Path:
    data_home = environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "nnplay" / "models"


def _parse(name: str, variable: str, text: str, kind, low, high):
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{variable}={text!r} is not a {'whole number' if kind is int else 'number'}: "
                         f"{name} must be between {low} and {high}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{variable}={text!r} is out of range: {name} must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=mnist.default_data_dir)
    models_dir: Path = field(default_factory=lambda: _models_dir(os.environ))
    pretrained: Path = REPO_ROOT / "engine" / "pretrained" / "digits.npz"          # the CNN: the default reader
    pretrained_dense: Path = REPO_ROOT / "engine" / "pretrained" / "digits_dense.npz"  # 784-256-128-10
    static_dir: Path = field(default_factory=lambda: _front_end("static"))
    templates_dir: Path = field(default_factory=lambda: _front_end("templates"))
    max_layers: int = 8              # hidden layers per network
    max_width: int = 1024            # neurons per hidden layer, channels per conv layer
    max_kernel: int = 9              # side of a conv layer's k×k kernels
    max_samples: int = toysets.SAMPLES[1]  # points in a toy data set
    max_message_bytes: int = 1 << 20  # one incoming WebSocket message or REST body
    max_sessions: int = 32           # open WebSocket sessions per server
    idle_timeout_s: float = 900.0    # a session with no client message for this long is closed
    frame_rate: float = 30.0         # snapshots per second at most
    metrics_rate: float = 20.0       # metrics messages per second while training
    # 32 sessions x 128 MB fit a 4 GB machine; the Digits page's largest preset needs 30 MB
    session_memory_mb: int = 128     # what one session's network, optimiser and buffers may take
    # Reading one digit: the widest dense network the other limits allow takes 16 MFLOP, the pretrained
    # CNN 2.2; three 9×9×64 conv layers took 1,049 (24 ms a digit, 4 minutes to score the test set)
    max_sample_mflop: int = 20       # the work of one sample's forward pass (app/budget.py)
    max_sessions_per_client: int = 8  # open sessions from one IP address
    unconfigured_timeout_s: float = 60.0  # a session that never sent a command is closed after this
    resume_grace_s: float = 60.0     # a session whose socket dropped waits this long to be reclaimed
    max_models: int = 200            # saved models in the models folder
    max_models_mb: int = 1024        # their total size
    header_timeout_s: float = 10.0   # a connection must send its request headers within this time
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    mnist_mirrors: tuple[str, ...] = mnist.MIRRORS
    training_slots: int = field(default_factory=lambda: os.cpu_count() or 1)
    workers: int = 1                 # uvicorn worker processes (``nnplay serve --workers``)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Defaults overridden by the environment; a malformed value raises ValueError naming it."""
        environ = os.environ if environ is None else environ
        values: dict = {
            "host": environ.get("NNPLAY_HOST") or cls.host,
            "data_dir": Path(environ["NNPLAY_DATA_DIR"]).expanduser() if environ.get("NNPLAY_DATA_DIR")
            else mnist.default_data_dir(),
            "models_dir": Path(environ["NNPLAY_MODELS_DIR"]).expanduser() if environ.get("NNPLAY_MODELS_DIR")
            else _models_dir(environ),
        }
        port = environ.get("PORT") or environ.get("NNPLAY_PORT")
        if port:
            values["port"] = _parse("port", "PORT", port, int, 1, 65535)
        for name, variable in (("pretrained", "NNPLAY_PRETRAINED"), ("pretrained_dense", "NNPLAY_PRETRAINED_DENSE"),
                               ("static_dir", "NNPLAY_STATIC_DIR"), ("templates_dir", "NNPLAY_TEMPLATES_DIR")):
            if environ.get(variable):
                values[name] = Path(environ[variable]).expanduser()
        for name, (variable, kind, low, high) in _LIMITS.items():
            if environ.get(variable):
                values[name] = _parse(name, variable, environ[variable], kind, low, high)
        if environ.get("NNPLAY_TRAINING_SLOTS"):
            values["training_slots"] = _parse("training_slots", "NNPLAY_TRAINING_SLOTS",
                                              environ["NNPLAY_TRAINING_SLOTS"], int, 1, 1024)
        values["allowed_hosts"] = tuple(h.strip().lower() for h in environ.get("NNPLAY_ALLOWED_HOSTS", "").split(",")
                                        if h.strip())
        if environ.get("NNPLAY_WORKERS"):
            values["workers"] = _parse("workers", "NNPLAY_WORKERS", environ["NNPLAY_WORKERS"], int,
                                       *WORKERS_RANGE)
        origins = environ.get("NNPLAY_ALLOWED_ORIGINS", "")
        values["allowed_origins"] = tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip())
        mirrors = tuple(m.strip() for m in environ.get("NNPLAY_MNIST_MIRRORS", "").split(",") if m.strip())
        if mirrors:
            values["mnist_mirrors"] = mirrors
        return cls(**values)

    def with_overrides(self, **changes) -> "Settings":
        """A copy with the given fields replaced; None means "not given" and keeps the current value."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if "port" in changes and not 0 <= changes["port"] <= 65535:
            raise ValueError(f"port={changes['port']!r} is out of range: must be between 0 and 65535")
        if "workers" in changes:
            _parse("workers", "--workers", str(changes["workers"]), int, *WORKERS_RANGE)
        return dataclasses.replace(self, **changes)

    def host_allowed(self, hostname: str) -> bool:
        """May a request carry ``hostname`` (lower case, no port, IPv6 without brackets) in its Host header?

        Loopback names, the address the server is bound to, and ``allowed_hosts`` ("*" = any name,
        ".example.org" = that domain and its subdomains). Everything else is refused, so a page
        whose DNS name was re-pointed at this machine (DNS rebinding) cannot talk to the server."""
        if "*" in self.allowed_hosts or hostname in LOOPBACK_HOSTS or hostname == self.host.lower().strip("[]"):
            return True
        if hostname.endswith(".localhost"):  # always this machine (RFC 6761), whatever DNS says
            return True
        try:
            if ipaddress.ip_address(hostname).is_loopback:  # 127.0.0.0/8, ::1
                return True
        except ValueError:
            pass
        return any(hostname == name or name.startswith(".") and (hostname.endswith(name) or hostname == name[1:])
                   for name in self.allowed_hosts)

    def worker_environ(self) -> dict[str, str]:
        """The variables from which ``from_env`` gives back the fields the command line sets.
        ``nnplay serve --workers N`` puts them in its environment, which its worker processes
        inherit: each builds its own Settings there (``app.main.create_app()``)."""
        if self.port == 0 and self.workers > 1:
            raise ValueError("port=0 (any free port) works with one worker only: give --port")
        return {"NNPLAY_HOST": self.host, "PORT": str(self.port), "NNPLAY_WORKERS": str(self.workers)}

    def pretrained_models(self) -> dict[str, Path]:
        """{name: file} of the pretrained digit models (PRETRAINED_MODELS), the default reader first."""
        return {name: getattr(self, field) for name, field in PRETRAINED_MODELS.items()}

    def limits(self) -> dict:
        """The limits a client may hit, as announced in ``hello``."""
        return {name: getattr(self, name) for name in _LIMITS}
