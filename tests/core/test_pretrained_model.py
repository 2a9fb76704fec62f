"""The PretrainedModel contract of DESIGN.md section 3."""

import warnings

import numpy as np
import pytest

from tlkit import PretrainedModel

LAYERS = {"simple": 2, "medium": 4, "deep": 8}


@pytest.fixture(scope="module")
def medium():
    return PretrainedModel("medium")


@pytest.mark.parametrize("architecture", ["simple", "medium", "deep"])
def test_layer_names_and_counts(architecture):
    model = PretrainedModel(architecture)
    n = LAYERS[architecture]
    assert model.get_num_layers() == n
    assert model.get_layer_names() == [f"layer{i}" for i in range(1, n + 1)]
    assert model.input_shape == (8, 8)


def test_unknown_architecture_lists_the_valid_ones():
    with pytest.raises(ValueError, match="simple.*medium.*deep"):
        PretrainedModel("huge")


@pytest.mark.parametrize(("shape", "expected"), [(None, (8, 8)), (20, (20,)), ((20,), (20,)), ((6, 7), (6, 7))])
def test_input_shape_forms(shape, expected):
    assert PretrainedModel("simple", shape).input_shape == expected


@pytest.mark.parametrize("shape", [(0,), (2, 3, 4), "8x8", (8, -1), 2.5])
def test_bad_input_shape(shape):
    with pytest.raises(ValueError, match="input_shape"):
        PretrainedModel("simple", shape)


def test_extract_features_one_sample_and_batch(medium):
    rng = np.random.default_rng(0)
    one = medium.extract_features(rng.random((8, 8)))
    batch = medium.extract_features(rng.random((5, 8, 8)))
    assert one.shape == (medium.get_feature_size(),)
    assert batch.shape == (5, medium.get_feature_size())
    assert one.dtype == np.float32 and (batch >= 0).all()


def test_extract_features_accepts_nested_lists_and_is_batch_independent(medium):
    x = np.random.default_rng(1).random((3, 8, 8)).astype(np.float32)
    from_list = medium.extract_features(x.tolist())
    one_by_one = np.stack([medium.extract_features(sample) for sample in x])
    # The same numbers up to float32 rounding, which depends on the batch's shape (BLAS picks other
    # kernels for one row; Winograd's transforms round at ~3e-6 of the scale): 1e-5 of the scale, as
    # tests/nn allows between engines. A sample mixed up with another would be off by O(1).
    np.testing.assert_allclose(from_list, one_by_one, rtol=0, atol=1e-5 * np.abs(one_by_one).max())


