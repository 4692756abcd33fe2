"""The model store: networks saved by name as engine.modelfile files in one directory.

A name matches NAME_RULE (letters, digits, "_" and "-", starting with a letter or digit, at most
64 characters), so it is always one plain file name: no paths, no dot files. Names are told apart
without regard to case, as a case-insensitive file system (macOS, Windows) would: "Net" and "net"
are the same model. Writes are atomic; a save that would take the folder past ``max_models``
files or ``max_mb`` megabytes is refused, and temporary files that a killed save left behind are
swept away when the server starts.
"""
from __future__ import annotations

import datetime
import json
import re
import time
from pathlib import Path


from engine import modelfile
from engine.network import Network
from app.budget import max_parameters
from app.protocol import CommandError

NAME_RULE = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
SUFFIX = ".npz"
MB = 1 << 20
STALE_TMP_S = 600  # a save takes well under a second: a temporary file this old was abandoned


def check_name(name, field: str = "name") -> str:
    if not isinstance(name, str) or not re.fullmatch(NAME_RULE, name):
        shown = json.dumps(name)[:80] if isinstance(name, (str, int, float, type(None))) else type(name).__name__
        raise CommandError("bad_value", f"{field}={shown} is not a valid model name: it must match {NAME_RULE} "
                                        "(1-64 letters, digits, '_' or '-', starting with a letter or digit)", field)
    return name


class ModelStore:
    def __init__(self, directory: Path, max_models: int | None = None, max_mb: int | None = None,
                 limits: modelfile.Limits | None = None):
        self.directory = Path(directory)
        self.max_models, self.max_mb = max_models, max_mb
        self.limits = limits or modelfile.Limits()  # checked from a file's headers before its weights are read

    @classmethod
    def from_settings(cls, settings) -> "ModelStore":
        limits = modelfile.Limits(max_layers=settings.max_layers, max_width=settings.max_width,
                                  max_parameters=max_parameters(settings.session_memory_mb))
        return cls(settings.models_dir, settings.max_models, settings.max_models_mb, limits)

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [p for p in self.directory.glob(f"*{SUFFIX}") if re.fullmatch(NAME_RULE, p.name[:-len(SUFFIX)])]

    def path(self, name: str, field: str = "name") -> Path:
        """The file of model ``name``: an existing one whose name differs only in case, else a new one."""
        wanted = f"{check_name(name, field)}{SUFFIX}".lower()
        for path in self._files():
            if path.name.lower() == wanted:
                return path
        return self.directory / f"{name}{SUFFIX}"

    def _check_quota(self, path: Path, network: Network) -> None:
        others = [p for p in self._files() if p != path]
        if self.max_models is not None and len(others) + 1 > self.max_models:
            raise CommandError("limit", f"the models folder already holds {len(others)} models: this server keeps "
                                        f"at most max_models={self.max_models}; overwrite or delete one", "name")
        if self.max_mb is not None:
            used = sum(p.stat().st_size for p in others)
            size = sum(a.nbytes for a in network.parameters())  # what the file takes, uncompressed
            if used + size > self.max_mb * MB:
                raise CommandError("limit", f"saving this model ({size / MB:.1f} MB) would take the models folder "
                                            f"to {(used + size) / MB:.1f} MB: this server keeps at most "
                                            f"max_models_mb={self.max_mb} MB", "name")

    def sweep(self, older_than_s: float = STALE_TMP_S) -> list[str]:
        """Delete the temporary files of saves that never finished (killed mid-write); their names."""
        swept = []
        if not self.directory.is_dir():
            return swept
        for tmp in self.directory.glob(f".*{SUFFIX}.*.tmp"):
            try:
                if time.time() - tmp.stat().st_mtime > older_than_s:
                    tmp.unlink()
                    swept.append(tmp.name)
            except OSError:  # gone already, or not ours to delete
                continue
        return swept

    def save(self, network: Network, name: str, meta: dict) -> dict:
        path = self.path(name)
        self._check_quota(path, network)
        meta = {**meta, "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            modelfile.save(network, path, meta)
        except OSError as e:
            raise CommandError("internal", f"could not save model {name!r} in {self.directory}: {e}", "name") from e
        return self.describe(path)

    def load(self, name: str, field: str = "name") -> tuple[Network, dict]:
        path = self.path(name, field)
        try:
            return modelfile.load(path, limits=self.limits)
        except FileNotFoundError:
            raise CommandError("not_found", f"{field}={name!r}: there is no saved model of that name "
                                            f"(GET /api/models lists them)", field) from None
        except modelfile.ModelFileError as e:
            raise CommandError("bad_value", f"{field}={name!r}: the saved model cannot be read: {e}", field) from None

    def describe(self, path: Path) -> dict:
        arch = modelfile.architecture(path, self.limits)
        return {"name": path.name[:-len(SUFFIX)], "sizes": arch["sizes"], "activations": arch["activations"],
                "layers": arch["layers"], "loss": arch["loss"], "meta": arch["meta"], "bytes": path.stat().st_size}

    def list(self) -> dict:
        """{"models": every readable saved model, by name; "unreadable": [{"name", "problem"}] for the rest}."""
        models, unreadable = [], []
        for path in sorted(self._files()):
            try:
                models.append(self.describe(path))
            except Exception as e:  # whatever is in one file, the list still answers
                unreadable.append({"name": path.name[:-len(SUFFIX)], "problem": f"{type(e).__name__}: {e}"[:200]})
        return {"models": models, "unreadable": unreadable}
