"""One training job, run as one process or as several under ``torchrun``.

The [data-parallel page](../training/data_parallel.md) and the tests start this module with
[`launch`][nutshell.distributed.launch] and compare what it trained with a single process:

    python -m torch.distributed.run --nproc_per_node 2 -m nutshell.bench.data_parallel --out run

It trains the [GPU-era page](../history/gpu_era.md)'s perceptron on scikit-learn's handwritten digits with
[`fit`][nutshell.training.loop.fit], unchanged: `fit` notices ``torchrun`` by itself. Rank 0
writes ``params-<batch size>.pt`` (the trained weights) and ``result.json`` (histories,
speeds, processes) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

from nutshell import distributed
from nutshell.data import digits
from nutshell.history.gpu_era import mlp
from nutshell.training.loop import History, fit


def train(
    *,
    epochs: int = 3,
    batch_size: int = 64,
    lr: float = 0.05,
    momentum: float = 0.9,
    hidden: int = 64,
    depth: int = 1,
    examples: int | None = None,
    device: str = "cpu",
    checkpoint: str | None = None,
    crash_rank: int | None = None,
    crash_step: int | None = None,
    precision: str = "fp32",
) -> tuple[nn.Module, History, float]:
    """Train the job here (one process, or this rank of a torchrun).

    Returns the trained model, its history and the examples per second after the first epoch.

    ``crash_rank``/``crash_step`` make that rank raise at that step, to test failures.
    """
    data = digits(device="cpu")
    x, y = data.x_train, data.y_train
    if examples is not None:
        x, y = x[:examples], y[:examples]
    model = mlp([hidden] * depth, inputs=64)  # the GPU-era page's tanh perceptron
    ctx = distributed.setup(device)

    marks: list[float] = []  # when each training step began, on this rank
    model.register_forward_pre_hook(
        lambda m, i: marks.append(time.perf_counter()) if m.training else None
    )

    def crash(step, model, loss):
        if step == crash_step and ctx.rank == crash_rank:
            raise RuntimeError(f"simulated crash at step {step}")

    history = fit(
        model,
        (x, y),
        test=(data.x_test, data.y_test),
        epochs=epochs,
        batch_size=batch_size,
        optimizer=lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum),
        device=device,
        checkpoint_path=checkpoint,
        callback=crash if crash_rank is not None else None,
        precision=precision,
        progress=False,
    )
    return model, history, _throughput(marks, batch_size, len(x))


def _throughput(marks: list[float], batch_size: int, n: int) -> float:
    """Examples per second after the first epoch (which pays one-off start-up costs).

    ``marks`` are the start times of the steps; the steps between the second epoch's first and
    the run's last are counted as full batches, which is exact when ``batch_size`` divides the
    training set.
    """
    per_epoch = -(-n // batch_size)
    if len(marks) <= per_epoch + 1:
        return math.nan
    return (len(marks) - 1 - per_epoch) * batch_size / (marks[-1] - marks[per_epoch])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the results (rank 0 writes)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--batch-size", type=int, nargs="+", default=[64], help="one run per global batch size"
    )
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--crash-rank", type=int, default=None)
    parser.add_argument("--crash-step", type=int, default=None)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args(argv)
    if args.checkpoint and len(args.batch_size) > 1:
        parser.error("--checkpoint takes one --batch-size (each run would resume the last)")
    options = {k: v for k, v in vars(args).items() if k not in ("out", "batch_size")}
    out = Path(args.out)
    runs = []
    for batch_size in args.batch_size:
        model, history, speed = train(batch_size=batch_size, **options)
        ctx = distributed.setup(args.device)
        if ctx.is_main:
            out.mkdir(parents=True, exist_ok=True)
            params = {k: v.cpu() for k, v in model.state_dict().items()}
            torch.save(params, out / f"params-{batch_size}.pt")
            runs.append(
                {
                    "batch_size": batch_size,
                    "examples_per_second": speed,
                    "history": history.to_dict(),
                }
            )
    if ctx.is_main:
        result = {"processes": ctx.world_size, "device": str(ctx.device), "runs": runs}
        (out / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
