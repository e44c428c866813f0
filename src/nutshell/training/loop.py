# %% [markdown]
# # Training: the loop that turns feedback into weights
#
# *Annotates the article's section **Training (训练)**.*
#
# A child learns the names of things because someone keeps telling it when it is right and when
# it is wrong. Supervised training of a network works on the same feedback: show an input, compare
# the network's answer with the label, and nudge every weight a little in the direction that makes
# the answer less wrong. Repeat over many examples, and the nudges add up to a classifier.
#
# This page builds the one training loop that every other page of nutshell uses, and checks three
# things the article says about training:
#
# 1. a network with random weights is no better than guessing: for 1,000 classes it is right
#    about 0.1% of the time, for the 10 digits about 10%;
# 2. with only two parameters, say $w_1 = -0.37$ and $w_2 = 1.14$, the error of every possible
#    setting is a landscape we can draw, and training is a walk downhill on it;
# 3. the walk happens "in fog": the loop never sees the landscape, only the slope under its feet.
#
# ## The loss: how wrong is the network?
#
# For a classifier with $K$ classes the network outputs scores $z \in \mathbb{R}^K$; the softmax
# turns them into probabilities and the cross-entropy loss is the negative log-probability of the
# correct class $y$:
#
# $$
# \ell(z, y) = -\log \frac{e^{z_y}}{\sum_{k=1}^{K} e^{z_k}} .
# $$
#
# A network that knows nothing spreads its probability evenly, so its loss is $\log K$ and its
# accuracy $1/K$. The function below computes the accuracy that all pages report.

# %%
from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from nutshell import checkpoint, distributed
from nutshell.data import Dataset, generator


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    r"""Share of rows whose highest score is the label: $\frac{1}{N}\sum_i [\arg\max_k z_{ik} = y_i]$."""
    return (scores.argmax(dim=1) == labels).float().mean().item()


# %% [markdown]
# ## The loop
#
# One *step* takes a minibatch $B$, computes the mean loss
# $L(\theta) = \frac{1}{|B|} \sum_{i \in B} \ell(f_\theta(x_i), y_i)$, back-propagates to get
# $\nabla_\theta L$ and lets the optimiser move the weights (for plain gradient descent,
# $\theta \leftarrow \theta - \eta \nabla_\theta L$). One *epoch* is a pass over the shuffled
# training set. That is the whole algorithm; everything else in `fit` is bookkeeping that a real
# run needs:
#
# - **device**: the model and data move to CUDA when it is available
#   ([`default_device`][nutshell.device.default_device]);
# - **seeds**: each epoch's shuffle comes from a generator seeded with `(seed, epoch)`, and the
#   global generator (used by dropout) is seeded once, so a run is reproducible;
# - **history**: loss and accuracy per epoch, on the training and the test set, and the loss of
#   every step;
# - **divergence**: a loss that becomes NaN or infinite stops the run with an error naming the
#   step, instead of silently training on garbage;
# - **checkpoints**: written atomically after each epoch and loaded with `weights_only=True`; a
#   run interrupted at any epoch and started again resumes exactly where it stopped;
# - **processes**: started under `torchrun`, the same call trains data-parallel on several
#   processes or GPUs, and ends where one process would have ([data parallelism](data_parallel.md));
# - **precision**: `precision="bf16"` runs the forward pass under bfloat16 autocast (mixed
#   precision), for GPUs whose bf16 arithmetic is much faster than fp32.
#


# %%
@dataclass
class History:
    """What a run of [`fit`][nutshell.training.loop.fit] measured, epoch by epoch."""

    loss: list[float] = field(default_factory=list)  # mean training loss per epoch
    accuracy: list[float] = field(default_factory=list)  # running training accuracy
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)  # loss of every step
    epochs: int = 0
    steps: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        return cls(**data)


def _check_fit_args(epochs, batch_size, x, y, max_steps, precision) -> None:
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps must be None or an int >= 1, got {max_steps!r}")
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r} "
            "(fp16 needs loss scaling, which fit does not do; bf16 does not)"
        )
    if len(x) != len(y):
        raise ValueError(f"train inputs and labels differ in length: {len(x)} vs {len(y)}")
    if len(x) == 0:
        raise ValueError("train is empty")


PRECISIONS = ("fp32", "bf16")


def autocast(device: torch.device, precision: str = "fp32"):
    """The context a forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision='bf16' needs a GPU with bfloat16; {device} has none")
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _sums(model, x, y, loss_fn, batch_size, precision="fp32") -> tuple[float, int, int]:
    """(summed loss, correct predictions, examples) of ``model`` on ``(x, y)``."""
    total, correct = 0.0, 0
    classify = not torch.is_floating_point(y)
    with torch.no_grad(), autocast(x.device, precision):
        for i in range(0, len(x), batch_size):
            out = model(x[i : i + batch_size])
            yb = y[i : i + batch_size]
            total += loss_fn(out, yb).float().item() * len(yb)
            if classify:
                correct += (out.argmax(dim=1) == yb).sum().item()
    return total, correct, len(x)


def evaluate(
    model: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    loss_fn: Callable = F.cross_entropy,
    batch_size: int = 1024,
) -> tuple[float, float | None]:
    """Mean loss and accuracy of ``model`` on ``data``, in eval mode and without gradients.

    Accuracy is ``None`` when the labels are not class indices.
    """
    x, y = data
    was_training = model.training
    model.eval()
    total, correct, n = _sums(model, x, y, loss_fn, batch_size)
    model.train(was_training)
    return total / n, (correct / n if not torch.is_floating_point(y) else None)


def fit(
    model: nn.Module,
    train: Dataset | tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    optimizer: Callable[..., torch.optim.Optimizer] | None = None,
    lr: float = 0.1,
    loss_fn: Callable = F.cross_entropy,
    batch_size: int = 64,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    scheduler: Callable | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    max_steps: int | None = None,
    callback: Callable[[int, nn.Module, float], bool | None] | None = None,
    checkpoint_path: str | Path | None = None,
    progress: bool | None = None,
    precision: str = "fp32",
) -> History:
    """Train ``model`` with minibatch gradient steps; the one loop every page uses.

    Started under ``torchrun`` with several processes, the same call trains data-parallel
    (see [`nutshell.distributed`][nutshell.distributed]): each rank computes the gradient of
    its slice of every batch, `DistributedDataParallel` averages them, and the run equals
    one process training on the same global batches.

    Args:
        model: the network; moved to ``device``.
        train: a [`Dataset`][nutshell.data.Dataset] (its test split becomes ``test`` unless
            given) or a pair ``(inputs, labels)``.
        epochs: passes over the shuffled training set.
        optimizer: a factory ``params -> Optimizer`` (called after the model has moved);
            default ``torch.optim.SGD(params, lr=lr)``.
        lr: learning rate of the default optimiser.
        loss_fn: ``loss_fn(outputs, labels)`` returning the mean loss of a batch.
        batch_size: examples per step, over all processes together (the last batch of an
            epoch may be smaller).
        test: data evaluated after each epoch.
        scheduler: a factory ``optimizer -> LR scheduler``, stepped once per epoch.
        device: where to train (default [`default_device`][nutshell.device.default_device];
            under ``torchrun``, ``cuda`` means each process's own GPU).
        seed: seeds the shuffles and the global generator (plus the rank, under ``torchrun``).
        max_steps: stop after this many steps in all.
        callback: called as ``callback(step, model, loss)`` after every step; returning
            ``True`` stops training (on every rank, if one of them asks).
        checkpoint_path: save a checkpoint there after each epoch (rank 0 only), and resume
            from it if it exists (every rank reads it).
        progress: show a progress bar (default: only in an interactive terminal, on rank 0).
        precision: ``"fp32"`` (default) or ``"bf16"``, mixed precision: the forward pass and
            the loss run under bfloat16 autocast, the weights and their updates stay fp32.

    Returns:
        The run's [`History`][nutshell.training.loop.History] (the same on every rank).

    Raises:
        ValueError: for an invalid argument (the message names it).
        FloatingPointError: when the loss becomes NaN or infinite (the message names the step).
    """
    if isinstance(train, Dataset):
        test = train.test if test is None else test
        train = train.train
    x, y = train
    _check_fit_args(epochs, batch_size, x, y, max_steps, precision)
    ctx = distributed.setup(device)
    if batch_size < ctx.world_size:
        raise ValueError(
            f"batch_size={batch_size} is the global batch and must be >= the number of "
            f"processes ({ctx.world_size}), so that every process gets examples"
        )
    dev = ctx.device
    model.to(dev)
    x, y = x.to(dev), y.to(dev)
    if test is not None:
        test = (ctx.shard(test[0]).to(dev), ctx.shard(test[1]).to(dev))
    opt = (optimizer or (lambda p: torch.optim.SGD(p, lr=lr)))(model.parameters())
    sched = scheduler(opt) if scheduler else None
    history = History()
    torch.manual_seed(seed + ctx.rank)

    if checkpoint_path is not None and Path(checkpoint_path).exists():
        state = checkpoint.load(checkpoint_path, map_location=dev)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler") is not None:
            sched.load_state_dict(state["scheduler"])
        history = History.from_dict(state["history"])
        rngs, cuda_rngs = _rank_states(state, ctx.world_size)
        if rngs is not None:
            torch.set_rng_state(rngs[ctx.rank].cpu())
        if dev.type == "cuda" and cuda_rngs is not None and cuda_rngs[ctx.rank] is not None:
            torch.cuda.set_rng_state(cuda_rngs[ctx.rank].cpu(), dev)

    # Under torchrun, DDP averages the ranks' gradients during backward (an all-reduce).
    net = model
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)

    show = (sys.stderr.isatty() if progress is None else progress) and ctx.is_main
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, initial=history.epochs, desc="epochs", leave=False)
    classify = not torch.is_floating_point(y)
    stop = max_steps is not None and history.steps >= max_steps
    model.train()
    step = (history.epochs, 0)
    try:
        for epoch in range(history.epochs, epochs):
            if stop:
                break
            order = torch.randperm(len(x), generator=generator(seed * 100_003 + epoch)).to(dev)
            total, correct, seen = 0.0, 0, 0
            for start in range(0, len(x), batch_size):
                step = (epoch, start // batch_size)
                batch = order[start : start + batch_size]
                idx = ctx.shard(batch)  # all of it, or this rank's slice
                xb, yb = x[idx], y[idx]
                # forward: L = mean loss of the batch; backward: dL/dtheta; step: the optimiser
                with autocast(dev, precision):
                    out = net(xb)
                    loss = loss_fn(out, yb) if len(idx) else out.sum() * 0.0
                # DDP averages the ranks' gradients; weighting each rank's mean by its share
                # of the batch makes that average the gradient of the whole batch's mean loss.
                scale = len(idx) * ctx.world_size / len(batch)
                opt.zero_grad(set_to_none=True)
                (loss * scale if scale != 1 else loss).backward()
                opt.step()
                hits = (out.argmax(dim=1) == yb).sum().item() if classify and len(idx) else 0
                batch_sum, hits = ctx.sum([loss.detach().float().item() * len(idx), hits])
                value = batch_sum / len(batch)
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"the loss became {value} at step {history.steps + 1} (epoch "
                        f"{epoch + 1}, batch {start // batch_size + 1}); try a smaller learning rate"
                    )
                history.steps += 1
                history.step_loss.append(value)
                total += batch_sum
                seen += len(batch)
                correct += int(hits)
                if callback is not None:
                    stop = ctx.any(bool(callback(history.steps, model, value)))
                if max_steps is not None and history.steps >= max_steps:
                    stop = True
                if stop:
                    break
            if sched is not None:
                sched.step()
            history.loss.append(total / seen)
            history.accuracy.append(correct / seen if classify else math.nan)
            if test is not None:
                model.eval()
                sums = _sums(model, test[0], test[1], loss_fn, 1024, precision)
                model.train()
                test_sum, test_correct, n = ctx.sum(sums)
                history.test_loss.append(test_sum / n)
                history.test_accuracy.append(
                    math.nan if torch.is_floating_point(test[1]) else test_correct / n
                )
            history.epochs = epoch + 1
            if checkpoint_path is not None:
                _save(checkpoint_path, ctx, model, opt, sched, history)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history.loss[-1]:.4f}")
    except BaseException as exc:
        if ctx.distributed:  # one line that names the rank; torchrun then stops the others
            print(
                f"nutshell: rank {ctx.rank} of {ctx.world_size} failed in epoch {step[0] + 1}, "
                f"batch {step[1] + 1}: {type(exc).__name__}: {exc}",
                file=sys.stderr,
                flush=True,
            )
        raise
    finally:
        if bar is not None:
            bar.close()
    return history


def _save(path, ctx, model, opt, sched, history) -> None:
    """Rank 0 writes the checkpoint (with every rank's random state); the others wait."""
    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state(ctx.device) if ctx.device.type == "cuda" else None
    rngs = ctx.gather((rng, cuda_rng))
    if ctx.is_main:
        state = {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict() if sched is not None else None,
            "history": history.to_dict(),
            "rng": rng,
            "cuda_rng": cuda_rng,
            "rngs": [r for r, _ in rngs],
            "cuda_rngs": [c for _, c in rngs] if cuda_rng is not None else None,
        }
        checkpoint.save(state, path)
    ctx.barrier()


def _rank_states(state: dict, world_size: int):
    """Per-rank random states saved by a run with this many processes, else rank 0's only.

    Resuming with a different number of processes continues the same global batches, but
    dropout draws different masks than the uninterrupted run would have.
    """
    rngs = state.get("rngs")
    if rngs is not None and len(rngs) == world_size:
        return rngs, state.get("cuda_rngs")
    if world_size == 1:
        return [state["rng"]], [state.get("cuda_rng")]
    return None, None


# %% [markdown]
# ## Demo 1: before training, a network is guessing
#
# Ten digit classes, so a network that has learned nothing should be right about one time in
# ten. We build the small multi-layer perceptron used below, twenty times with different random
# weights, and score each on the real handwritten digits that ship with scikit-learn.

# %% active="ipynb"
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import digits
# from nutshell.device import default_device
#
# data = digits(device=default_device())
# print(data)
#
#
# def mlp(seed: int) -> nn.Module:
#     torch.manual_seed(seed)
#     return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(data.device)
#
#
# with torch.no_grad():
#     chance = [accuracy(mlp(s)(data.x_test), data.y_test) for s in range(20)]
# mean_chance = sum(chance) / len(chance)
# print(f"accuracy of 20 untrained networks: mean {mean_chance:.1%}, "
#       f"range {min(chance):.1%} to {max(chance):.1%}")
# claim(
#     "an untrained network scores near chance (1 in 10)",
#     measured=f"{mean_chance:.1%}",
#     expected="10% ± 3 points",
#     holds=abs(mean_chance - 0.1) < 0.03,
# )

# %% [markdown]
# ## Demo 2: a landscape of two parameters
#
# The article pictures training with just two weights, $-0.37$ and $1.14$: every pair of values
# gives some error, so the error is a height above a plane, a mountain landscape. We can draw it
# for a model that really has two parameters: a logistic unit $p = \sigma(w_1 x + w_2)$ that tells
# the digit 1 from the digit 7 using a single feature $x$ (the mean ink in the centre of the
# image, standardised). Its loss is the mean binary cross-entropy.
#
# The loop does not see the map. At $(-0.37, 1.14)$ it only knows the local slope, takes a step
# downhill, and looks again: the white path below is what `fit` does with full-batch gradient
# descent, recorded through its `callback`.

# %% active="ipynb"
# ones_sevens = ((data.y_train == 1) | (data.y_train == 7)).nonzero().squeeze(1)
# images = data.x_train[ones_sevens].reshape(-1, 8, 8)
# feature = images[:, 2:6, 3:5].mean(dim=(1, 2))
# feature = ((feature - feature.mean()) / feature.std()).unsqueeze(1)
# target = (data.y_train[ones_sevens] == 7).float()
#
#
# class TwoParameters(nn.Module):
#     r"""$p = \sigma(w_1 x + w_2)$, started at the article's point $(-0.37, 1.14)$."""
#
#     def __init__(self):
#         super().__init__()
#         self.w = nn.Parameter(torch.tensor([-0.37, 1.14]))
#
#     def forward(self, x):
#         return self.w[0] * x.squeeze(1) + self.w[1]
#
#
# def bce(logits, y):
#     return F.binary_cross_entropy_with_logits(logits, y)
#
#
# model = TwoParameters()
# path = [model.w.detach().cpu().clone()]
# hist = fit(
#     model,
#     (feature, target),
#     epochs=60,
#     batch_size=len(target),  # full batch: the exact slope
#     lr=0.5,
#     loss_fn=bce,
#     callback=lambda step, m, loss: path.append(m.w.detach().cpu().clone()),
# )
# path = torch.stack(path)
#
# w1, w2 = torch.meshgrid(torch.linspace(-4, 1, 120), torch.linspace(-3, 3, 120), indexing="ij")
# x_cpu, y_cpu = feature.cpu().squeeze(1), target.cpu()
# logits = w1[..., None] * x_cpu + w2[..., None]
# landscape = F.binary_cross_entropy_with_logits(
#     logits, y_cpu.expand_as(logits), reduction="none"
# ).mean(-1)
# start_loss, end_loss = hist.step_loss[0], hist.step_loss[-1]
# grid_min = landscape.min().item()
#
# fig, ax = figures.subplots(
#     title=f"60 downhill steps take the loss from {start_loss:.2f} to {end_loss:.2f}", width=6
# )
# levels = torch.quantile(landscape.flatten(), torch.linspace(0.0, 0.97, 18)).numpy()
# cs = ax.contourf(w1.numpy(), w2.numpy(), landscape.numpy(), levels=levels, extend="max")
# fig.colorbar(cs, ax=ax, label="loss (binary cross-entropy)", format="%.2f")
# ax.grid(False)
# ax.plot(path[:, 0], path[:, 1], "w.-", lw=1.5, ms=3, label="gradient descent")
# ax.plot(-0.37, 1.14, "o", color="white", mec="black", ms=9, label="start (-0.37, 1.14)")
# ax.set(xlabel="$w_1$ (weight)", ylabel="$w_2$ (bias)")
# ax.legend(loc="lower left", labelcolor="white")
#
# print(f"loss at the start {start_loss:.3f}, after 60 steps {end_loss:.3f}, "
#       f"lowest point of the grid {grid_min:.3f}")
# claim(
#     "descending from (-0.37, 1.14) reaches the bottom of the drawn landscape",
#     measured=f"{end_loss:.3f} vs grid minimum {grid_min:.3f}",
#     expected="within 0.05",
#     holds=abs(end_loss - grid_min) < 0.05 and end_loss < start_loss,
# )

# %% [markdown]
# ## Demo 3: the loop at work
#
# The same small perceptron as in the first demo, now trained with `fit` for 30 epochs of
# minibatch steps. The history shows both curves the rest of the site keeps looking at: how well
# the network fits the examples it learns from, and how well it does on digits it never saw.

# %% active="ipynb"
# net = mlp(0)
# hist = fit(net, data, epochs=30, lr=0.1, batch_size=32, seed=0)
# final = hist.test_accuracy[-1]
# print(f"{hist.steps} steps; test accuracy after epoch 1: {hist.test_accuracy[0]:.1%}, "
#       f"after epoch {hist.epochs}: {final:.1%}")
#
# fig, ax = figures.subplots(title=f"From chance to {final:.0%} on unseen digits in 30 epochs")
# epochs = range(0, hist.epochs + 1)
# ax.plot(epochs, [mean_chance] + hist.accuracy, color=figures.color("train"), label="train")
# ax.plot(epochs, [mean_chance] + hist.test_accuracy, color=figures.color("test"), label="test")
# ax.axhline(0.1, color=figures.color("baseline"), ls=":", label="chance")
# ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
# ax.legend()
# claim(
#     "training takes the network from chance to over 90% test accuracy",
#     measured=f"{final:.1%}",
#     expected="> 90%",
#     holds=final > 0.9,
# )

# %% [markdown]
# ## What to take away
#
# - Random weights give chance accuracy; all the knowledge comes from the loop's feedback.
# - The loss is a landscape over the weights; two weights can be drawn, millions cannot, but the
#   loop works the same way in both: measure the slope where you stand, step downhill.
# - The [SGD page](sgd.md) looks at the slope the loop measures: estimated from a minibatch
#   instead of the whole data set, and what happens where the landscape goes flat.
