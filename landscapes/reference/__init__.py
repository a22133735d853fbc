"""Slow plain-Python/NumPy references the engine and the sweeps are tested against (the oracles).

The engine's references live in ``engine`` and are re-exported here; the sweeps' in ``sweeps``;
the rules beyond value and norm (AutoClip, ZClip, normalize, AGC, torch's and Keras' rules) in ``rules``.
"""

from . import rules
from .engine import (
    REFERENCE_CLIPS,
    clip_norm,
    clip_norm_torch,
    clip_value,
    descend,
    pascanu_loss_and_grad,
)

__all__ = [
    "REFERENCE_CLIPS",
    "clip_norm",
    "clip_norm_torch",
    "clip_value",
    "descend",
    "pascanu_loss_and_grad",
    "rules",
]
