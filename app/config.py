"""A session's ``config`` (docs/protocol.md): checked, completed, and turned into data and a network.

    normalise(current, patch, settings)  -> the complete config, or CommandError naming the field
    build_data(config, mnist_arrays)     -> TrainingData: the inputs as the network sees them
    network_plans(config, data)          -> engine.spec plans of its layers: shapes and weights, nothing built
    build_network(config, data)          -> a fresh Network, seeded by config["seed"]: dense from "hidden",
                                            or with architecture "conv" from "layers" (app/convnet.py)
    build_trainer(config, network, data) -> a Trainer with the config's optimiser and batch size
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import activations, losses, spec
from engine import data as toysets
from engine.layers import INITS
from engine.network import Network
from engine.optim import MAX_LEARNING_RATE, MAX_REG_RATE, OPTIMIZERS, REGULARIZERS, Regularizer, make_optimizer
from engine.train import MAX_BATCH_SIZE, Trainer
from app import convnet
from app.presets import CNN_LAYERS
from app.protocol import CommandError, bad, choice, integer, number
from app.settings import Settings

PROBLEMS = ("classification", "regression")
ARCHITECTURES = ("dense", "conv")
MNIST_TRAIN = 60000
MNIST_MIN_TRAIN = 100
MNIST_SIDE, MNIST_CLASSES = 28, 10      # 28×28 images of the digits 0-9
SEED_MAX = 2**32 - 1
GRID_RESOLUTION = 48        # neuron maps are GRID_RESOLUTION² pixels
MAX_MAP_NEURONS = 300       # above this many neurons, only the input and output layers get maps
INTEGERS = ("n_samples", "mnist_train_size", "batch_size", "seed")
LOW_OPEN = ("learning_rate",)   # the low end is excluded: a learning rate of 0 learns nothing


def ranges(settings: Settings) -> dict[str, tuple[float, float]]:
    """(low, high) of every numeric config field, inclusive except the low ends in LOW_OPEN."""
    return {
        "n_samples": (toysets.SAMPLES[0], settings.max_samples), "noise": toysets.NOISE,
        "train_ratio": toysets.TRAIN_RATIO, "mnist_train_size": (MNIST_MIN_TRAIN, MNIST_TRAIN),
        "learning_rate": (0.0, MAX_LEARNING_RATE), "batch_size": (1, MAX_BATCH_SIZE),
        "regularization_rate": (0.0, MAX_REG_RATE), "seed": (0, SEED_MAX),
    }


def checked(field: str, value, settings: Settings):
    """A numeric field's value checked against its range; CommandError names the range otherwise."""
    low, high = ranges(settings)[field]
    if field in INTEGERS:
        return integer(field, value, low, high)
    return number(field, value, low, high, low_open=field in LOW_OPEN)


# -- the choices, read from the engine's registries on every call (a test may register more) ---
def datasets() -> tuple[str, ...]:
    return toysets.CLASSIFICATION + toysets.REGRESSION + toysets.SMALL + ("mnist",)


def hidden_activations() -> tuple[str, ...]:
    return tuple(name for name, a in activations.ACTIVATIONS.items() if not a.output_only)


def output_activations() -> tuple[str, ...]:
    return tuple(name for name, a in activations.ACTIVATIONS.items() if not a.hidden_only)


def loss_names() -> tuple[str, ...]:
    return tuple(losses.LOSSES)


def losses_for(output: str) -> tuple[str, ...]:
    """The losses the pages offer with this output, the usual one first: after an output-only
    activation (softmax) only the loss made for it; otherwise the general losses, then those made
    for it (squared error, then binary cross-entropy after a sigmoid)."""
    made_for = [n for n, loss in losses.LOSSES.items() if loss.outputs and output in loss.outputs]
    general = [n for n, loss in losses.LOSSES.items() if loss.outputs is None]
    return tuple(made_for if activations.get(output).output_only else general + made_for)


def problems_for(output: str) -> tuple[str, ...]:
    """An output-only activation (softmax) shares one unit per class out: classification only."""
    return ("classification",) if activations.get(output).output_only else PROBLEMS


DEFAULT = {
    "dataset": "circle", "problem": "classification", "n_samples": 500, "noise": 0.0, "train_ratio": 0.5,
    "features": ["x1", "x2"], "points": [], "mnist_train_size": MNIST_TRAIN,
    "architecture": "dense", "hidden": [4, 2], "layers": CNN_LAYERS, "activation": "tanh", "output": "tanh",
    "loss": "squared_error", "init": "xavier",
    "optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10, "regularization": "none",
    "regularization_rate": 0.0, "seed": 0,
}


def problem_of(dataset: str) -> str:
    return "regression" if dataset in toysets.REGRESSION else "classification"


def input_shape_of(dataset: str, n_inputs: int) -> tuple[int, ...]:
    """One sample's shape: (28, 28, 1) for MNIST's images, (n,) for rows of n features."""
    return (MNIST_SIDE, MNIST_SIDE, 1) if dataset == "mnist" else (n_inputs,)


