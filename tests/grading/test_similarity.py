"""A pasted reference solution is recognised as code (AST), however renamed or reformatted;
an honest solution of the same exercise is not. The honest variants below were written
from the exercise statements, and each passes the exercise's public checks."""

from __future__ import annotations

import ast
import re
import textwrap
import warnings

import pytest

from instructor.exercises import reference_source
from instructor.grading.similarity import (
    MIN_NODES,
    definitions,
    matches_reference,
    matching_definitions,
    normalised_ast,
)
from instructor.grading.submissions import stub_source
from tlkit.exercises.checking import run_checks
from tlkit.exercises.registry import exercise_ids

# --------------------------------------------------------------------------------------
# normalised_ast
# --------------------------------------------------------------------------------------


def test_names_docstrings_comments_formatting_and_spelling_are_ignored():
    a = '''
import numpy as np
def total(values, scale=2):
    """Sum, scaled."""
    result = 0  # start
    for v in values:
        result += v * scale
    return np.asarray(result) + 1_000 + 0x10
'''
    b = '''
import numpy as xp
def add_up(xs, k=2):
    acc = 0
    for item in xs:
        acc += (item * k)
    "a bare string where a docstring was"
    return xp.asarray(acc) + 1000 + 16
'''
    assert normalised_ast(a) == normalised_ast(b)
    assert normalised_ast(a.replace("1_000", "1001")) != normalised_ast(a)  # values count
    assert normalised_ast(a.replace("np.asarray", "np.array")) != normalised_ast(a)  # modules' names count
    assert normalised_ast(a.replace("v * scale", "scale * v")) != normalised_ast(a)


def test_attributes_of_local_objects_are_renamed_consistently():
    a = "class A:\n    def f(self, x):\n        self.w = x.shape\n        return self.w\n"
    b = "class B:\n    def g(me, y):\n        me.weights = y.shape\n        return me.weights\n"
    c = "class B:\n    def g(me, y):\n        me.weights = y.shape\n        return me.shape\n"
    assert normalised_ast(a) == normalised_ast(b)
    assert normalised_ast(a) != normalised_ast(c)  # the renaming is one-to-one
    assert normalised_ast("def f(x: int) -> int:\n    y: int = x\n    return y\n") == \
        normalised_ast("def g(a):\n    b = a\n    return b\n")


def test_keywords_follow_the_callee():
    """A copy renames its variables, not the keywords of someone else's function."""
    a = "def f(s, n):\n    strategy = s * n\n    return SimpleNamespace(strategy=strategy, n=n)\n"
    b = "def g(t, k):\n    choice = t * k\n    return SimpleNamespace(strategy=choice, n=k)\n"
    assert normalised_ast(a) == normalised_ast(b)
    assert normalised_ast(a) != normalised_ast(b.replace("strategy=", "kind="))
    own = "def f(x):\n    def h(scale=1):\n        return scale\n    return h(scale=x)\n"
    renamed = "def f(y):\n    def g(k=1):\n        return k\n    return g(k=y)\n"
    assert normalised_ast(own) == normalised_ast(renamed)


def test_unparsable_code_has_no_definitions():
    assert normalised_ast("def (") == "" and definitions("def (") == []
    assert not matches_reference("def (", reference_source("02.1"))


# --------------------------------------------------------------------------------------
# Copies of every reference
# --------------------------------------------------------------------------------------


class _Rename(ast.NodeTransformer):
    """What a student hiding a copy does: every name it binds and every attribute it sets
    on ``self`` renamed, docstrings rewritten, annotations dropped, formatting changed."""

    def __init__(self, tree: ast.AST) -> None:
        self.bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)}
        self.bound |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        self.bound |= {d.name for d in ast.walk(tree)
                       if isinstance(d, (ast.FunctionDef, ast.ClassDef))} - {"__init__"}
        self.attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                      and isinstance(n.ctx, ast.Store)}

    def new(self, name: str) -> str:
        return f"my_{name.strip('_')}" if name in self.bound else name

    def visit_Name(self, node):
        node.id = self.new(node.id)
        return node

    def visit_arg(self, node):
        node.arg, node.annotation = self.new(node.arg), None
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr in self.attrs or node.attr in self.bound:
            node.attr = f"{node.attr}_renamed"
        return node

    def visit_FunctionDef(self, node):
        node.name, node.returns = self.new(node.name), None
        self.generic_visit(node)
        if ast.get_docstring(node):
            node.body[0] = ast.Expr(ast.Constant("My own words about what this does."))
        return node

    def visit_ClassDef(self, node):
        node.name = self.new(node.name)
        return self.generic_visit(node)


def _renamed(source: str) -> str:
    tree = ast.parse(textwrap.dedent(source))
    tree = _Rename(tree).visit(tree)
    lines = ast.unparse(tree).splitlines()
    return "\n".join(line + ("  # mine" if i % 3 == 0 else "") for i, line in enumerate(lines))


def _reordered(source: str) -> str:
    """Methods in reverse order, the class docstring moved to the end, method docstrings
    swapped; a function's docstring moved after its code."""
    tree = ast.parse(textwrap.dedent(source))
    node = tree.body[-1]  # the definition, after the imports it uses
    doc = node.body.pop(0) if ast.get_docstring(node) else ast.Expr(ast.Constant("doc"))
    if isinstance(node, ast.ClassDef):
        node.body.reverse()
        methods = [m for m in node.body if isinstance(m, ast.FunctionDef) and ast.get_docstring(m)]
        docs = [m.body[0] for m in methods]
        for method, moved in zip(methods, docs[::-1], strict=True):
            method.body[0] = moved
    node.body.append(doc)
    return ast.unparse(tree)


def _copies(exercise_id: str) -> dict[str, str]:
    reference = reference_source(exercise_id)
    return {
        "pasted in a cell": f"### EXERCISE {exercise_id}\nimport numpy as np\n\n{reference}\n"
                            "print('done')\n",
        "renamed, reformatted, comments": _renamed(reference),
        "reordered, docstrings moved": _reordered(reference),
        "renamed and reordered": _reordered(_renamed(reference)),
    }


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_copies_of_the_reference_match(exercise_id):
    reference = reference_source(exercise_id)
    big = all(d.nodes >= MIN_NODES for d in definitions(reference) if d.top)
    for how, copy in _copies(exercise_id).items():
        assert matches_reference(copy, reference, given_source=stub_source(exercise_id),
                                 min_nodes=0), how
        # the grader's default compares only references large enough to tell
        assert matches_reference(copy, reference, given_source=stub_source(exercise_id)) == big
        assert copy != reference


def test_small_references_are_left_to_the_release_check():
    """The grader's flag skips references of a few lines (an honest answer can be the same
    code); make release's check compares them all (min_nodes=0)."""
    small = [e for e in exercise_ids()
             if not matching_definitions(reference_source(e), reference_source(e))]
    assert small == ["01.1", "04.1"]
    assert all(matching_definitions(reference_source(e), reference_source(e), min_nodes=0)
               for e in small)


# --------------------------------------------------------------------------------------
# Honest solutions
# --------------------------------------------------------------------------------------

