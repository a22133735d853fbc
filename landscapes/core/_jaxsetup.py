"""JAX settings the package relies on, applied once at import.

float64 is the default because near a cliff float32 gradients are off by
1-30 % (see the science notes); float32 stays available per call.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

#: XLA options for the programs a view compiles before its first map: the map's batched runs
#: (``engine._descend_rule_batch``), its surface (``mesh._evaluate``) and the narration's clip
#: (``clipping._clip_program``). XLA's older elemental emitters compile these in about half the
#: time of its fusion emitters (here the batched runs 0.55-0.69 -> 0.31-0.33 s, the surface
#: 0.21 -> 0.11 s, a clip 0.08 -> 0.03 s), run them as fast, and gave the same numbers bit for
#: bit in every case tested (tests/test_engine.py). That is not a law: XLA may fuse differently
#: and round a last bit otherwise, as it does for the 3-D view's ``_descend_modes`` in float32
#: with momentum, which therefore keeps the default; the map's words never depend on it, as they
#: come from the very runs the map draws. Not for ``simulate``'s own programs either: the sweeps
#: (``sweep_program``, whose wide loops run 3x slower without fusion emitters) match those to
#: the bit.
QUICK_COMPILE = {"xla_cpu_use_fusion_emitters": False}

DEFAULT_CACHE_DIR = Path(os.environ.get("CLIFFS_JAX_CACHE", Path.home() / ".cache" / "cliffs-jax"))


def enable_compilation_cache(path: str | os.PathLike[str] | None = None) -> Path:
    """Turns on JAX's persistent compilation cache.

    A new process then loads compiled trajectories from disk instead of
    compiling them again, which cuts the first call roughly threefold.

    Args:
      path: the cache folder; defaults to ``$CLIFFS_JAX_CACHE`` or
        ``~/.cache/cliffs-jax``.

    Returns:
      The folder in use.
    """
    folder = Path(path) if path is not None else DEFAULT_CACHE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder
