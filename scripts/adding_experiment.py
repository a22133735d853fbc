"""Pascanu et al. 2013 (§4) on the adding problem: which clipping rules let a vanilla RNN solve it.

    python scripts/adding_experiment.py [--seeds 10] [--steps 4000] [--lr 0.01] [--optimizer momentum]

For each T in {20, 50, 100}, every (rule, seed) run trains together in one
call of ``ls.train_rnn_many`` at the same fixed learning rate (by default
heavy-ball momentum 0.9, lr 0.01, 4000 steps, hidden 32, batch 32, W_rec of
spectral radius 1; two lengths train at once, one per core); a run "solves" the
task when its loss on the fixed held-out batch of 1000 ends below
``ls.SOLVED_LOSS`` (0.04; predicting the constant 1 scores about 0.167).
Prints the share of solved runs per rule and T, how many diverged (a loss,
gradient or update that is not finite), and the median final held-out loss.
Every number printed is measured in this run.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import landscapes as ls  # noqa: E402

#: (rule, threshold) compared: no clipping, value, norm and one adaptive rule (AutoClip's 10th percentile).
RULES = (("none", None), ("value", 0.1), ("norm", 1.0), ("autoclip", 10.0))


def train_one_length(T, seeds, steps, lr, optimizer, hidden, batch, rec_scale):
    """Every (rule, seed) run at sequence length T, in one batched call; (runs, seconds)."""
    settings = [ls.RuleSetting(rule, c, seed=seed) for rule, c in RULES for seed in range(seeds)]
    t0 = time.perf_counter()
    runs = ls.train_rnn_many(
        settings, T=T, hidden=hidden, batch=batch, steps=steps, lr=lr, optimizer=optimizer,
        rec_scale=rec_scale, eval_every=max(1, steps // 10),
    )  # fmt: skip
    return runs, time.perf_counter() - t0


def run_experiment(Ts, seeds, steps, lr, optimizer, hidden, batch, rec_scale, workers=2):
    """The table over every T. The lengths train in ``workers`` threads at once (the longest
    first): one batched call of these small matrices keeps about one core busy, and JAX releases
    the GIL while it runs, so two lengths at a time use both cores. Each run is deterministic, so
    the table is the one a sequential loop makes. (Cutting one length's 40 runs into two batched
    calls of 20 would balance the cores better, but a batch of another size rounds differently in
    float32, and over 4000 steps that changed 4 of the 12 cells when tried: keep the batches.)"""
    table = {}
    order = sorted(Ts, reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {
            T: pool.submit(train_one_length, T, seeds, steps, lr, optimizer, hidden, batch, rec_scale)
            for T in order
        }
        done = {T: futures[T].result() for T in order}
    for T in Ts:
        runs, seconds = done[T]
        for rule, _ in RULES:
            mine = [r for r in runs if r.clip == rule]
            table[(rule, T)] = {
                "solved": sum(r.solved for r in mine),
                "diverged": sum(r.diverged for r in mine),
                "median": float(np.median([r.final_heldout if not r.diverged else np.inf for r in mine])),
                "n": len(mine),
            }
        print(f"T={T}: {len(runs)} runs x {steps} steps in {seconds:.0f} s (lengths trained two at a time)")
    return table


def print_table(table, Ts, seeds, steps, lr, optimizer) -> None:
    print()
    print(
        f"Share of {seeds} seeds that solve the adding problem (held-out loss < {ls.SOLVED_LOSS:g}) "
        f"after {steps} steps, {optimizer}, lr={lr:g}"
    )
    print("(in brackets: runs that diverged; then the median final held-out loss, inf if most diverged)")
    header = f"{'rule':<30}" + "".join(f"{'T=' + str(T):>24}" for T in Ts)
    print(header)
    for rule, c in RULES:
        name = ls.CLIP_SPECS[rule].label + ("" if c is None else f" (c={c:g})")
        cells = []
        for T in Ts:
            e = table[(rule, T)]
            cells.append(f"{e['solved']}/{e['n']} [{e['diverged']}] {e['median']:.3f}")
        print(f"{name:<30}" + "".join(f"{cell:>24}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--optimizer", default="momentum")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rec-scale", type=float, default=1.0)
    parser.add_argument("--Ts", default="20,50,100")
    parser.add_argument("--workers", type=int, default=2, help="sequence lengths trained at once")
    args = parser.parse_args()
    Ts = [int(v) for v in args.Ts.split(",")]
    t0 = time.perf_counter()
    table = run_experiment(
        Ts,
        args.seeds,
        args.steps,
        args.lr,
        args.optimizer,
        args.hidden,
        args.batch,
        args.rec_scale,
        args.workers,
    )
    print_table(table, Ts, args.seeds, args.steps, args.lr, args.optimizer)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
