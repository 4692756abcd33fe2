"""Model files: round trip, atomic writes, and clear errors for bad files."""
import json

import numpy as np
import pytest

from engine import modelfile
from engine.modelfile import ModelFileError
from engine.network import Network


@pytest.fixture
def net():
    return Network.create([4, 3, 2], ["relu", "softmax"], "cross_entropy", seed=5)


def test_round_trip_keeps_everything(tmp_path, net):
    path = modelfile.save(net, tmp_path / "m.npz", meta={"accuracy": 0.9})
    loaded, meta = modelfile.load(path)
    assert loaded.sizes == net.sizes and loaded.activations == net.activations and loaded.loss.name == "cross_entropy"
    assert meta == {"accuracy": 0.9}
    for a, b in zip(loaded.parameters(), net.parameters()):
        assert np.array_equal(a, b)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_no_pickle_in_the_file(tmp_path, net):
    path = modelfile.save(net, tmp_path / "m.npz")
    np.load(path, allow_pickle=False)["architecture"]  # loads without pickle


def write(path, arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("mutate,match", [
    (lambda a: a.update(architecture=np.array("{not json")), "architecture is not valid JSON"),
    (lambda a: a.pop("architecture"), "no 'architecture' entry"),
    (lambda a: a.update(W1=np.zeros((2, 2), np.float32)), r"layer 2 has W \(2, 2\)"),
    (lambda a: a.pop("b0"), "layer 1 weights are missing"),
    (lambda a: a["W0"].__setitem__((0, 0), np.nan), "not finite"),
])
def test_malformed_files_are_rejected(tmp_path, net, mutate, match):
    path = modelfile.save(net, tmp_path / "m.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k].copy() for k in npz.files}
    mutate(arrays)
    with pytest.raises(ModelFileError, match=match):
        modelfile.load(write(tmp_path / "bad.npz", arrays))


def test_wrong_version_and_format(tmp_path, net):
    path = modelfile.save(net, tmp_path / "m.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arch = json.loads(str(arrays["architecture"]))
    arrays["architecture"] = np.array(json.dumps({**arch, "version": 99}))
    with pytest.raises(ModelFileError, match="format version 99 is not supported"):
        modelfile.load(write(tmp_path / "v.npz", arrays))
    arrays["architecture"] = np.array(json.dumps({**arch, "activations": ["relu", "swish"]}))
    with pytest.raises(ModelFileError, match="activation='swish' is unknown"):
        modelfile.load(write(tmp_path / "a.npz", arrays))


def test_truncated_and_garbage_files(tmp_path, net):
    path = modelfile.save(net, tmp_path / "m.npz")
    data = path.read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a readable model file"):
        modelfile.load(tmp_path / "t.npz")
    (tmp_path / "g.npz").write_bytes(b"hello")
    with pytest.raises(ModelFileError):
        modelfile.load(tmp_path / "g.npz")


def test_failed_write_leaves_the_old_file(tmp_path, net, monkeypatch):
    path = modelfile.save(net, tmp_path / "m.npz")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        modelfile.save(Network.create([4, 2], "sigmoid"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
