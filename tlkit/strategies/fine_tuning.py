"""Fine-tuning (course Part 3): retrain the top of a pretrained network, gently.

The recipe, in the order ``train`` applies it:

1. **Choose what may move.** ``FineTuner`` freezes the whole base, then unfreezes
   ``layers_to_unfreeze``: a list of block names, ``"all"``, or ``"top_half"`` (``layer2``
   of simple, ``layer3``-``layer4`` of medium, ``layer5``-``layer8`` of deep: the course
   rule's choice for a small dataset, where the generic early blocks stay as they are).
   ``None`` (the default) unfreezes nothing: every base block stays frozen and only the
   head trains until you unfreeze blocks with ``ft.unfreeze([...])``.
2. **Warm up the head.** For ``warmup_epochs`` (default: 10% of the epochs, at least 1)
   only the new head trains; then the unfrozen blocks join (optionally one at a time,
   ``gradual_unfreeze_every``).
3. **Discriminative learning rates.** Lower blocks learn more slowly (see
   :mod:`tlkit.strategies.discriminative`); ``set_layer_learning_rate`` overrides a block.
4. **BatchNorm stays in inference mode** (``bn_mode="frozen"``, the Keras recipe): the
   unfrozen blocks learn their weights and BatchNorm's scale and shift, but normalise
   with the pretrained running statistics, which never change. With small minibatches,
   batch statistics are noisy and cost accuracy. ``bn_mode="train"`` gives PyTorch's
   behaviour: unfrozen BatchNorm layers normalise with batch statistics and update
   their running statistics. Frozen blocks are always in inference mode.

``history.learning_rates[block]`` is each block's rate per epoch (0 while frozen).
"""

from __future__ import annotations

from contextlib import nullcontext

from ..argcheck import check_choice, check_layer_name, check_positive
from ..config import FineTuningConfig, as_config
from ..history import TrainingHistory
from ..nn.batchnorm import batchnorm_inference_mode
from .discriminative import discriminative_multipliers
from .strategy import StrategyBase
from .unfreezing import UnfreezeSchedule

BN_MODES = ("frozen", "train")


def resolve_layers_to_unfreeze(layer_names, valid: list[str]) -> list[str]:
    """None -> no block; "all" -> all; "top_half" -> the top half of ``valid``; names are
    checked and returned bottom to top."""
    if layer_names is None:
        return []
    if isinstance(layer_names, str):
        if layer_names == "all":
            layer_names = valid
        elif layer_names == "top_half":
            layer_names = valid[len(valid) // 2:]
        else:
            layer_names = [layer_names]
    try:
        names = list(layer_names)
    except TypeError:
        raise ValueError(
            f"layers_to_unfreeze must be None, 'all', 'top_half' or a list of layer names from "
            f"{valid}; got {layer_names!r}"
        ) from None
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise ValueError(
            f"layers_to_unfreeze contains unknown layer name(s) {unknown}; valid names are {valid}"
        )
    return [name for name in valid if name in names]


class FineTuner(StrategyBase):
    """Freeze the base, unfreeze ``layers_to_unfreeze``, and train them with the head.

    ``FineTuner(base, num_classes, layers_to_unfreeze=None, *, hidden_units=None,
    dropout=0.0, feature_dropout=0.0, bn_mode="frozen", seed=0)``; ``layers_to_unfreeze``
    is None (nothing: every base block frozen), ``"all"``, ``"top_half"`` or block names.

    It freezes, unfreezes and trains the base object it is given, in place: on the base
    of another trained strategy, ``train`` warns naming both; pass ``base.copy()``.

    >>> ft = FineTuner(PretrainedModel("medium"), 10, layers_to_unfreeze=["layer3", "layer4"])
    ...                                                               # doctest: +SKIP
    >>> ft.set_layer_learning_rate("layer3", 1e-4)                    # doctest: +SKIP
    >>> ft.train(X, y, FineTuningConfig(epochs=10, learning_rate=1e-3))  # doctest: +SKIP
    """

    name = "fine_tuning"

    def __init__(self, base, num_classes: int, layers_to_unfreeze=None, *,
                 hidden_units: int | None = None, dropout: float = 0.0,
                 feature_dropout: float = 0.0, bn_mode: str = "frozen", seed: int = 0) -> None:
        super().__init__(base, num_classes, hidden_units=hidden_units, dropout=dropout,
                         feature_dropout=feature_dropout, seed=seed)
        self.bn_mode = check_choice(bn_mode, "bn_mode", BN_MODES)
        self.layers_to_unfreeze = resolve_layers_to_unfreeze(
            layers_to_unfreeze, self.base.get_layer_names()
        )
        self.layer_learning_rates: dict[str, float] = {}
        self.base.freeze()
        self.base.unfreeze(self.layers_to_unfreeze)

    # -- configuration --------------------------------------------------------------------
    def unfrozen_layers(self) -> list[str]:
        """The base blocks that will be fine-tuned, bottom to top (the head always trains)."""
        return [block.name for block in self.base.network.blocks if block.trainable]

    def unfreeze(self, layer_names=None) -> None:
        """Unfreeze more blocks, as ``PretrainedModel.unfreeze``: None means every block, an
        unknown name warns (naming the valid ones) and changes nothing; "all" and
        "top_half" work as in the constructor."""
        self.base.unfreeze(self._block_aliases(layer_names))

    def freeze(self, layer_names=None) -> None:
        """Freeze blocks again, as ``PretrainedModel.freeze`` (None: every block)."""
        self.base.freeze(self._block_aliases(layer_names))

    def _block_aliases(self, layer_names):
        if isinstance(layer_names, str) and layer_names in ("all", "top_half"):
            return resolve_layers_to_unfreeze(layer_names, self.base.get_layer_names())
        return layer_names

    def set_layer_learning_rate(self, name: str, lr: float) -> None:
        """Train block ``name`` (or ``"head"``) at the absolute rate ``lr``.

        It overrides the discriminative multiplier; allowed on a frozen block (it applies
        once the block is unfrozen). The rate follows the config's schedule like every other.
        """
        check_layer_name(name, self.get_layer_names(), "name")  # TypeError / ValueError naming name
        self.layer_learning_rates[name] = check_positive(lr, "lr")

    def learning_rates(self, config=None) -> dict[str, float]:
        """The rate each block would train at under ``config`` (0 for frozen blocks)."""
        config = self._config(config)
        multipliers = self._multipliers(config)
        return {name: config.learning_rate * multipliers.get(name, 0.0)
                for name in self.get_layer_names()}

    def _config(self, config) -> FineTuningConfig:
        return as_config(config, FineTuningConfig)

    def _multipliers(self, config: FineTuningConfig) -> dict[str, float]:
        return discriminative_multipliers(
            self.unfrozen_layers(), config.discriminative, config.learning_rate,
            config.lr_range, self.layer_learning_rates,
        )

    def _bn_context(self):
        if self.bn_mode == "frozen":
            return batchnorm_inference_mode(self.base.network.blocks)
        return nullcontext()

    # -- training -------------------------------------------------------------------------
    def _train(self, X, y, X_val, y_val, config: FineTuningConfig) -> TrainingHistory:
        targets = self.unfrozen_layers()
        multipliers = self._multipliers(config)
        schedule = UnfreezeSchedule(targets, config.resolved_warmup_epochs,
                                    config.gradual_unfreeze_every)
        try:
            with self._bn_context():
                return self._run(self.network, X, y, X_val, y_val, config, multipliers, [schedule])
        finally:  # warm-up and gradual unfreezing are temporary: restore the chosen blocks
            self.base.freeze()
            self.base.unfreeze(targets)