HONEST: dict[str, list[str]] = {
    "01.1": ['''
def extract_in_batches(extract_fn, X, batch_size):
    X = np.asarray(X)
    out = None
    start = 0
    while start < len(X):
        chunk = np.asarray(extract_fn(X[start:start + batch_size]), dtype=np.float32)
        out = chunk if out is None else np.vstack([out, chunk])
        start += batch_size
    return out
''', '''
def extract_in_batches(extract_fn, X, batch_size):
    X = np.asarray(X)
    n_batches = (len(X) + batch_size - 1) // batch_size
    results = []
    for b in range(n_batches):
        results.append(extract_fn(X[b * batch_size:(b + 1) * batch_size]))
    return np.concatenate(results).astype(np.float32)
'''],
    "01.2": ['''
    def __init__(self, architecture="medium", input_shape=None, seed=0):
        self.network = pretrained_network(architecture, input_shape, seed=seed)
        if input_shape is None:
            input_shape = (8, 8)
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        self.input_shape = input_shape

    def get_layer_names(self):
        return [b.name for b in self.network.blocks]

    def get_num_layers(self):
        return len(self.network.blocks)

    def get_feature_size(self):
        return self.extract_features(np.zeros(self.input_shape)).shape[0]

    def extract_features(self, x):
        x = np.array(x, dtype=np.float32)
        one = x.ndim == len(self.input_shape)
        if one:
            x = x[None]
        if len(self.input_shape) == 2:
            x = x[..., None]
        f = self.network.infer(x)
        return f[0] if one else f

    def freeze(self, layer_names=None):
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        if layer_names is None:
            layer_names = self.get_layer_names()
        for name in layer_names:
            if name not in self.get_layer_names():
                warnings.warn(f"unknown layer {name}; valid: {self.get_layer_names()}")
                return
        for name in layer_names:
            self.network[name].trainable = False

    def unfreeze(self, layer_names=None):
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        if layer_names is None:
            layer_names = self.get_layer_names()
        for name in layer_names:
            if name not in self.get_layer_names():
                warnings.warn(f"unknown layer {name}; valid: {self.get_layer_names()}")
                return
        for name in layer_names:
            self.network[name].trainable = True

    def is_frozen(self, name):
        return name in self.get_layer_names() and not self.network[name].trainable
''', '''
    def __init__(self, architecture="medium", input_shape=None, seed=0):
        if architecture not in ARCHITECTURES:
            raise ValueError("unknown architecture " + repr(architecture) + "; choose one of "
                             + ", ".join(ARCHITECTURES))
        self.network = pretrained_network(architecture, input_shape, seed=seed)
        shape = (8, 8) if input_shape is None else np.atleast_1d(input_shape)
        self.input_shape = tuple(int(s) for s in shape)
        self.blocks = {block.name: block for block in self.network.blocks}

    def get_layer_names(self):
        return list(self.blocks)

    def get_num_layers(self):
        return len(self.blocks)

    def get_feature_size(self):
        sample = np.zeros((1, *self.input_shape, 1) if len(self.input_shape) == 2
                          else (1, *self.input_shape), dtype=np.float32)
        return self.network.infer(sample).shape[1]

    def extract_features(self, x):
        batch = np.asarray(x, dtype=np.float32)
        squeeze = batch.shape == self.input_shape
        if squeeze:
            batch = batch.reshape(1, *self.input_shape)
        if len(self.input_shape) == 2:
            batch = np.expand_dims(batch, -1)
        out = self.network.infer(batch)
        return out.reshape(-1) if squeeze else out

    def _set(self, layer_names, trainable):
        if layer_names is None:
            chosen = self.get_layer_names()
        elif type(layer_names) is str:
            chosen = [layer_names]
        else:
            chosen = list(layer_names)
        missing = set(chosen) - set(self.blocks)
        if missing:
            warnings.warn(f"no block named {sorted(missing)} (blocks: {self.get_layer_names()})",
                          UserWarning, stacklevel=3)
            return
        for name in chosen:
            self.blocks[name].trainable = trainable

    def freeze(self, layer_names=None):
        self._set(layer_names, False)

    def unfreeze(self, layer_names=None):
        self._set(layer_names, True)

    def is_frozen(self, name):
        block = self.blocks.get(name)
        return block is not None and block.trainable is False
'''],
    "02.1": ['''
def softmax_cross_entropy(logits, labels):
    z = np.asarray(logits)
    y = np.asarray(labels)
    n = len(y)
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    loss = float(np.mean(lse - z[np.arange(n), y]))
    p = np.exp(z - lse[:, None])
    onehot = np.zeros_like(p)
    onehot[np.arange(n), y] = 1
    return loss, ((p - onehot) / n).astype(z.dtype)
''', '''
def softmax_cross_entropy(logits, labels):
    logits = np.asarray(logits)
    n = logits.shape[0]
    total = 0.0
    grad = np.empty_like(logits)
    for i in range(n):
        row = logits[i] - logits[i].max()
        e = np.exp(row)
        s = e.sum()
        total += np.log(s) - row[labels[i]]
        grad[i] = e / s
        grad[i, labels[i]] -= 1.0
    return float(total / n), grad / n
'''],
    "02.2": ['''
    def __init__(self, base, num_classes, seed=0):
        base.freeze()
        self.base = base
        self.head = Network([new_head(base.get_feature_size(), num_classes, seed=seed)])

    def train(self, X, y, config):
        t0 = time.time()
        if isinstance(config, dict):
            config = TrainingConfig(**config)
        F = self.base.extract_features(X)
        y = np.array(y)
        rng = np.random.default_rng(config.seed)
        opt = Adam(lr=config.learning_rate)
        hist = TrainingHistory()
        for epoch in range(config.epochs):
            idx = rng.permutation(len(F))
            ls, acc = [], []
            for i in range(0, len(F), config.batch_size):
                b = idx[i:i + config.batch_size]
                out = self.head.forward(F[b], training=True)
                loss, grad = losses.softmax_cross_entropy(out, y[b])
                self.head.backward(grad)
                opt.step(self.head.param_groups())
                ls.append(loss)
                acc.append(np.mean(out.argmax(1) == y[b]))
            hist.loss.append(np.mean(ls))
            hist.accuracy.append(np.mean(acc))
        hist.train_time = time.time() - t0
        return hist

    def predict_proba(self, x):
        F = self.base.extract_features(x)
        return losses.softmax(self.head.infer(F))

    def predict(self, x):
        return self.predict_proba(x).argmax(-1)
''', '''
    def __init__(self, base, num_classes, seed=0):
        self.base, self.k = base, num_classes
        for name in base.get_layer_names():
            base.freeze(name)
        self.net = Network([new_head(base.get_feature_size(), num_classes, seed=seed)])

    def _config(self, config):
        return TrainingConfig(**config) if isinstance(config, dict) else config

    def train(self, X, y, config):
        began = time.perf_counter()
        cfg = self._config(config)
        feats = np.asarray(self.base.extract_features(np.asarray(X, np.float32)))
        labels = np.asarray(y).astype(int)
        gen = np.random.default_rng(cfg.seed)
        adam = Adam(cfg.learning_rate)
        losses_seen, accuracies = [], []
        for _ in range(cfg.epochs):
            perm = gen.permutation(len(labels))
            summed, hits = 0.0, 0
            for chunk in np.array_split(perm, max(1, -(-len(perm) // cfg.batch_size))):
                scores = self.net.forward(feats[chunk], training=True)
                value, dscores = losses.softmax_cross_entropy(scores, labels[chunk])
                self.net.backward(dscores)
                adam.step(self.net.param_groups())
                summed += value * len(chunk)
                hits += int((scores.argmax(axis=1) == labels[chunk]).sum())
            losses_seen.append(summed / len(labels))
            accuracies.append(hits / len(labels))
        return TrainingHistory(loss=losses_seen, accuracy=accuracies,
                               train_time=time.perf_counter() - began)

    def predict_proba(self, x):
        f = self.base.extract_features(x)
        logits = self.net.infer(np.atleast_2d(f))
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return p[0] if np.ndim(f) == 1 else p

    def predict(self, x):
        p = self.predict_proba(x)
        return int(p.argmax()) if p.ndim == 1 else p.argmax(axis=1)
'''],
    "03.1": ['''
def per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen):
    return {name: (w.copy() if name in frozen else
                   (w - base_lr * multipliers.get(name, 1.0) * grads[name]).astype(w.dtype))
            for name, w in weights.items()}
''', '''
def per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen):
    updated = {}
    for name in weights:
        w = weights[name]
        if name not in frozen:
            lr = base_lr * (multipliers[name] if name in multipliers else 1.0)
            w = w - lr * grads[name]
        updated[name] = np.array(w, dtype=weights[name].dtype, copy=True)
    return updated
'''],
    "03.2": ['''
    def __init__(self, base, num_classes, layers_to_unfreeze=None):
        self.base = base
        self.k = num_classes
        names = base.get_layer_names()
        if layers_to_unfreeze == "all":
            layers_to_unfreeze = names
        elif layers_to_unfreeze is None:
            layers_to_unfreeze = []
        base.freeze()
        for name in layers_to_unfreeze:
            base.unfreeze([name])
        self.head = None
        self.lrs = {}

    def set_layer_learning_rate(self, name, lr):
        names = self.base.get_layer_names() + ["head"]
        if name not in names:
            raise ValueError(f"{name} is not a layer; use one of {names}")
        self.lrs[name] = lr

    def train(self, X, y, config):
        cfg = dict(config) if isinstance(config, dict) else vars(config)
        epochs = cfg.get("epochs", 10)
        lr = cfg.get("learning_rate", 0.01)
        bs = cfg.get("batch_size", 32)
        warm = cfg.get("warmup_epochs")
        if warm is None:
            warm = max(1, round(epochs * 0.1)) if epochs > 1 else 0
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim == 3:
            X = X[..., None]
        if self.head is None:
            self.head = new_head(self.base.network.infer(X[:1]).shape[1], self.k)
        net = self.base.network
        train_blocks = [b for b in net.blocks if b.trainable]
        rng = np.random.default_rng(cfg.get("seed", 0))
        hist = TrainingHistory()
        for epoch in range(epochs):
            for b in train_blocks:
                b.trainable = epoch >= warm
            idx = rng.permutation(len(X))
            losses, right = [], 0
            for s in range(0, len(X), bs):
                bi = idx[s:s + bs]
                feats = net.forward(X[bi], training=True)
                logits = self.head.forward(feats, training=True)
                loss, g = softmax_cross_entropy(logits, y[bi])
                net.backward(self.head.backward(g, need_input_grad=True))
                for b in list(net.blocks) + [self.head]:
                    if not b.trainable:
                        continue
                    r = self.lrs.get(b.name, lr)
                    for _, layer in b.layers:
                        for key in layer.params:
                            layer.params[key] -= r * layer.grads[key]
                losses.append(loss)
                right += int((logits.argmax(1) == y[bi]).sum())
            hist.loss.append(float(np.mean(losses)))
            hist.accuracy.append(right / len(X))
            for b in list(net.blocks) + [self.head]:
                hist.learning_rates.setdefault(b.name, []).append(self.lrs.get(b.name, lr) if b.trainable else 0.0)
        for b in train_blocks:
            b.trainable = True
        return hist

    def predict_proba(self, x):
        f = self.base.extract_features(x)
        one = f.ndim == 1
        p = softmax(self.head.forward(np.atleast_2d(f), training=False))
        return p[0] if one else p

    def predict(self, x):
        p = self.predict_proba(x)
        return int(p.argmax()) if p.ndim == 1 else p.argmax(axis=1)
''', '''
    def __init__(self, base, num_classes, layers_to_unfreeze=None):
        valid = list(base.get_layer_names())
        if layers_to_unfreeze is None:
            picked = []
        elif isinstance(layers_to_unfreeze, str):
            picked = valid if layers_to_unfreeze == "all" else [layers_to_unfreeze]
        else:
            picked = [name for name in layers_to_unfreeze]
        for name in picked:
            if name not in valid:
                raise ValueError("no layer " + repr(name) + " in " + repr(valid))
        base.freeze()
        if len(picked) > 0:
            base.unfreeze(picked)
        self.base, self.classes = base, num_classes
        self.head = new_head(base.get_feature_size(), num_classes, seed=1)
        self.own_rate = {}

    def set_layer_learning_rate(self, name, lr):
        allowed = self.base.get_layer_names() + ["head"]
        if name not in allowed:
            raise ValueError("unknown layer %r, expected one of %s" % (name, ", ".join(allowed)))
        self.own_rate[name] = float(lr)

    def _setting(self, config, key, default):
        if config is None:
            return default
        if isinstance(config, dict):
            return config.get(key, default)
        return getattr(config, key, default)

    def train(self, X, y, config=None):
        from tlkit.nn.optimizers import SGD

        epochs = self._setting(config, "epochs", 10)
        base_lr = self._setting(config, "learning_rate", 0.01)
        size = self._setting(config, "batch_size", 32)
        warmup = self._setting(config, "warmup_epochs", None)
        if warmup is None:
            warmup = 0 if epochs < 2 else max(1, int(round(epochs / 10)))
        data = np.asarray(X, dtype=np.float32)
        if data.ndim == 3:
            data = np.expand_dims(data, -1)
        labels = np.asarray(y, dtype=np.int64)
        model = Network(list(self.base.network.blocks) + [self.head])
        unfrozen = [block for block in self.base.network.blocks if block.trainable]
        optimizer = SGD(lr=base_lr)
        generator = np.random.default_rng(self._setting(config, "seed", 0))
        history = TrainingHistory()
        t0 = time.perf_counter()
        try:
            for epoch in range(epochs):
                warming = epoch < warmup
                for block in unfrozen:
                    block.trainable = not warming
                shuffled = generator.permutation(len(data))
                batch_losses, hits = [], 0
                for first in range(0, len(data), size):
                    chosen = shuffled[first:first + size]
                    out = model.forward(data[chosen], training=True)
                    value, grad = softmax_cross_entropy(out, labels[chosen])
                    model.backward(grad)
                    groups = [block.param_group(self.own_rate.get(block.name, base_lr) / base_lr)
                              for block in model.blocks if block.trainable]
                    optimizer.step(groups)
                    batch_losses.append(value * len(chosen))
                    hits += int(np.count_nonzero(out.argmax(axis=1) == labels[chosen]))
                    history.updates += 1
                history.loss.append(sum(batch_losses) / len(data))
                history.accuracy.append(hits / len(data))
                for block in model.blocks:
                    rate = 0.0
                    if block.trainable:
                        rate = self.own_rate.get(block.name, base_lr)
                    history.learning_rates.setdefault(block.name, []).append(rate)
        finally:
            for block in unfrozen:
                block.trainable = True
        history.train_time = time.perf_counter() - t0
        return history

    def predict_proba(self, x):
        features = self.base.extract_features(x)
        batch = features.reshape(1, -1) if features.ndim == 1 else features
        scores = self.head.forward(batch.astype(np.float32), training=False)
        probs = softmax(scores)
        if features.ndim == 1:
            return probs[0]
        return probs

    def predict(self, x):
        probs = self.predict_proba(x)
        if probs.ndim == 2:
            return probs.argmax(axis=-1).astype(np.int64)
        return int(probs.argmax())
'''],
    "04.1": ['''
def recommend_strategy(dataset_size, task_similarity):
    if dataset_size >= 10_000:
        return "from_scratch" if task_similarity == "low" else "fine_tuning"
    if dataset_size >= 1_000:
        return "fine_tuning"
    return "feature_extraction" if task_similarity == "high" else "fine_tuning"
''', '''
RULE = {("small", "high"): "feature_extraction", ("large", "low"): "from_scratch"}

def recommend_strategy(dataset_size, task_similarity):
    size = "small" if dataset_size < 1000 else "medium" if dataset_size < 10000 else "large"
    return RULE.get((size, task_similarity), "fine_tuning")
'''],
    "04.2": ['''
    @staticmethod
    def recommend_strategy(dataset_size, task_similarity):
        layers = ["layer1", "layer2", "layer3", "layer4"]
        if dataset_size < 1000:
            if task_similarity == "high":
                s, n = "feature_extraction", 4
            else:
                s, n = "fine_tuning", 2
        elif dataset_size < 10000:
            s, n = "fine_tuning", 2 if task_similarity == "high" else 1
        else:
            s, n = ("from_scratch", 0) if task_similarity == "low" else ("fine_tuning", 0)
        lr = {"feature_extraction": 0.01, "fine_tuning": 0.003, "from_scratch": 0.01}[s]
        why = f"With {dataset_size} examples and {task_similarity} similarity, use {s}."
        return SimpleNamespace(strategy=s, layers_to_freeze=layers[:n], recommended_lr=lr, reasoning=why)

    @staticmethod
    def compare_strategies(dataset, arms, updates=300, batch_size=32, seed=0, test_fraction=0.25):
        if isinstance(dataset, dict):
            X, y = np.asarray(dataset["X"]), np.asarray(dataset["y"])
        else:
            X, y = np.asarray(dataset[0]), np.asarray(dataset[1])
        k = max(2, int(y.max()) + 1)
        out = SimpleNamespace()
        for name, make in arms.items():
            perm = np.random.default_rng(seed).permutation(len(X))
            nt = int(test_fraction * len(X))
            te, tr = perm[:nt], perm[nt:]
            if nt == 0:
                te = tr
            epochs = max(1, math.ceil(updates / math.ceil(len(tr) / batch_size)))
            t0 = time.time()
            model = make(k)
            model.train(X[tr], y[tr], {"epochs": epochs, "learning_rate": 0.01, "batch_size": batch_size,
                                       "seed": seed})
            t = time.time() - t0
            acc = (model.predict(X[te]) == y[te]).mean()
            setattr(out, name, SimpleNamespace(accuracy=acc, time=t))
        return out
''', '''
    @classmethod
    def size_of(cls, n):
        return "large" if n >= 10_000 else ("medium" if n >= 1_000 else "small")

    @classmethod
    def recommend_strategy(cls, dataset_size, task_similarity):
        size = cls.size_of(dataset_size)
        if size == "small" and task_similarity == "high":
            strategy = "feature_extraction"
        elif size == "large" and task_similarity == "low":
            strategy = "from_scratch"
        else:
            strategy = "fine_tuning"
        if strategy == "feature_extraction":
            keep = len(cls.LAYERS)
        elif strategy == "from_scratch" or size == "large":
            keep = 0
        elif size == "small" or task_similarity == "high":
            keep = len(cls.LAYERS) // 2
        else:
            keep = len(cls.LAYERS) // 4
        text = ("A " + size + " dataset (" + str(dataset_size) + " examples) with " + task_similarity
                + " similarity calls for " + strategy.replace("_", " ") + ".")
        return SimpleNamespace(strategy=strategy, layers_to_freeze=list(cls.LAYERS[:keep]),
                               recommended_lr=float(cls.LEARNING_RATES[strategy]), reasoning=text)

    @classmethod
    def compare_strategies(cls, dataset, arms, updates=300, batch_size=32, seed=0, test_fraction=0.25):
        try:
            X, y = dataset["X"], dataset["y"]
        except (TypeError, KeyError, IndexError):
            X, y = dataset
        X, y = np.array(X), np.array(y, dtype=int)
        shuffled = np.random.default_rng(seed).permutation(y.shape[0])
        held = int(y.shape[0] * test_fraction)
        fit_rows = shuffled[held:]
        score_rows = shuffled[:held] if held > 0 else fit_rows
        per_epoch = -(-fit_rows.size // batch_size)
        n_epochs = max(1, -(-updates // per_epoch))
        classes = max(2, int(np.max(y)) + 1)
        found = {}
        for arm in arms:
            settings = dict(epochs=n_epochs, learning_rate=cls.LEARNING_RATES.get(arm, 0.01),
                            batch_size=batch_size, seed=seed)
            began = time.perf_counter()
            model = arms[arm](classes)
            model.train(X[fit_rows], y[fit_rows], settings)
            took = time.perf_counter() - began
            guesses = np.asarray(model.predict(X[score_rows]))
            found[arm] = SimpleNamespace(accuracy=float((guesses == y[score_rows]).mean()), time=took)
        return SimpleNamespace(**found)
'''],
    "05.1": ['''
def adapter_forward_backward(x, params, grad_out):
    C = params["W_down"].shape[0]
    rows = x.reshape(-1, C)
    pre = rows @ params["W_down"] + params["b_down"]
    active = pre > 0
    hidden = np.where(active, pre, 0)
    out = rows + hidden @ params["W_up"] + params["b_up"]
    up = grad_out.reshape(-1, C)
    d_pre = np.where(active, up @ params["W_up"].T, 0)
    grads = {}
    grads["W_up"] = hidden.T @ up
    grads["b_up"] = up.sum(0)
    grads["W_down"] = rows.T @ d_pre
    grads["b_down"] = d_pre.sum(0)
    grads["x"] = (up + d_pre @ params["W_down"].T).reshape(x.shape)
    return out.reshape(x.shape), grads
''', '''
def adapter_forward_backward(x, params, grad_out):
    shape = x.shape
    wd, bd, wu, bu = params["W_down"], params["b_down"], params["W_up"], params["b_up"]
    flat_x = x.reshape(-1, wd.shape[0])
    flat_g = grad_out.reshape(flat_x.shape)
    z = np.einsum("nc,cr->nr", flat_x, wd) + bd
    h = z * (z > 0)
    y = flat_x + np.einsum("nr,rc->nc", h, wu) + bu
    dz = np.einsum("nc,rc->nr", flat_g, wu) * (z > 0)
    dx = flat_g + np.einsum("nr,cr->nc", dz, wd)
    return y.reshape(shape), {"x": dx.reshape(shape), "W_down": np.einsum("nc,nr->cr", flat_x, dz),
                              "b_down": dz.sum(axis=0), "W_up": np.einsum("nr,nc->rc", h, flat_g),
                              "b_up": flat_g.sum(axis=0)}
'''],
}