def is_plane(dataset: str) -> bool:
    """Data sets whose raw inputs are points (x1, x2) of a plane that neuron maps can cover."""
    return dataset in toysets.CLASSIFICATION + toysets.REGRESSION + ("xor_table",)


def _limit(field: str, message: str) -> CommandError:
    return CommandError("limit", message, field)


def _hidden(value, settings: Settings) -> list[int]:
    if not isinstance(value, list):
        raise bad("hidden", value, f"must be a list of layer widths, each from 1 to {settings.max_width}")
    if len(value) > settings.max_layers:
        raise _limit("hidden", f"hidden has {len(value)} layers: this server allows at most "
                               f"max_layers={settings.max_layers} hidden layers")
    widths = []
    for width in value:
        if isinstance(width, int) and not isinstance(width, bool) and width > settings.max_width:
            raise _limit("hidden", f"hidden layer width {width} is over this server's "
                                   f"max_width={settings.max_width} neurons per layer")
        widths.append(integer("hidden", width, 1, settings.max_width))
    return widths


def _points(value, problem: str) -> list[list[float]]:
    rule = "must be a list of [x1, x2, label] with x1, x2 in [-6, 6]"
    if not isinstance(value, list):
        raise bad("points", value, rule)
    points = []
    for point in value:
        if not isinstance(point, list) or len(point) != 3:
            raise bad("points", point, rule)
        x1, x2 = (number("points", x, -toysets.EXTENT, toysets.EXTENT) for x in point[:2])
        label = (integer("points", point[2], 0, 1) if problem == "classification"
                 else number("points", point[2], -1.0, 1.0))
        points.append([x1, x2, label])
    return points


def normalise(current: dict, patch, settings: Settings) -> dict:
    """``current`` with the fields of ``patch`` checked and applied; the result is complete."""
    if not isinstance(patch, dict):
        raise bad("config", patch, "must be a JSON object of config fields")
    unknown = sorted(set(patch) - set(DEFAULT))
    if unknown:
        raise bad(unknown[0], patch[unknown[0]], f"unknown config field; the fields are {', '.join(DEFAULT)}")
    c = {**current, **patch}
    c["dataset"] = choice("dataset", c["dataset"], datasets())
    problem = problem_of(c["dataset"])
    if "problem" in patch and patch["problem"] != problem:
        raise bad("problem", patch["problem"], f"data set {c['dataset']!r} is a {problem} problem")
    c["problem"] = problem
    n = c["n_samples"]
    if isinstance(n, int) and not isinstance(n, bool) and n > settings.max_samples:
        raise _limit("n_samples", f"n_samples={c['n_samples']} is over this server's "
                                  f"max_samples={settings.max_samples} points per data set")
    for field in ("n_samples", "noise", "train_ratio"):
        c[field] = checked(field, c[field], settings)
    features = c["features"]
    if not isinstance(features, list) or not features or len(set(map(str, features))) != len(features):
        raise bad("features", features,
                  f"must be a non-empty list of distinct names from {', '.join(toysets.FEATURES)}")
    c["features"] = [choice("features", f, toysets.FEATURES) for f in features]
    c["points"] = _points(c["points"], problem)
    if len(c["points"]) > settings.max_samples:
        raise _limit("points", f"{len(c['points'])} points is over this server's max_samples={settings.max_samples}")
    c["mnist_train_size"] = checked("mnist_train_size", c["mnist_train_size"], settings)
    c["hidden"] = _hidden(c["hidden"], settings)
    c["architecture"] = choice("architecture", c["architecture"], ARCHITECTURES)
    if c["architecture"] == "conv" or "layers" in patch:  # a dense network keeps layers it does not use as
        c["layers"] = convnet.normalise(c["layers"], settings)   # they were (the default may be over a limit)
    c["activation"] = choice("activation", c["activation"], hidden_activations())
    c["output"] = choice("output", c["output"], output_activations())
    c["loss"] = choice("loss", c["loss"], loss_names())
    c["init"] = choice("init", c["init"], INITS)
    c["optimizer"] = choice("optimizer", c["optimizer"], OPTIMIZERS)
    c["regularization"] = choice("regularization", c["regularization"], REGULARIZERS)
    for field in ("learning_rate", "batch_size", "regularization_rate", "seed"):
        c[field] = checked(field, c[field], settings)
    if problem not in problems_for(c["output"]):
        raise bad("output", c["output"], f"{c['output']} is for {' or '.join(problems_for(c['output']))}; "
                                         f"{c['dataset']!r} is a {problem} set")
    needs = losses.get(c["loss"]).outputs
    if needs and c["output"] not in needs:
        raise bad("loss", c["loss"], f"{c['loss']} needs output={' or '.join(map(repr, needs))}")
    if c["loss"] == "binary_cross_entropy" and (c["output"] != "sigmoid" or c["dataset"] == "mnist"):
        raise bad("loss", "binary_cross_entropy", "binary_cross_entropy needs one sigmoid output "
                                                  "(output='sigmoid', a two-class data set)")
    if c["architecture"] == "conv":  # the whole network must fit together: shapes, activations
        if c["dataset"] != "mnist":
            raise bad("architecture", "conv", f"conv layers need images: data set {c['dataset']!r} has rows of "
                                              "features; use dataset 'mnist'")
        convnet.plans(c, input_shape_of("mnist", 0), MNIST_CLASSES)
    return c