def test_wrong_shape_shows_expected_and_given(medium):
    with pytest.raises(ValueError, match=r"\(3, 7, 7\).*\(8, 8\)"):
        medium.extract_features(np.zeros((3, 7, 7)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_rejected(medium, bad):
    x = np.zeros((2, 8, 8))
    x[1, 3, 3] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        medium.extract_features(x)


def test_freeze_unfreeze_and_is_frozen():
    model = PretrainedModel("medium")
    assert not any(model.is_frozen(n) for n in model.get_layer_names())
    model.freeze()
    assert all(model.is_frozen(n) for n in model.get_layer_names())
    model.unfreeze(["layer3", "layer4"])
    assert [model.is_frozen(n) for n in model.get_layer_names()] == [True, True, False, False]
    model.unfreeze()
    assert not any(model.is_frozen(n) for n in model.get_layer_names())
    assert model.count_parameters(trainable_only=True) == model.count_parameters()


def test_unfreeze_unknown_names_warns_and_changes_nothing():
    model = PretrainedModel("simple")
    model.freeze()
    with pytest.warns(UserWarning, match="layer1.*layer2"):
        model.unfreeze(["layer1", "layer9"])
    assert model.is_frozen("layer1") and model.is_frozen("layer2")


def test_is_frozen_of_an_unknown_name_is_false():
    model = PretrainedModel("simple")
    model.freeze()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.is_frozen("layer99") is False


def test_state_dict_keys_are_copies_and_load_back(medium):
    state = medium.state_dict()
    assert all(k.startswith(tuple(f"layer{i}." for i in range(1, 5))) for k in state)
    key = "layer1.conv.W"
    state[key][...] = 0
    assert not np.array_equal(medium.state_dict()[key], state[key]), "state_dict must return copies"
    other = PretrainedModel("medium", seed=1)
    other.load_state_dict(medium.state_dict())
    x = np.random.default_rng(2).random((2, 8, 8))
    np.testing.assert_array_equal(other.extract_features(x), medium.extract_features(x))


def test_save_and_load_round_trip(tmp_path, medium):
    path = medium.save(tmp_path / "model.npz")
    loaded = PretrainedModel.load(path)
    assert loaded.get_layer_names() == medium.get_layer_names()
    x = np.random.default_rng(3).random((2, 8, 8))
    np.testing.assert_array_equal(loaded.extract_features(x), medium.extract_features(x))
    assert not list(tmp_path.glob("*.tmp")), "atomic save leaves no temp file"


def test_vector_models_are_pretrained_deterministically_and_say_so():
    a, b = PretrainedModel("medium", 12, seed=4), PretrainedModel("medium", 12, seed=4)
    assert a.source["kind"] == "synthetic" and "random two-layer" in a.source["task"]
    for key, value in a.state_dict().items():
        assert np.array_equal(value, b.state_dict()[key])
    x = np.random.default_rng(0).standard_normal((3, 12))
    assert a.extract_features(x).shape == (3, a.get_feature_size())
    different = PretrainedModel("medium", 12, seed=5)
    assert not np.array_equal(different.state_dict()["layer1.dense.W"], a.state_dict()["layer1.dense.W"])


def test_other_image_shapes_are_pretrained_on_glyphs():
    model = PretrainedModel("simple", (6, 10))
    assert model.source["kind"] == "synthetic" and "glyph" in model.source["task"]
    assert model.extract_features(np.zeros((6, 10))).shape == (model.get_feature_size(),)


def test_tiny_images_still_build():
    model = PretrainedModel("deep", (1, 1))
    assert model.extract_features(np.zeros((1, 1))).shape == (model.get_feature_size(),)


def test_features_of_an_inner_block_and_unknown_layer(medium):
    x = np.random.default_rng(5).random((3, 8, 8))
    inner = medium.extract_features(x, layer="layer2")
    assert inner.shape == (3, 4 * 4 * 32)
    np.testing.assert_array_equal(medium.extract_features(x, layer="layer4"), medium.extract_features(x))
    with pytest.raises(ValueError, match="layer1"):
        medium.extract_features(x, layer="layer9")


def test_source_accuracy_matches_the_manifest_on_the_source_test_split(medium):
    from studies.pretrain import source_data

    _, _, X_test, y_test = source_data((8, 8))
    recorded = medium.source["source_test_accuracy"]
    assert medium.source_accuracy(X_test, y_test) == pytest.approx(recorded, abs=0.002)


# -- one construction path: new, copied, loaded and random models keep the same invariants --------
def _zero_in_place(model, name="layer1"):
    """Overwrite every parameter and buffer of block ``name`` in place (finds shared arrays)."""
    for _, array in model.network[name].named_arrays():
        array[...] = 0


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_copy_keeps_weights_and_frozen_flags_and_is_independent():
    original = PretrainedModel("simple", (8, 8))
    original.freeze(["layer1"])
    twin = original.copy()
    assert type(twin) is PretrainedModel and twin is not original
    assert _same_weights(twin, original)
    assert twin.is_frozen("layer1") and not twin.is_frozen("layer2")
    assert twin.source == original.source and twin.seed == original.seed
    x = np.random.default_rng(4).random((3, 8, 8))
    expected = original.extract_features(x)

    _zero_in_place(twin)
    twin.unfreeze()
    twin.source["kind"] = "edited"
    twin.source["data"]["image_size"] = -1          # nested entries are the copy's own too
    for _, array in twin.source_head.named_arrays():
        array[...] = 0
    np.testing.assert_array_equal(original.extract_features(x), expected)
    assert original.is_frozen("layer1")
    assert original.source["kind"] == "shipped checkpoint" and original.source["data"]["image_size"] == 8
    assert PretrainedModel("simple", (8, 8)).source["data"]["image_size"] == 8
    assert any(np.any(a != 0) for _, a in original.source_head.named_arrays())
    assert original.source_head.trainable is False and twin.source_head.trainable is False


def test_a_copy_of_a_trained_base_belongs_to_no_strategy(blobs):
    from tlkit import FeatureExtractor

    X, y = blobs(n=12, d=5, k=2)
    base = PretrainedModel("simple", 5)
    FeatureExtractor(base, 2).train(X, y, {"epochs": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the shared-base warning would be an error here
        FeatureExtractor(base.copy(), 2).train(X, y, {"epochs": 1})
    with pytest.warns(UserWarning, match="already trained by a FeatureExtractor"):
        FeatureExtractor(base, 2).train(X, y, {"epochs": 1})


def test_a_loaded_model_is_its_own_and_says_where_it_came_from(tmp_path):
    original = PretrainedModel("simple", (8, 8))
    path = original.save(tmp_path / "m.npz")
    loaded = PretrainedModel.load(path)
    assert loaded.source == {"kind": "loaded from file", "file": str(path)}
    assert _same_weights(loaded, original) and loaded.frozen_layers() == []
    assert loaded.source_head is not None and loaded.source_head.trainable is False
    x = np.random.default_rng(5).random((2, 8, 8))
    expected = original.extract_features(x)
    _zero_in_place(loaded)
    np.testing.assert_array_equal(original.extract_features(x), expected)
    np.testing.assert_array_equal(PretrainedModel.load(path).extract_features(x), expected)


def test_a_file_with_an_unknown_architecture_is_a_checkpoint_error(tmp_path):
    from tlkit.checkpoints import CheckpointError, load_arrays, save_arrays

    path = PretrainedModel("simple", (8, 8)).save(tmp_path / "m.npz")
    arrays = load_arrays(path)
    arrays["__meta__.architecture"] = np.array("huge")
    save_arrays(tmp_path / "bad.npz", arrays)
    with pytest.raises(CheckpointError, match="architecture.*'huge'"):
        PretrainedModel.load(tmp_path / "bad.npz")


def test_every_way_of_building_a_model_gives_the_same_attributes(tmp_path):
    from tlkit.strategies import random_base

    new = PretrainedModel("simple", 5)
    built = {
        "new": new,
        "copy": new.copy(),
        "load": PretrainedModel.load(new.save(tmp_path / "m.npz")),
        "random": random_base("simple", 5),
    }
    attributes = {how: sorted(vars(m)) for how, m in built.items()}
    assert all(a == attributes["new"] for a in attributes.values()), attributes
    for how, model in built.items():
        assert model.get_layer_names() == ["layer1", "layer2"], how
        assert isinstance(model.source, dict) and "kind" in model.source, how
        assert model.input_shape == (5,) and model.architecture == "simple", how


def test_the_private_constructor_refuses_parts_that_break_the_invariants():
    from tlkit.architectures import build_base
    from tlkit.nn.network import Network

    with pytest.raises(ValueError, match="kind"):
        PretrainedModel._from_parts("simple", 5, {"note": "no kind"})
    medium_blocks = Network(build_base("medium", (5,), np.random.default_rng(0)))
    with pytest.raises(ValueError, match="layer1.*layer2"):
        PretrainedModel._from_parts("simple", 5, {"kind": "test"}, network=medium_blocks)
