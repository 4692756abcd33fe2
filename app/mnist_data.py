"""The MNIST arrays, loaded once per process on first use (by whichever thread asks first)."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from engine import mnist
from app.protocol import CommandError


class MnistData:
    """Holds X_train (60000, 784) float32 in [0, 1], y_train, X_test (10000, 784), y_test; read-only."""

    def __init__(self, data_dir: Path, mirrors: tuple[str, ...] = mnist.MIRRORS):
        self.data_dir, self.mirrors = Path(data_dir), mirrors
        self._arrays: tuple[np.ndarray, ...] | None = None
        self._failed: tuple[tuple, str] | None = None  # (the files as they were, why loading them failed)
        self._load_lock = threading.Lock()
        self._download_lock = threading.Lock()

    def _files(self) -> tuple:
        """What the data folder holds, as (name, size, mtime) of every file: a load that failed on these
        files fails again until one of them changes."""
        try:
            return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in self.data_dir.iterdir()))
        except OSError:
            return ()

    def status(self) -> dict:
        found = mnist.status(self.data_dir)
        failed = self._failed
        if failed is not None and failed[0] == self._files():
            found = {**found, "ready": False, "problem": failed[1]}
        return {**found, "loaded": self._arrays is not None, "downloading": self._download_lock.locked()}

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(X_train, y_train, X_test, y_test); blocks while another thread loads them."""
        with self._load_lock:
            if self._arrays is None:
                try:
                    parts = []
                    for split in ("train", "test"):
                        images, labels = mnist.load(split, self.data_dir)
                        parts += [_flatten(images), labels.astype(np.int64)]
                except mnist.MnistError as e:
                    self._failed = (self._files(), str(e))
                    raise CommandError("mnist_missing", f"MNIST is not available: {e}", "dataset") from None
                for array in parts:
                    array.flags.writeable = False
                self._arrays = tuple(parts)
            return self._arrays

    def download(self, progress) -> None:
        """Fetch the missing files; ``progress(file, done, total)``. One download at a time per process."""
        with self._download_lock:
            try:
                mnist.download(self.data_dir, progress, self.mirrors)
            except mnist.MirrorsUnreachable as e:  # field: the setting to look at (NNPLAY_MNIST_MIRRORS)
                raise CommandError("mnist_missing", f"the MNIST download failed: {e}", "mnist_mirrors") from None
            except (mnist.MnistError, ValueError) as e:
                raise CommandError("mnist_missing", f"the MNIST download failed: {e}") from None


def _flatten(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 → (n, 784) float32 = pixel / 255."""
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return X
