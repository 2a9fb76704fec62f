"""Target tasks for the course: the same digits at three levels of similarity
to the glyph alphabet the shipped models were pretrained on.

Each task is a fixed dataset (generated once from a constant internal seed,
like a dataset you would download) split into a fixed, stratified test set
(40%, the same for every ``seed``) and a training pool. ``seed`` only picks
which ``n_train`` pool examples are labelled: balanced over the classes, and
nested (for a given seed, the draw for a smaller ``n_train`` is a prefix of
the draw for a larger one, which keeps learning curves smooth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np

from ..argcheck import check_int
from .digits import DIGIT_CLASS_NAMES, load_digits
from .domains import in_the_wild, xray_style
from .textures import TEXTURE_CLASS_NAMES, make_textures

TEST_FRACTION = 0.4
_SPLIT_SEED = 20240601  # constant: the test split never depends on the caller's seed
_DATA_SEED = 1998  # constant: the domain-shifted images are fixed datasets
_STREAM = {"digits": 0, "xray": 1, "wild": 2, "textures": 3}

#: similarity -> (valid domains, default first)
_DOMAINS: dict[str, tuple[str, ...]] = {
    "high": ("digits",),
    "medium": ("xray", "wild"),
    "low": ("textures",),
}

_DESCRIPTIONS = {
    "digits": (
        "Real handwritten digits 0-9 (UCI, 8x8), rendered exactly like the glyph alphabet the "
        "models were pretrained on: pen strokes in a 32x32 bitmap, counted in 4x4 blocks. "
        "High similarity: same domain, new classes, so the pretrained stroke and curve "
        "features apply directly and a frozen feature extractor is already strong."
    ),
    "xray": (
        "The same digits seen as low-quality X-rays: inverted contrast (dark strokes on a "
        "bright background), blurred, with lower contrast and noise. Medium similarity: the "
        "shapes are unchanged but the pixel statistics the early layers were tuned to are not, "
        "so fine-tuning the early blocks should beat a frozen extractor, and training from "
        "scratch may even beat both (negative transfer)."
    ),
    "wild": (
        "Digits in the wild: each digit on a 12x12 canvas at a random position (+-2 px), "
        "angle (+-25 deg) and size (+-15%), with faint clutter and noise. Medium similarity: "
        "the strokes are the same but their pose is not, so features must tolerate position "
        "and rotation; with few examples, transfer from pose-varied glyphs and data "
        "augmentation are both answers."
    ),
    "textures": (
        "Textures, not handwriting: stripes in four orientations, checkerboards and dot "
        "lattices (8x8) with random period, phase, tilt and contrast, plus noise. Low "
        "similarity: the label is a property of the whole image's periodic structure, not of "
        "a stroke shape, so features learned on glyphs help little and training from scratch "
        "is a fair competitor."
    ),
}


@dataclass(frozen=True, eq=False)
class TransferTask:
    """A labelled target task: training draw, fixed test split and a description.

    ``train_indices`` / ``test_indices`` index the task's full fixed dataset
    (disjoint by construction). Images are float32 in [0, 1], labels int64.
    """

    name: str
    similarity: str
    domain: str
    description: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]
    seed: int
    train_indices: np.ndarray = field(repr=False)
    test_indices: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"TransferTask(name={self.name!r}, similarity={self.similarity!r}, "
            f"domain={self.domain!r}, num_classes={self.num_classes}, "
            f"input_shape={self.input_shape}, n_train={len(self.y_train)}, "
            f"n_test={len(self.y_test)}, seed={self.seed})"
        )


def list_transfer_tasks() -> list[tuple[str, str]]:
    """The valid ``(similarity, domain)`` pairs; the first domain of each
    similarity is its default."""
    return [(s, d) for s, domains in _DOMAINS.items() for d in domains]


@cache
def _dataset(domain: str) -> tuple[np.ndarray, np.ndarray]:
    """The fixed full dataset of a domain (cached, read-only)."""
    if domain == "textures":
        X, y = make_textures(n_per_class=300, seed=_DATA_SEED)
    else:
        X, y = load_digits()
        rng = np.random.Generator(np.random.PCG64([_DATA_SEED, _STREAM[domain]]))
        if domain == "xray":
            X = xray_style(X, rng)
        elif domain == "wild":
            X = in_the_wild(X, rng, canvas=12)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def stratified_split(
    y: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = _SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (pool, test), taking round(test_fraction * n_c) of each class."""
    rng = np.random.Generator(np.random.PCG64(seed))
    pool, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_fraction * len(idx)))
        test.append(idx[:k])
        pool.append(idx[k:])
    return np.sort(np.concatenate(pool)), np.sort(np.concatenate(test))


def balanced_draw(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Positions of ``n`` examples of ``y``, balanced over the classes.

    Classes take turns (in a random order) giving one random example each,
    skipping classes that ran out, so every class count is within one of the
    others unless a class is exhausted; the draw for ``n`` is a prefix of the
    draw for ``n + 1``.
    """
    rng = np.random.Generator(np.random.PCG64([seed, 7]))
    classes = np.unique(y)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    order = rng.permutation(len(classes))
    picks: list[int] = []
    depth = 0
    while len(picks) < n:
        for c in order:
            if depth < len(per_class[c]):
                picks.append(int(per_class[c][depth]))
                if len(picks) == n:
                    break
        depth += 1
    return np.asarray(picks, dtype=np.intp)


def make_transfer_task(
    similarity: Literal["high", "medium", "low"] = "high",
    n_train: int | Literal["all"] = 100,
    seed: int = 0,
    *,
    domain: str | None = None,
) -> TransferTask:
    """Build a target task.

    - ``"high"`` (domain ``"digits"``): the real digits as they are, 10 classes, 8x8.
    - ``"medium"``: a shifted domain: ``"xray"`` (default, 8x8) or ``"wild"`` (12x12).
    - ``"low"`` (domain ``"textures"``): 6 texture classes, 8x8.

    ``n_train`` (an int >= 1 up to the pool size, or ``"all"``) examples are
    drawn balanced per class from the training pool with ``seed``; the test
    split is fixed. See :func:`list_transfer_tasks` for the valid pairs.
    """
    if not isinstance(similarity, str) or similarity not in _DOMAINS:
        raise ValueError(
            f"similarity must be one of {list(_DOMAINS)}; got {similarity!r}"
        )
    valid_domains = _DOMAINS[similarity]
    if domain is None:
        domain = valid_domains[0]
    elif not isinstance(domain, str) or domain not in valid_domains:
        raise ValueError(
            f"domain must be one of {list(valid_domains)} (or None) for "
            f"similarity={similarity!r}; got {domain!r}. Valid pairs: {list_transfer_tasks()}"
        )
    seed = check_int(seed, "seed", 0)

    X, y = _dataset(domain)
    pool, test = stratified_split(y)
    if isinstance(n_train, str) and n_train == "all":
        n = len(pool)
    elif isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)):
        raise ValueError(
            f"n_train must be an integer in 1..{len(pool)} or 'all'; got {n_train!r}"
        )
    else:
        n = int(n_train)
        if not 1 <= n <= len(pool):
            raise ValueError(
                f"n_train must be an integer in 1..{len(pool)} or 'all' for the {domain!r} "
                f"task (its training pool has {len(pool)} examples); got {n_train!r}"
            )
    train = pool[balanced_draw(y[pool], n, seed)]
    class_names = DIGIT_CLASS_NAMES if domain != "textures" else TEXTURE_CLASS_NAMES
    return TransferTask(
        name=f"{similarity}-{domain}",
        similarity=similarity,
        domain=domain,
        description=_DESCRIPTIONS[domain],
        X_train=X[train],
        y_train=y[train],
        X_test=X[test],
        y_test=y[test],
        num_classes=len(class_names),
        class_names=tuple(class_names),
        input_shape=tuple(X.shape[1:]),
        seed=seed,
        train_indices=train,
        test_indices=test,
    )