@dataclass
class TrainingData:
    """The data as the network sees it: inputs after the feature maps, targets per the task."""

    name: str
    task: str
    inputs: list[str]          # names of the network's input columns
    X_train: np.ndarray
    y_train: np.ndarray        # labels (classification) or values (regression), (n,)
    X_test: np.ndarray
    y_test: np.ndarray
    raw_train: np.ndarray      # the points as drawn: (x1, x2) for plane sets, else = X_train
    raw_test: np.ndarray
    classes: int               # 2, 10, or 0 for regression
    extent: float = 0.0        # plane sets: the maps cover [-extent, extent]²
    grid: np.ndarray | None = None  # plane sets: the map grid's input rows, image order

    @property
    def is_mnist(self) -> bool:
        return self.name == "mnist"

    def encode(self, raw: np.ndarray) -> np.ndarray:
        """Raw input rows → network inputs (the feature maps for plane sets)."""
        return toysets.features(raw, self.inputs) if self.grid is not None else raw


def build_data(c: dict, mnist_arrays) -> TrainingData:
    """The data set of config ``c``; ``mnist_arrays()`` gives (X_train, y_train, X_test, y_test)."""
    name = c["dataset"]
    if name == "mnist":
        X_train, y_train, X_test, y_test = mnist_arrays()
        n = c["mnist_train_size"]
        inputs = [f"p{i}" for i in range(X_train.shape[1])]
        return TrainingData(name, "classification", inputs, X_train[:n], y_train[:n].astype(np.int64),
                            X_test, y_test.astype(np.int64), X_train[:n], X_test, MNIST_CLASSES)
    if name in toysets.SMALL:
        ds = toysets.small(name)
    else:
        ds = toysets.toy(name, c["n_samples"], c["noise"], c["train_ratio"], c["seed"])
    for x1, x2, label in c["points"]:
        ds = toysets.add_point(ds, x1, x2, label)
    classes = 2 if ds.task == "classification" else 0
    if not is_plane(name):
        inputs = [f"x{i + 1}" for i in range(ds.X_train.shape[1])]
        return TrainingData(name, ds.task, inputs, ds.X_train, ds.y_train, ds.X_test, ds.y_test,
                            ds.X_train, ds.X_test, classes)
    extent = 1.5 if name == "xor_table" else toysets.EXTENT
    inputs = list(c["features"])
    return TrainingData(name, ds.task, inputs, toysets.features(ds.X_train, inputs), ds.y_train,
                        toysets.features(ds.X_test, inputs), ds.y_test, ds.X_train, ds.X_test, classes,
                        extent, toysets.features(toysets.grid(GRID_RESOLUTION, extent), inputs))


def outputs_of(c: dict, d: TrainingData) -> int:
    """Output units: one per class (softmax, or more than two classes), else one."""
    return d.classes if c["output"] == "softmax" or d.classes > 2 else 1


def network_sizes(c: dict, d: TrainingData) -> list[int]:
    """[n_0, hidden widths ..., n_L]: the layer widths config ``c`` gives a dense network on data ``d``."""
    return [len(d.inputs), *c["hidden"], outputs_of(c, d)]


def network_plans(c: dict, d: TrainingData) -> list[spec.Plan]:
    """The layers config ``c`` gives on data ``d``, planned (engine/spec.py) but not built."""
    if c["architecture"] == "conv":
        return convnet.plans(c, input_shape_of(d.name, len(d.inputs)), outputs_of(c, d))
    sizes = network_sizes(c, d)
    return spec.plan([sizes[0]], [{"type": "dense", "size": n} for n in sizes[1:]])


def build_network(c: dict, d: TrainingData) -> Network:
    if c["architecture"] == "conv":
        return Network.from_spec(list(input_shape_of(d.name, len(d.inputs))), convnet.full_spec(c, outputs_of(c, d)),
                                 c["loss"], init=c["init"], seed=c["seed"])
    sizes = network_sizes(c, d)
    activations = [c["activation"]] * len(c["hidden"]) + [c["output"]]
    return Network.create(sizes, activations, c["loss"], init=c["init"], seed=c["seed"])


def targets(network: Network, d: TrainingData, labels: np.ndarray) -> np.ndarray:
    return network.targets(labels) if d.task == "classification" else np.asarray(labels, dtype=float)[:, None]


def build_trainer(c: dict, network: Network, d: TrainingData) -> Trainer:
    labels = d.y_train if d.task == "classification" else None
    return Trainer(network, d.X_train, targets(network, d, d.y_train),
                   make_optimizer(c["optimizer"], c["learning_rate"]), batch_size=c["batch_size"],
                   regularizer=Regularizer(c["regularization"], c["regularization_rate"]),
                   labels=labels, seed=c["seed"])
