"""The model store: networks saved by name as engine.modelfile files in one directory.

A name matches NAME_RULE (letters, digits, "_" and "-", starting with a letter or digit, at most
64 characters), so it is always one plain file name: no paths, no dot files. Writes are atomic.
"""
from __future__ import annotations

import datetime
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from engine import modelfile
from engine.network import Network
from app.protocol import CommandError

NAME_RULE = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
SUFFIX = ".npz"


def check_name(name, field: str = "name") -> str:
    if not isinstance(name, str) or not re.fullmatch(NAME_RULE, name):
        shown = json.dumps(name)[:80] if isinstance(name, (str, int, float, type(None))) else type(name).__name__
        raise CommandError("bad_value", f"{field}={shown} is not a valid model name: it must match {NAME_RULE} "
                                        "(1-64 letters, digits, '_' or '-', starting with a letter or digit)", field)
    return name


def _architecture(path: Path) -> dict:
    """The JSON architecture of a model file, without reading its weights."""
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(str(npz["architecture"]))


class ModelStore:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, name: str, field: str = "name") -> Path:
        return self.directory / f"{check_name(name, field)}{SUFFIX}"

    def save(self, network: Network, name: str, meta: dict) -> dict:
        path = self.path(name)
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
            return modelfile.load(path)
        except FileNotFoundError:
            raise CommandError("not_found", f"{field}={name!r}: there is no saved model of that name "
                                            f"(GET /api/models lists them)", field) from None
        except modelfile.ModelFileError as e:
            raise CommandError("bad_value", f"{field}={name!r}: the saved model cannot be read: {e}", field) from None

    def describe(self, path: Path) -> dict:
        arch = _architecture(path)
        return {"name": path.name[:-len(SUFFIX)], "sizes": arch.get("sizes"), "activations": arch.get("activations"),
                "loss": arch.get("loss"), "meta": arch.get("meta") or {}, "bytes": path.stat().st_size}

    def list(self) -> list[dict]:
        """Every readable saved model, by name; unreadable files are left out."""
        models = []
        if not self.directory.is_dir():
            return models
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if re.fullmatch(NAME_RULE, path.name[:-len(SUFFIX)]):
                try:
                    models.append(self.describe(path))
                except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                    continue
        return models
