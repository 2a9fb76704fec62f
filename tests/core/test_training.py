"""The training loop: determinism, history, callbacks, divergence, configs."""

import numpy as np
import pytest

from tlkit import FineTuningConfig, TrainingConfig
from tlkit.callbacks import Callback, LambdaCallback
from tlkit.config import as_config
from tlkit.training import Trainer, TrainingDivergedError, minibatch_sizes

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


def test_history_has_one_value_per_epoch():
    _, history = run()
    assert history.epochs == 3
    assert len(history.loss) == len(history.accuracy) == len(history.val_loss) == 3
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)
    assert set(history.learning_rates) == {"layer1", "layer2", "head"}
    assert history.updates == 9  # 24 examples at batch 8: 3 updates per epoch


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


@pytest.mark.parametrize(("n", "batch_size", "sizes"), [
    (100, 32, [25, 25, 25, 25]),  # not 32 + 32 + 32 + 4
    (24, 8, [8, 8, 8]),
    (33, 32, [17, 16]),
    (7, 3, [3, 2, 2]),
    (5, 32, [5]),
    (1, 32, [1]),
])
def test_minibatches_are_balanced(n, batch_size, sizes):
    assert minibatch_sizes(n, batch_size) == sizes
    seen = []
    net = small_network("simple")
    X, y = data(n=n)
    record = LambdaCallback(on_batch_end=lambda trainer, batch, logs: seen.append(logs["batch_size"]))
    history = Trainer(net, TrainingConfig(epochs=2, batch_size=batch_size, callbacks=[record])).fit(X, y)
    assert seen == sizes * 2 and history.updates == 2 * len(sizes)


def test_every_example_is_seen_once_per_epoch():
    indices = []

    class Spy(Callback):
        def on_batch_begin(self, trainer, batch):
            indices.append(batch)

    net = small_network("simple")
    X, y = data(n=10)
    X = X + np.arange(10, dtype=np.float32)[:, None, None, None]  # each example identifiable
    batches = []
    original = net.forward

    def forward(x, training=False):
        if training:
            batches.append(sorted(int(v) for v in np.floor(x[:, 0, 0, 0])))
        return original(x, training)

    net.forward = forward
    Trainer(net, TrainingConfig(epochs=1, batch_size=4, callbacks=[Spy()])).fit(X, y)
    assert indices == [0, 1, 2]  # 10 at batch 4: 3 batches (4, 3, 3)
    assert sorted(v for b in batches for v in b) == list(range(10))
    assert [len(b) for b in batches] == [4, 3, 3]


def test_a_callback_can_set_the_rate_of_each_update_and_stop_within_an_epoch():
    rates = []

    class Sweep(Callback):
        def on_batch_begin(self, trainer, batch):
            trainer.optimizer.lr = 0.001 * (batch + 1)

        def on_batch_end(self, trainer, batch, logs):
            rates.append(trainer.optimizer.lr)
            if len(rates) == 2:
                trainer.stop_training = True

    net = small_network("simple")
    X, y = data()
    history = Trainer(net, TrainingConfig(epochs=3, batch_size=8, callbacks=[Sweep()])).fit(X, y)
    assert rates == pytest.approx([0.001, 0.002])
    assert history.updates == 2 and history.epochs == 1 and history.stopped_early


def test_a_callback_that_passes_the_config_check_receives_every_event_the_trainer_emits():
    # A duck-typed callback (no Callback base class) with exactly the events the config asks for.
    from tlkit.config import CALLBACK_EVENTS

    received = []

    class Recorder:
        pass

    for event in CALLBACK_EVENTS:
        setattr(Recorder, event, lambda self, trainer, *args, _event=event: received.append(_event))
    net = small_network("simple")
    X, y = data(n=8)
    Trainer(net, TrainingConfig(epochs=1, batch_size=8, callbacks=[Recorder()])).fit(X, y)
    assert received == ["on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end",
                        "on_epoch_end", "on_train_end"]


def test_a_callback_lacking_an_event_is_refused_naming_the_event():
    class NoBatchBegin:
        def __getattr__(self, name):
            if name == "on_batch_begin":
                raise AttributeError(name)
            return lambda *args: None

    with pytest.raises(ValueError, match=r"callbacks\[0\].*lacks on_batch_begin"):
        TrainingConfig(callbacks=[NoBatchBegin()])


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