def _honest_cell(exercise_id: str, code: str) -> str:
    """The student's cell: the stub with its NotImplementedError methods replaced (classes),
    or the function on its own."""
    if not code.startswith("\n    "):
        return f"### EXERCISE {exercise_id}\n" + textwrap.dedent(code)
    stub = stub_source(exercise_id)
    head = re.sub(r"(\n    @\w+)+\Z", "", stub.split("\n    def ", 1)[0])  # without the first method's decorators
    given = [m for m in stub.split("\n    def ")[1:] if "NotImplementedError" not in m]
    return head + "".join("\n    def " + m for m in given) + "\n" + code


def test_every_exercise_has_two_honest_variants():
    assert sorted(HONEST) == sorted(exercise_ids())
    assert all(len(variants) >= 2 for variants in HONEST.values())


@pytest.mark.parametrize("exercise_id, index",
                         [(e, i) for e in sorted(HONEST) for i in range(len(HONEST[e]))])
def test_honest_solutions_pass_the_checks_and_do_not_match(exercise_id, index):
    import math
    import time

    import numpy as np

    cell = _honest_cell(exercise_id, HONEST[exercise_id][index])
    namespace = {"np": np, "math": math, "time": time, "warnings": warnings}
    exec(compile(cell, f"<honest {exercise_id}>", "exec"), namespace)
    from tlkit.exercises.registry import get_exercise

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_checks(exercise_id, namespace[get_exercise(exercise_id).name])
    assert result.status == "passed", result.messages
    reference = reference_source(exercise_id)
    assert matching_definitions(cell, reference, given_source=stub_source(exercise_id),
                                min_nodes=0) == []


def test_sizes_counted_without_copying_equal_the_normalised_sizes():
    """find_copies skips definitions by a size counted on the original tree: it must be
    the normalised tree's size, for every definition of the library and the instructor side."""
    from pathlib import Path

    from instructor.grading.similarity import _import_paths, _normalised, _normalised_size

    root = Path(__file__).resolve().parents[2]
    checked = 0
    for path in sorted([*root.glob("tlkit/**/*.py"), *root.glob("instructor/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = _import_paths(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assert _normalised_size(node) == _normalised(node, imports)[1], (path, node.name)
                checked += 1
    assert checked > 500


def test_the_answer_key_files_hold_their_references():
    """What release's verify would find if instructor/exercises/ shipped: every reference."""
    from pathlib import Path

    from instructor.grading.similarity import find_copies

    root = Path(__file__).resolve().parents[2]
    references = {e: reference_source(e) for e in exercise_ids()}
    for exercise_id in exercise_ids():
        path = root / "instructor" / "exercises" / f"ref_{exercise_id.replace('.', '_')}.py"
        found = find_copies(path.read_text(encoding="utf-8"), references, min_nodes=0)
        assert [key for _, key, _ in found] == [exercise_id], (path, found)
