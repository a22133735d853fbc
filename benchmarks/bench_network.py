"""Network training speed: prints figures, asserts nothing (the machines are noisy).

    python benchmarks/bench_network.py [--repeats 3] [--reference-steps 1000]

1. 1000 training steps of ``train_rnn``'s default configuration (adding
   problem, T=50, hidden 32, batch 32, plain descent, float32) for three
   rules trained together in one call (none, value, norm), after
   compilation (goal: <= 3 s), with the compile time of the first call.
2. The float64 NumPy reference (hand-written BPTT) doing the same work
   (three runs, same batches, no held-out loss), as a ratio to
   ``train_rnn_many`` measuring the held-out loss only at the two ends.
3. An eager PyTorch loop of the same model, only if torch is importable
   (it is not a dependency).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import landscapes as ls  # noqa: E402
from landscapes.reference import network as ref  # noqa: E402

T, HIDDEN, BATCH, STEPS, LR = 50, 32, 32, 1000, 0.05
RULES = (ls.RuleSetting("none"), ls.RuleSetting("value", 0.1), ls.RuleSetting("norm", 1.0))


def time_jax(repeats: int, eval_every: int = 50) -> tuple[float, list[float], list]:
    kw = dict(T=T, hidden=HIDDEN, batch=BATCH, steps=STEPS, lr=LR, eval_every=eval_every)
    t0 = time.perf_counter()
    runs = ls.train_rnn_many(RULES, **kw)
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        runs = ls.train_rnn_many(RULES, **kw)
        times.append(time.perf_counter() - t0)
    return first, times, runs


def time_reference(steps: int) -> float:
    init = ls.init_rnn(HIDDEN, 0)
    # The batches are drawn beforehand (the same for every rule), so only the NumPy training is timed.
    batches = [ls.rnn_task_batch("adding", T, BATCH, 0, i) for i in range(steps)]
    t0 = time.perf_counter()
    for rule in RULES:
        ref.train(
            init, T=T, batch=BATCH, seed=0, steps=steps, lr=LR, clip_mode=rule.clip,
            threshold=rule.threshold if rule.threshold is not None else 1.0, batches=batches,
        )  # fmt: skip
    return time.perf_counter() - t0


def time_torch(steps: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    init = ls.init_rnn(HIDDEN, 0)
    batches = [ls.rnn_task_batch("adding", T, BATCH, 0, i) for i in range(steps)]
    t0 = time.perf_counter()
    for rule in RULES:
        p = {n: torch.tensor(np.asarray(v, np.float32), requires_grad=True) for n, v in init.items()}
        opt = torch.optim.SGD(list(p.values()), lr=LR)
        for x, y in batches:
            xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
            h = torch.zeros(BATCH, HIDDEN)
            for t in range(T):
                h = torch.tanh(xt[:, t] @ p["W_in"].T + h @ p["W_rec"].T + p["b"])
            loss = torch.mean((h @ p["W_out"] + p["b_out"] - yt) ** 2)
            opt.zero_grad()
            loss.backward()
            if rule.clip == "norm":
                torch.nn.utils.clip_grad_norm_(list(p.values()), rule.threshold)
            elif rule.clip == "value":
                torch.nn.utils.clip_grad_value_(list(p.values()), rule.threshold)
            opt.step()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--reference-steps", type=int, default=STEPS, help="steps the NumPy reference runs (scaled to 1000)"
    )
    args = parser.parse_args()

    first, times, runs = time_jax(args.repeats)
    median = statistics.median(times)
    print(f"train_rnn_many: 3 rules x {STEPS} steps (T={T}, hidden={HIDDEN}, batch={BATCH}, float32)")
    print(f"  first call (compile + run): {first:.2f} s")
    print(f"  after compilation: median {median:.2f} s, best {min(times):.2f} s", end="")
    print(f" over {len(times)} (goal <= 3 s)")
    for run in runs:
        heldout = f"held-out loss {run.final_heldout:.4f}"
        print(f"    {run.clip:>5}: {run.reason}; {heldout}; clipped {run.n_clipped}")

    # The reference measures no held-out loss: the same work is a run that evaluates only at the ends.
    _, bare_times, _ = time_jax(args.repeats, eval_every=STEPS)
    bare = statistics.median(bare_times)
    print(f"  the same without the held-out loss every 50 steps (only at the ends): median {bare:.2f} s")
    ref_time = time_reference(args.reference_steps) * (STEPS / args.reference_steps)
    scaled = "" if args.reference_steps == STEPS else f" (scaled from {args.reference_steps} steps)"
    print(
        f"NumPy float64 reference, same work (no held-out loss): {ref_time:.2f} s{scaled}; "
        f"ratio to train_rnn_many without it {ref_time / bare:.1f}x"
    )

    torch_time = time_torch(args.reference_steps)
    if torch_time is None:
        print("PyTorch: not installed, skipped")
    else:
        torch_time *= STEPS / args.reference_steps
        print(f"PyTorch eager float32, same work: {torch_time:.2f} s; ratio {torch_time / bare:.1f}x")


if __name__ == "__main__":
    main()
