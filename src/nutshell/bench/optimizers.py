"""Step time of each from-scratch optimiser against torch.optim's default implementation.

Both optimisers of a pair update their own copy of the same ~10 million parameters with the
same gradients; their steps are timed alternately in the same run, and the ratio of medians is
reported (ours / torch). Run: ``python -m nutshell.bench.optimizers [--device cuda]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from nutshell.device import describe, resolve
from nutshell.training.momentum import Momentum, Nesterov
from nutshell.training.rmsprop import RMSprop
from nutshell.training.sgd import SGD

# (name, ours, torch's): each a factory params -> optimizer
CASES: list[tuple[str, Callable, Callable]] = [
    ("SGD", lambda p: SGD(p, lr=1e-3), lambda p: torch.optim.SGD(p, lr=1e-3)),
    (
        "SGD, weight decay",
        lambda p: SGD(p, lr=1e-3, weight_decay=1e-4),
        lambda p: torch.optim.SGD(p, lr=1e-3, weight_decay=1e-4),
    ),
    (
        "momentum",
        lambda p: Momentum(p, lr=1e-3, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
    ),
    (
        "Nesterov",
        lambda p: Nesterov(p, lr=1e-3, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    ),
    ("RMSprop", lambda p: RMSprop(p, lr=1e-3), lambda p: torch.optim.RMSprop(p, lr=1e-3)),
    (
        "RMSprop, centered + momentum",
        lambda p: RMSprop(p, lr=1e-3, centered=True, momentum=0.9),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, centered=True, momentum=0.9),
    ),
]


def make_params(width: int, device: torch.device) -> list[torch.Tensor]:
    """Parameters of a 3-layer MLP of the given width (width 2048: 10.5 million numbers)."""
    gen = torch.Generator().manual_seed(0)
    shapes = [
        (width, width),
        (width,),
        (width, width),
        (width,),
        (width // 2, width),
        (width // 2,),
    ]
    return [torch.randn(s, generator=gen).to(device).requires_grad_() for s in shapes]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(width: int = 2048, repeats: int = 15, warmup: int = 3, device=None) -> list[dict]:
    """Median step time of each pair, timed alternately; returns one row per case.

    Raises:
        ValueError: for ``width < 2``, ``repeats < 1`` or ``warmup < 0``.
    """
    if not isinstance(width, int) or width < 2:
        raise ValueError(f"width must be an int >= 2, got {width!r}")
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    dev = resolve(device)
    rows = []
    for name, ours_factory, torch_factory in CASES:
        params = {"ours": make_params(width, dev), "torch": make_params(width, dev)}
        grads = [torch.randn_like(p) for p in params["ours"]]
        for plist in params.values():
            for p, g in zip(plist, grads):
                p.grad = g.clone()
        opts = {"ours": ours_factory(params["ours"]), "torch": torch_factory(params["torch"])}
        times: dict[str, list[float]] = {"ours": [], "torch": []}
        for i in range(warmup + repeats):
            for key in ("ours", "torch") if i % 2 else ("torch", "ours"):
                # fresh gradients before every step, as in training: torch.optim's foreach
                # Nesterov adds the momentum into p.grad in place, so reused gradients would
                # grow on its side only (and the two runs would part)
                for p, g in zip(params[key], grads):
                    p.grad.copy_(g)
                _sync(dev)
                start = time.perf_counter()
                opts[key].step()
                _sync(dev)
                if i >= warmup:
                    times[key].append(time.perf_counter() - start)
        # float32 kernels may round differently (fused multiply-adds on GPUs): compare to a
        # tolerance, and report the largest difference
        difference = max(
            (a - b).abs().max().item() for a, b in zip(params["ours"], params["torch"])
        )
        same = all(
            torch.allclose(a, b, rtol=1e-5, atol=1e-6)
            for a, b in zip(params["ours"], params["torch"])
        )
        ours, ref = statistics.median(times["ours"]), statistics.median(times["torch"])
        rows.append(
            {
                "case": name,
                "parameters": sum(p.numel() for p in params["ours"]),
                "ours_ms": ours * 1e3,
                "torch_ms": ref * 1e3,
                "ratio": ours / ref,
                "same_result": same,
                "max_difference": difference,
                "device": describe(dev),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default=None)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = run(args.width, args.repeats, device=args.device)
    print(f"{rows[0]['parameters']:,} parameters on {rows[0]['device']}")
    print(f"{'optimizer':32} {'ours ms':>9} {'torch ms':>9} {'ratio':>7}  same result")
    for r in rows:
        print(
            f"{r['case']:32} {r['ours_ms']:9.2f} {r['torch_ms']:9.2f} {r['ratio']:7.2f}  "
            f"{r['same_result']}"
        )


if __name__ == "__main__":
    main()
