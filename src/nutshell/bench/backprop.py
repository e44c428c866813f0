"""Time one forward and backward pass: the article's back-propagation rules vs autograd.

The network is a 784-512-512-10 multi-layer perceptron (ReLU by default) on a batch of 128,
with the softmax cross-entropy as the error function. Both sides compute the loss and the
gradients of every weight and bias from the same weights and the same batch:

* ``manual``: :meth:`nutshell.training.backprop.MLP.gradients` (the rules);
* ``autograd``: the same network as ``nn.Linear`` layers, ``F.cross_entropy`` and
  ``loss.backward()``.

Timing uses ``torch.utils.benchmark`` (warm-up, CUDA synchronisation, a fixed thread count),
in interleaved rounds so that both sides see the same machine load; each side reports the
lowest median over the rounds. Usage::

    python -m nutshell.bench.backprop                 # CPU, 1 thread
    python -m nutshell.bench.backprop --device cuda --threads 2
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from nutshell.data import generator
from nutshell.device import describe, resolve
from nutshell.training.backprop import MLP


def run(
    device: str | torch.device | None = None,
    *,
    sizes: tuple[int, ...] = (784, 512, 512, 10),
    batch: int = 128,
    activation: str = "relu",
    threads: int = 1,
    rounds: int = 5,
    min_run_time: float = 0.5,
    dtype: torch.dtype = torch.float32,
) -> dict:
    """Time forward+backward of the rules and of autograd, in the same run.

    Args:
        device: where to run (default: :func:`nutshell.device.default_device`).
        sizes: nodes per layer, inputs first.
        batch: examples per pass.
        activation: the hidden layers' function.
        threads: CPU threads given to torch during the timing.
        rounds: interleaved timing rounds; each side keeps its lowest median.
        min_run_time: seconds each side is measured per round.
        dtype: the floating-point type.

    Returns:
        ``{"device", "sizes", "batch", "activation", "threads", "manual_s", "autograd_s",
        "ratio"}``, times in seconds per forward+backward and ``ratio = manual / autograd``.
    """
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an int >= 1, got {rounds!r}")
    if not min_run_time > 0:
        raise ValueError(f"min_run_time must be > 0, got {min_run_time!r}")
    dev = resolve(device)
    net = MLP(list(sizes), activation, dtype=dtype, device=dev)
    model = net.to_torch()
    x = torch.randn(batch, sizes[0], generator=generator(0), dtype=dtype).to(dev)
    y = torch.randint(0, sizes[-1], (batch,), generator=generator(1)).to(dev)

    def manual() -> None:
        net.gradients(x, y)

    def autograd() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    # the two sides must compute the same thing before their speeds mean anything
    loss, grads = net.gradients(x, y)
    autograd()
    first = model[0].weight.grad.T
    if not torch.allclose(grads[0][0], first, rtol=1e-3, atol=1e-6):
        raise RuntimeError("the rules and autograd disagree; fix that before timing")

    timers = {
        name: benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads, label=name)
        for name, fn in (("manual", manual), ("autograd", autograd))
    }
    best = {name: float("inf") for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.blocked_autorange(min_run_time=min_run_time).median)
    return {
        "device": describe(dev) if dev.type == "cuda" else f"cpu ({threads} thread(s))",
        "sizes": list(sizes),
        "batch": batch,
        "activation": activation,
        "threads": threads,
        "manual_s": best["manual"],
        "autograd_s": best["autograd"],
        "ratio": best["manual"] / best["autograd"],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: auto)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--activation", default="relu", choices=["relu", "tanh", "sigmoid"])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(
        args.device,
        batch=args.batch,
        activation=args.activation,
        threads=args.threads,
        rounds=args.rounds,
    )
    sizes = "-".join(map(str, result["sizes"]))
    print(f"MLP {sizes} ({result['activation']}), batch {result['batch']}, {result['device']}")
    print(f"  rules (manual) : {result['manual_s'] * 1e3:8.3f} ms per forward+backward")
    print(f"  autograd       : {result['autograd_s'] * 1e3:8.3f} ms per forward+backward")
    print(f"  ratio manual / autograd: {result['ratio']:.3f}")
    return result


if __name__ == "__main__":
    main()
