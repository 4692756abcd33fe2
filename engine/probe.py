"""Looking inside a network: every layer's activations, neuron maps and weight images.

    layer_outputs(net, X)      [X, a¹, ..., aᴸ]          each (batch, n_l)
    neuron_maps(net, F, r)     per layer (n_l, r, r)     every neuron's output over an r×r grid
                               whose feature rows F (r·r, n_0) are in image order (see data.grid)
    weight_images(net, h, w)   (n_1, h, w)               column j of W¹ drawn as an h×w image:
                                                         what hidden neuron j looks for
                               (C', k, k)                a first conv layer on one input channel:
                                                         its kernels W¹[:, :, 0, o]

Conv and pool layers give their activations as (batch, H, W, C) maps (engine/conv.py).
"""
from __future__ import annotations

import numpy as np

from engine.network import Network


def layer_outputs(network: Network, X: np.ndarray) -> list[np.ndarray]:
    """The input and the activations of every layer, for a batch X (batch, n_0)."""
    X = np.asarray(X, dtype=network.dtype)
    return [X] + network.forward_all(X)[1]


def neuron_maps(network: Network, grid_features: np.ndarray, resolution: int) -> list[np.ndarray]:
    """Each neuron's output over the grid: one (n_l, r, r) array per layer, the input included."""
    if len(grid_features) != resolution * resolution:
        raise ValueError(f"grid_features has {len(grid_features)} rows: expected resolution² = {resolution ** 2}")
    return [a.T.reshape(a.shape[1], resolution, resolution) for a in layer_outputs(network, grid_features)]


def weight_images(network: Network, height: int = 28, width: int = 28) -> np.ndarray:
    """First-layer weights as (n_1, height, width) images, or a first conv layer's (C', k, k) kernels."""
    W = network.layers[0].W
    if network.layers[0].kind == "conv":
        if W.shape[2] != 1:
            raise ValueError(f"the first conv layer has {W.shape[2]} input channels: its kernels are drawn "
                             "as images only for 1 channel")
        return W[:, :, 0, :].transpose(2, 0, 1)
    if W.shape[0] != height * width:
        raise ValueError(f"the first layer has {W.shape[0]} inputs: cannot draw them as {height}×{width} images")
    return W.T.reshape(W.shape[1], height, width)
