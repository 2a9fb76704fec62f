"""AdaBN (Li et al., 2016): adapt BatchNorm to a new domain without a single label.

A BatchNorm layer normalises with the mean and variance it saw on the *source* data.
When the target domain looks different (inverted contrast, blur, another sensor), those
statistics are wrong and every layer above gets inputs it was never trained on. AdaBN
re-estimates them on the target inputs: the weights stay, only the running statistics
change. It needs unlabelled target data, no gradient and no learning rate.

The statistics are exact population statistics over all of ``X``, computed in batches
(memory bounded by ``batch_size``), layer by layer from the input up, so that each
BatchNorm sees inputs already normalised by the adapted layers below it.
"""

from __future__ import annotations

import numpy as np

from .argcheck import check_int
from .nn.batchnorm import BatchNorm
from .pretrained import base_of


def adapt_batchnorm(model, X, batch_size: int = 256):
    """Re-estimate every BatchNorm's running mean and variance of ``model``'s base on ``X``.

    ``model`` is a ``PretrainedModel`` or a strategy (its base is adapted). Changes the
    model in place (on purpose, even for frozen blocks: this is not training) and returns
    it; use ``model.copy()`` first to keep the original. Labels are not needed.
    """
    base = base_of(model)
    batch_size = check_int(batch_size, "batch_size", 1)
    inputs, _ = base.to_network_input(X, "X")
    # (block index, layer index) of every BatchNorm, from the input up.
    positions = [(b, i) for b, block in enumerate(base.network.blocks)
                 for i, (_, layer) in enumerate(block.layers) if isinstance(layer, BatchNorm)]
    for block_index, layer_index in positions:
        bn = base.network.blocks[block_index].layers[layer_index][1]
        total = np.zeros(bn.num_features, dtype=np.float64)
        total_sq = np.zeros(bn.num_features, dtype=np.float64)
        count = 0
        for start in range(0, len(inputs), batch_size):
            h = _input_of(base.network.blocks, block_index, layer_index, inputs[start:start + batch_size])
            flat = h.reshape(-1, bn.num_features).astype(np.float64)
            total += flat.sum(axis=0)
            total_sq += (flat * flat).sum(axis=0)
            count += len(flat)
        mean = total / count
        var = np.maximum(total_sq / count - mean * mean, 0.0) * (count / max(count - 1, 1))
        bn.buffers["running_mean"][...] = mean
        bn.buffers["running_var"][...] = var
    return model


def _input_of(blocks, block_index: int, layer_index: int, x: np.ndarray) -> np.ndarray:
    """The input of layer ``layer_index`` of block ``block_index``, in inference mode."""
    for block in blocks[:block_index]:
        x = block.forward(x, training=False)
    for _, layer in blocks[block_index].layers[:layer_index]:
        x = layer.forward(x, training=False)
    return x
