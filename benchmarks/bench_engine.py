"""Engine speed: prints figures, asserts nothing (the machines are noisy).

    python benchmarks/bench_engine.py [--repeats 300]

1. Latency of a 200-step `pascanu` trajectory after warm-up, including
   building the Trajectory (goal: median <= 1 ms).
2. The same trajectory by the plain Python loop of landscapes.reference
   (backpropagation through time by hand), as a ratio, in the same run.
3. The first call in a fresh process, after import, with JAX's persistent
   compilation cache cold and then warm (goal: <= 0.15 s warm).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import landscapes as ls  # noqa: E402
from landscapes import reference  # noqa: E402

CONFIG = dict(landscape="pascanu", start=(4.7, -2.2), lr=0.5, steps=200, clip="norm", threshold=1.0)

FRESH_PROCESS = """
import json, sys, time
t0 = time.perf_counter()
import landscapes as ls
ls.enable_compilation_cache(sys.argv[1])
t1 = time.perf_counter()
ls.simulate(**json.loads(sys.argv[2]))
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_call": t2 - t1}))
"""


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def time_engine(repeats: int) -> list[float]:
    ls.simulate(**CONFIG)  # compile
    for _ in range(20):
        ls.simulate(**CONFIG)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        ls.simulate(**CONFIG)
        times.append(time.perf_counter() - t)
    return times


def time_python_loop(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        reference.descend(
            reference.pascanu_loss_and_grad,
            CONFIG["start"],
            CONFIG["lr"],
            CONFIG["steps"],
            CONFIG["clip"],
            CONFIG["threshold"],
        )
        times.append(time.perf_counter() - t)
    return times


def fresh_process(cache: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, cache, json.dumps(CONFIG)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()

    engine = time_engine(args.repeats)
    loop = time_python_loop(max(10, args.repeats // 20))
    med_engine, med_loop = statistics.median(engine), statistics.median(loop)
    print("200-step pascanu trajectory (norm clipping, T=50), warm:")
    print(
        f"  engine      median {med_engine * 1e3:7.3f} ms   p95 {percentile(engine, 95) * 1e3:7.3f} ms"
        f"   (goal: median <= 1 ms)"
    )
    print(f"  python loop median {med_loop * 1e3:7.3f} ms   p95 {percentile(loop, 95) * 1e3:7.3f} ms")
    print(f"  ratio       python loop / engine = {med_loop / med_engine:.1f}x")

    with tempfile.TemporaryDirectory() as cache:
        cold = fresh_process(cache)
        warm = [fresh_process(cache) for _ in range(3)]
    first = statistics.median(w["first_call"] for w in warm)
    imp = statistics.median(w["import"] for w in warm)
    print("fresh process, first trajectory after import:")
    print(f"  cache cold  {cold['first_call']:.3f} s   (import {cold['import']:.2f} s)")
    print(f"  cache warm  {first:.3f} s   (import {imp:.2f} s; median of 3; goal: <= 0.15 s)")


if __name__ == "__main__":
    main()
