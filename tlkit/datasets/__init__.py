"""Datasets for the workbook: the real digits, the glyph source corpus, domain
shifts, augmentation and the target tasks of the course.

- :func:`load_digits`: the real UCI handwritten digits (shipped, checksummed).
- :func:`make_glyphs`: the procedural glyph alphabet the models are pretrained on.
- :mod:`.augment`: random affine warps, flips and noise for any training strategy;
  :mod:`.augment_domain`: keeping the target's noise, augmenting without interpolation.
- :mod:`.domains`: X-ray-style and "in the wild" domain shifts.
- :func:`make_transfer_task`: high / medium / low similarity target tasks.
"""

from .augment import Augmenter, add_noise, affine_warp, random_affine
from .augment_domain import estimate_noise
from .digits import load_digits
from .domains import add_clutter, gaussian_blur, in_the_wild, xray_style
from .glyphs import make_glyphs
from .textures import TEXTURE_CLASS_NAMES, make_textures
from .transfer_tasks import TransferTask, list_transfer_tasks, make_transfer_task

__all__ = [
    "Augmenter",
    "TEXTURE_CLASS_NAMES",
    "TransferTask",
    "add_clutter",
    "add_noise",
    "affine_warp",
    "estimate_noise",
    "gaussian_blur",
    "in_the_wild",
    "list_transfer_tasks",
    "load_digits",
    "make_glyphs",
    "make_textures",
    "make_transfer_task",
    "random_affine",
    "xray_style",
]
