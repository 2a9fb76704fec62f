"""The training loop: determinism, history, callbacks, divergence, configs."""

import numpy as np
import pytest

from tlkit import FineTuningConfig, TrainingConfig
from tlkit.callbacks import LambdaCallback
from tlkit.config import as_config
from tlkit.training import Trainer, TrainingDivergedError

from .test_network import data, small_network


def run(seed=0, **overrides):
    net = small_network("simple")
    X, y = data()
    config = TrainingConfig(epochs=3, batch_size=8, seed=seed, **overrides)
    history = Trainer(net, config).fit(X, y, X[:6], y[:6])
    return net, history


def test_same_seed_gives_identical_weights_and_history():
    (net_a, hist_a), (net_b, hist_b) = run(seed=3), run(seed=3)
    assert hist_a.loss == hist_b.loss and hist_a.val_accuracy == hist_b.val_accuracy
    for key, value in net_a.state_dict().items():
        assert np.array_equal(value, net_b.state_dict()[key]), key


def test_a_different_seed_gives_a_different_run():
    assert run(seed=1)[1].loss != run(seed=2)[1].loss


def test_history_has_one_value_per_epoch_and_positive_time():
    _, history = run()
    assert history.epochs == 3
    assert len(history.loss) == len(history.accuracy) == len(history.val_loss) == 3
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)
    assert history.train_time > 0
    assert set(history.learning_rates) == {"layer1", "layer2", "head"}


def test_weights_stay_float32():
    net, _ = run()
    assert all(v.dtype == np.float32 for v in net.state_dict().values())


def test_callbacks_see_every_epoch_and_can_stop_training():
    seen = []

    def on_epoch_end(trainer, epoch, logs):
        seen.append((epoch, round(logs["loss"], 6)))
        if epoch == 1:
            trainer.stop_training = True

    net = small_network("simple")
    X, y = data()
    config = TrainingConfig(epochs=5, batch_size=8, callbacks=[LambdaCallback(on_epoch_end=on_epoch_end)])
    history = Trainer(net, config).fit(X, y)
    assert [e for e, _ in seen] == [0, 1]
    assert history.epochs == 2 and history.stopped_early


def test_verbose_prints_one_line_per_epoch(capsys):
    run(verbose=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 3 and "loss" in lines[0]


def test_a_diverging_run_stops_with_advice_to_lower_the_learning_rate():
    net = small_network("simple")
    X, y = data()
    with pytest.raises(TrainingDivergedError, match="lower learning rate"):
        Trainer(net, TrainingConfig(epochs=5, learning_rate=1e30, optimizer="sgd")).fit(X, y)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"epochs": 0}, "epochs"), ({"learning_rate": 0.0}, "learning_rate"),
     ({"learning_rate": -1}, "learning_rate"), ({"batch_size": 0}, "batch_size"),
     ({"optimizer": "rmsprop"}, "optimizer"), ({"schedule": "wavy"}, "schedule")],
)
def test_bad_config_values_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        TrainingConfig(**kwargs)


def test_fine_tuning_config_warmup_rules():
    assert FineTuningConfig(epochs=10).resolved_warmup_epochs == 1
    assert FineTuningConfig(epochs=30).resolved_warmup_epochs == 3
    assert FineTuningConfig(epochs=3).resolved_warmup_epochs == 1
    with pytest.raises(ValueError, match="warmup_epochs"):
        FineTuningConfig(epochs=3, warmup_epochs=4)


def test_plain_dicts_are_accepted_and_unknown_keys_rejected():
    assert as_config({"epochs": 2, "learning_rate": 0.1}).epochs == 2
    assert isinstance(as_config({"warmup_epochs": 1}, FineTuningConfig), FineTuningConfig)
    with pytest.raises(ValueError, match="epoch"):
        as_config({"epoch": 2})
