"""Sweep speed: prints figures, asserts nothing (the machines are noisy).

    python benchmarks/bench_sweeps.py [--repeats 7] [--skip-variants]

The workload of the issue: a start map of ``pascanu`` (T = 50), 200 steps of
plain gradient descent at lr 0.5 with norm clipping at c = 1.

1. 128 x 128 and 256 x 256 start maps, float64, warm (goals: <= 0.3 s and
   <= 1.5 s), as ``sweep_starts`` returns them (numpy arrays, classes).
2. The hand-vectorized NumPy version (forward pass + backpropagation through
   time, ``landscapes.reference.sweeps``) on the 128 x 128 map, timed in the
   same run, interleaved with the JAX runs; the ratio (goal: >= 2x).
3. What the choices cost: how the cells are cut up (one pass over all of
   them with XLA splitting each operation over threads, blocks of 2048 in
   one thread, or blocks in one thread per core: the default); float32; the
   generic path (``jax.jacfwd`` through the rolled ``fori_loop``); the fast
   path with other unroll sizes; the first call (compile) of each.

Wall time is the figure that matters; CPU time (both cores together) is
printed next to it because other processes share this 2-core machine: when
wall ~ CPU the second core was busy elsewhere. The load average is printed
before and after; compare ratios within one run and re-run before quoting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import landscapes as ls  # noqa: E402
from landscapes.core import sweep_program, sweeps  # noqa: E402
from landscapes.reference import sweeps as reference_sweeps  # noqa: E402

LR, STEPS, CLIP, THRESHOLD, T = 0.5, 200, "norm", 1.0, 50


def grid(n: int) -> np.ndarray:
    (x0, x1), (y0, y1) = ls.get_landscape("pascanu").window
    xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.column_stack([xx.ravel(), yy.ravel()])


def jax_map(n: int, dtype: str = "float64", unroll: int | None = None):
    """A callable running one map; ``unroll`` None is ``sweep_starts`` itself."""
    if unroll is None:
        return lambda: ls.sweep_starts("pascanu", LR, STEPS, CLIP, THRESHOLD, resolution=n, dtype=dtype, T=T)
    scape = ls.get_landscape("pascanu")
    starts = grid(n)
    ones = np.ones(len(starts))

    def run():
        return sweeps._run(
            scape,
            starts,
            LR * ones,
            THRESHOLD * ones,
            STEPS,
            {"T": T},
            0.9,
            scape.window,
            np.dtype(dtype),
            "sgd",
            CLIP,
            unroll,
        )

    return run


def with_layout(fn, workers: int, block: int):
    """``fn`` run with another split of the cells (module settings, restored after)."""

    def run():
        saved = sweep_program.WORKERS, sweep_program.BLOCK_CELLS
        sweep_program.WORKERS, sweep_program.BLOCK_CELLS = workers, block
        try:
            return fn()
        finally:
            sweep_program.WORKERS, sweep_program.BLOCK_CELLS = saved

    return run


def numpy_map(n: int):
    starts = grid(n)
    return lambda: reference_sweeps.pascanu_start_map(starts, LR, STEPS, CLIP, THRESHOLD, T)


def timed(fn) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def first_call(fn) -> float:
    return timed(fn)[0]


def warm(fn, repeats: int) -> tuple[list[float], list[float]]:
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = timed(fn)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def line(label: str, walls: list[float], cpus: list[float] | None = None, goal: str = "") -> None:
    text = f"  {label:<34} median {statistics.median(walls):6.3f} s   min {min(walls):6.3f} s"
    if cpus:
        text += f"   cpu {statistics.median(cpus):6.3f} s"
    print(text + (f"   ({goal})" if goal else ""), flush=True)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-variants", action="store_true", help="only parts 1 and 2")
    print(f"cells split into blocks of {sweep_program.BLOCK_CELLS}, {sweep_program.WORKERS} worker threads")
    args = parser.parse_args()
    r = args.repeats
    print(f"pascanu T={T}, {STEPS} steps, lr {LR}, {CLIP} clipping c={THRESHOLD}; load average {load()}")

    print("1-2. start maps, float64, warm (JAX interleaved with NumPy on 128 x 128):")
    jax128, np128 = jax_map(128), numpy_map(128)
    compile128 = first_call(jax128)
    jax128()
    numpy_walls, jax_walls, jax_cpus = [], [], []
    for _ in range(max(3, r // 2)):
        wall, cpu = timed(jax128)
        jax_walls.append(wall)
        jax_cpus.append(cpu)
        numpy_walls.append(timed(np128)[0])
        wall, cpu = timed(jax128)
        jax_walls.append(wall)
        jax_cpus.append(cpu)
    line("JAX 128 x 128", jax_walls, jax_cpus, "goal <= 0.3 s")
    line("NumPy BPTT 128 x 128", numpy_walls)
    ratio = statistics.median(numpy_walls) / statistics.median(jax_walls)
    best = min(numpy_walls) / min(jax_walls)
    print(f"  {'ratio NumPy / JAX':<34} median {ratio:6.2f} x   min/min {best:5.2f} x   (goal >= 2x)")
    walls, cpus = warm(jax_map(256), max(3, r // 2))
    line("JAX 256 x 256", walls, cpus, "goal <= 1.5 s")

    if args.skip_variants:
        return
    print("3. choices, 128 x 128 (first call includes the compile):")
    print(f"  {'default: blocks x threads, unroll 10':<34} first call {compile128:6.2f} s")
    line("  default", *warm(jax128, r))
    for label, fn in [
        ("one pass, XLA threads per op", with_layout(jax_map(128), 1, 128 * 128)),
        ("blocks of 2048, one thread", with_layout(jax_map(128), 1, sweep_program.BLOCK_CELLS)),
        ("float32", jax_map(128, "float32")),
        ("float64, generic (no unroll)", jax_map(128, unroll=0)),
        ("float64, unroll 1 (chunked loop)", jax_map(128, unroll=1)),
        ("float64, unroll 5", jax_map(128, unroll=5)),
        ("float64, unroll 25", jax_map(128, unroll=25)),
        ("float64, unroll 50", jax_map(128, unroll=50)),
    ]:
        compile_s = first_call(fn)
        print(f"  {label:<34} first call {compile_s:6.2f} s", flush=True)
        line("  " + label, *warm(fn, r))
    walls, cpus = warm(jax_map(256, "float32"), max(3, r // 2))
    line("float32 256 x 256", walls, cpus)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
