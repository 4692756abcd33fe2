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


# -- conv networks, old files, strict schema, limits checked from the headers -----------------
import io  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

CNN = [{"type": "conv", "size": 3, "channels": 4, "padding": "same", "activation": "relu"}, {"type": "pool"},
       {"type": "conv", "size": 3, "channels": 2, "padding": "valid", "activation": "tanh"}, {"type": "flatten"},
       {"type": "dense", "size": 3, "activation": "softmax"}]


def test_conv_network_round_trip_as_version_2(tmp_path):
    net = Network.from_spec([9, 9, 1], CNN, "cross_entropy", init="he", seed=2)
    path = modelfile.save(net, tmp_path / "c.npz", meta={"note": "cnn"})
    loaded, meta = modelfile.load(path)
    assert loaded.spec == CNN and loaded.input_shape == (9, 9, 1) and meta == {"note": "cnn"}
    for a, b in zip(loaded.parameters(), net.parameters()):
        assert np.array_equal(a, b) and a.flags.writeable
    X = np.random.default_rng(0).uniform(size=(2, 81))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    with np.load(path) as npz:
        assert sorted(npz.files) == ["W0", "W2", "W4", "architecture", "b0", "b2", "b4"]
        assert json.loads(str(npz["architecture"]))["version"] == 2
    arch = modelfile.architecture(path)
    assert arch["layers"] == CNN and arch["input_shape"] == [9, 9, 1] and arch["sizes"] == [81, 324, 64, 8, 8, 3]
    assert arch["activations"] == ["relu", None, "tanh", None, "softmax"] and arch["meta"] == {"note": "cnn"}
    assert arch["parameters"] == sum(p.size for p in net.parameters())


def test_dense_networks_are_still_written_as_version_1(tmp_path, net):
    path = modelfile.save(net, tmp_path / "d.npz")
    with np.load(path) as npz:
        arch = json.loads(str(npz["architecture"]))
    assert arch == {"format": "nnplay-model", "version": 1, "sizes": [4, 3, 2], "activations": ["relu", "softmax"],
                    "loss": "cross_entropy", "meta": {}}
    assert modelfile.architecture(path)["layers"] == [{"type": "dense", "size": 3, "activation": "relu"},
                                                      {"type": "dense", "size": 2, "activation": "softmax"}]


def test_the_committed_models_still_load():
    root = Path(__file__).resolve().parents[1] / "engine" / "pretrained"
    dense, meta = modelfile.load(root / "digits_dense.npz")
    assert dense.sizes == [784, 256, 128, 10] and meta["name"] == "digits"
    assert modelfile.architecture(root / "digits_dense.npz")["version"] == 1


def npy(array=None, shape=None, dtype="<f4", data=b"", fortran=False) -> bytes:
    """A .npy member: a real array, or a header claiming any shape followed by ``data``."""
    out = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(out, np.asarray(array), allow_pickle=False)
        return out.getvalue()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": fortran, "shape": shape})
    return out.getvalue() + data


def write_zip(path, members: dict, compress=True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def dense_members(sizes, activations, meta=None, **arrays):
    arch = {"format": "nnplay-model", "version": 1, "sizes": sizes, "activations": activations,
            "loss": "squared_error", "meta": meta or {}}
    members = {"architecture.npy": npy(np.array(json.dumps(arch)))}
    members.update({f"{k}.npy": v for k, v in arrays.items()})
    return members


def test_a_2gb_array_in_a_small_file_is_refused_from_its_header(tmp_path):
    """784 × 700,000 float32 is 2.2 GB; the file holds 64 KB of zeros after the header."""
    members = dense_members([784, 700000, 10], ["relu", "softmax"],
                            W0=npy(shape=(784, 700000), data=bytes(65536)), b0=npy(np.zeros(700000, np.float32)),
                            W1=npy(np.zeros((700000, 10), np.float32)), b1=npy(np.zeros(10, np.float32)))
    path = write_zip(tmp_path / "bomb.npz", members)
    assert path.stat().st_size < 2_000_000
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"bomb\.npz: layer 1 has 700000 neurons, over the limit max_width=1024"):
        modelfile.load(path, limits=modelfile.Limits(max_width=1024))
    wide = modelfile.Limits(max_width=10**6)
    with pytest.raises(ModelFileError, match=r"556500010 parameters is over the limit max_parameters=50000000"):
        modelfile.load(path, limits=wide)
    with pytest.raises(ModelFileError, match=r"max_width=65536"):
        modelfile.architecture(path)  # the default limits
    assert time.perf_counter() - start < 5  # not a timing claim: reading 2.2 GB would not finish at all here


def test_a_header_that_disagrees_with_the_architecture_is_refused_before_reading(tmp_path):
    members = dense_members([784, 10], ["softmax"], W0=npy(shape=(784, 100000), data=b"x"), b0=npy(np.zeros(10)))
    with pytest.raises(ModelFileError, match=r"layer 1 has W \(784, 100000\): expected \(784, 10\)"):
        modelfile.load(write_zip(tmp_path / "m.npz", members))


def test_a_784_by_100000_layer_is_over_max_width(tmp_path):
    members = dense_members([784, 100000, 10], ["relu", "softmax"], W0=npy(shape=(784, 100000), data=b""),
                            b0=npy(shape=(100000,)), W1=npy(shape=(100000, 10)), b1=npy(shape=(10,)))
    with pytest.raises(ModelFileError, match=r"layer 1 has 100000 neurons, over the limit max_width=1024"):
        modelfile.architecture(write_zip(tmp_path / "wide.npz", members), limits=modelfile.Limits(max_width=1024))


@pytest.mark.parametrize("limits,match", [
    (modelfile.Limits(max_layers=1), r"2 hidden layers is over the limit max_layers=1"),
    (modelfile.Limits(max_width=3), r"layer 1 has 4 channels, over the limit max_width=3"),
    (modelfile.Limits(max_parameters=100), r"\d+ parameters is over the limit max_parameters=100"),
    (modelfile.Limits(max_inputs=80), r"the input has 81 values per sample, over the limit max_inputs=80"),
])
def test_conv_limits(tmp_path, limits, match):
    path = modelfile.save(Network.from_spec([9, 9, 1], CNN, "cross_entropy"), tmp_path / "c.npz")
    with pytest.raises(ModelFileError, match=match):
        modelfile.load(path, limits=limits)


def architecture_json(tmp_path, text: str) -> Path:
    return write_zip(tmp_path / "a.npz", {"architecture.npy": npy(np.array(text))})


@pytest.mark.parametrize("text,match", [
    ('[1, 2, 3]', "not an nnplay-model file"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": [["relu"]], "loss": "squared_error"}',
     r"layers\[0\]\.activation=\['relu'\] is unknown"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, [2]], "activations": ["relu"]}', r"layers\[0\]\.size=\[2\]"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 1e400], "activations": ["relu"]}', r"layers\[0\]\.size=inf"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "extra": 1}',
     r"architecture has unknown key 'extra': version 1 takes activations, format, loss, meta, sizes, version"),
    ('{"format": "nnplay-model", "version": 2, "input_shape": [4], "loss": "squared_error"}', r"architecture has no 'layers'"),
    ('{"format": "nnplay-model", "version": 2, "input_shape": [4], "layers": {"type": "dense"}, "loss": "squared_error"}',
     r"layers=\{'type': 'dense'\} is not a list"),
    ('{"format": "nnplay-model", "version": true, "sizes": [4, 2], "activations": ["relu"]}', r"format version True"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "meta": [1]}', "meta is a list"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "loss": 5}', r"loss=5 is not"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "meta": {"a": NaN}}',
     "architecture holds NaN"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "meta": {"a": 1e999}}',
     "meta holds inf"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "meta": {"id": 123456789012345678901234567890}}',
     "outside the 64-bit range"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "meta": ' + "[" * 17 + "]" * 17 + "}",
     "meta is a list"),
    ('{"format": "nnplay-model", "version": 1, "sizes": [4, 2], "activations": ["relu"], "meta": {"a": ' + "[" * 16 + "]" * 16 + "}}",
     "meta is nested more than 16 levels deep"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"format": "nnplay-model", "version": 2, "input_shape": [4], "loss": "squared_error", "layers": '
     + '[{"type": "dense", "size": 2, "activation": ' + "[" * 100000 + "]" * 100000 + "}]}", "nested too deeply"),
])
def test_the_architecture_is_checked_against_a_strict_schema(tmp_path, text, match):
    path = architecture_json(tmp_path, text)
    for read in (modelfile.architecture, modelfile.load):
        with pytest.raises(ModelFileError, match=match):
            read(path)


@pytest.mark.parametrize("members,match", [
    ({"W0.npy": npy(shape=(4, 2), dtype="|O", data=b"\x80\x04N."), "b0.npy": npy(np.zeros(2))}, "holds Python objects"),
    ({"W0.npy": npy(np.zeros((4, 2), np.int32)), "b0.npy": npy(np.zeros(2))}, r"not finite floats \(W is int32\)"),
    ({"W0.npy": npy(np.zeros((4, 2))), "b0.npy": npy(np.zeros(2)), "W9.npy": npy(np.zeros(1))}, r"unexpected entry 'W9'"),
    ({"W0.npy": npy(np.zeros((4, 2))), "b0.npy": npy(np.zeros(2)), "notes.txt": b"hi"}, r"unexpected entry 'notes.txt'"),
    ({"W0.npy": npy(shape=(4, 2), data=bytes(20)), "b0.npy": npy(np.zeros(2))}, r"holds 20 bytes of data or more, not the 32"),
    ({"W0.npy": npy(shape=(4, 2), data=bytes(40)), "b0.npy": npy(np.zeros(2))}, r"holds 32 bytes of data or more"),
])
def test_bad_members_are_refused(tmp_path, members, match):
    path = write_zip(tmp_path / "m.npz", {**dense_members([4, 2], ["sigmoid"]), **members})
    with pytest.raises(ModelFileError, match=match):
        modelfile.load(path)


def test_fortran_order_and_big_endian_arrays_load(tmp_path):
    W = np.arange(8, dtype=">f8").reshape(4, 2)
    members = dense_members([4, 2], ["sigmoid"], W0=npy(np.asfortranarray(W)), b0=npy(np.array([1.0, 2.0], ">f4")))
    net, _ = modelfile.load(write_zip(tmp_path / "m.npz", members))
    np.testing.assert_array_equal(net.layers[0].W, W) and np.testing.assert_array_equal(net.layers[0].b, [1, 2])


def test_a_corrupted_member_is_a_model_file_error(tmp_path, net):
    path = modelfile.save(net, tmp_path / "m.npz")
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the compressed data of some member
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="m.npz: "):
        modelfile.load(path)
