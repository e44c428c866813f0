# %% [markdown]
# # Stochastic gradient descent: the slope from a handful of examples
#
# *Annotates the article's section **Stochastic gradient descent (随机梯度下降)**.*
#
# The [training page](loop.md) walked downhill on a loss landscape by measuring the slope
# exactly, over every training example. That is *gradient descent*. With millions of examples one
# exact slope costs a full pass over the data, and the walk needs thousands of steps. *Stochastic*
# gradient descent (SGD) estimates the slope from a small random minibatch instead, a few dozen or
# a few hundred examples, and takes many cheap, slightly wrong steps rather than a few exact ones.
# The idea goes back to Robbins and Monro's stochastic approximation (1951); it is how essentially
# every network in this site, and in the article, is trained.
#
# This page writes SGD from scratch, checks it against `torch.optim.SGD`, and measures two things
# the article says: how good a minibatch's estimate of the slope is, and why the hard part of a
# high-dimensional landscape is not bad minima but flat *saddle points*.
#
# ## The update
#
# For parameters $\theta$, learning rate $\eta$ and the minibatch gradient
# $g = \nabla_\theta \frac{1}{|B|}\sum_{i\in B} \ell_i(\theta)$, one step is
#
# $$
# \theta \leftarrow \theta - \eta\, g .
# $$
#
# Two options of PyTorch's optimiser belong here (momentum has [its own page](momentum.md)):
# *weight decay* $\lambda$ adds $\lambda\theta$ to the gradient (the gradient of an L2 penalty
# $\frac{\lambda}{2}\lVert\theta\rVert^2$), and *maximize* climbs instead of descending. The class
# below uses PyTorch's argument names and its `Optimizer` base class, so it drops into any training
# loop, including [`fit`][nutshell.training.loop.fit]. Like PyTorch, it updates the tensors
# one by one on the CPU and all at once with multi-tensor (`_foreach`) kernels on CUDA. Its base,
# `CheckedOptimizer`, is shared with the [momentum](momentum.md) and [RMSprop](rmsprop.md)
# optimisers: it checks every option of every parameter group against its range (PyTorch itself
# accepts a negative learning rate inside a group) and leaves a subclass only the update itself.

# %%
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch


def check_option(
    name: str, value: Any, low: float, high: float = math.inf, *, interval: str
) -> float:
    """``value`` as a float inside ``interval``, or a ValueError naming ``name`` and the range.

    ``interval`` is the range as the message shows it, e.g. ``"[0, 1)"``; ``low`` and ``high``
    are its ends, and a round bracket excludes its end.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Invalid {name}: {value!r} (expected a number in {interval})")
    above = value > low if interval.startswith("(") else value >= low
    below = value < high if interval.endswith(")") else value <= high
    if not (above and below):  # also rejects NaN
        raise ValueError(f"Invalid {name}: {value} (expected a number in {interval})")
    return float(value)


class CheckedOptimizer(torch.optim.Optimizer):
    """The base of the site's from-scratch optimisers (SGD, momentum, Nesterov, RMSprop).

    Every option listed in ``_RANGES`` is checked in the defaults and in every parameter
    group; ``step`` hands each group's parameters that have a gradient to ``_update``.
    """

    # option -> (interval as shown in messages, low end, high end)
    _RANGES: dict[str, tuple[str, float, float]] = {}

    def _checked(self, group: dict[str, Any]) -> dict[str, Any]:
        """The group with its options checked (numbers as floats)."""
        out = dict(group)
        for key, (interval, low, high) in self._RANGES.items():
            if key in out:
                out[key] = check_option(key, out[key], low, high, interval=interval)
        return out

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise ValueError("Invalid param group: each group must be a dict with a 'params' key")
        super().add_param_group(self._checked(param_group))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Take one step; ``closure`` re-evaluates the loss and is called with gradients on."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            if any(p.grad.is_sparse for p in params):
                raise ValueError(f"{type(self).__name__} does not support sparse gradients")
            self._update(group, params)
        return loss

    def _update(self, group: dict[str, Any], params: list[torch.Tensor]) -> None:
        raise NotImplementedError


def _update_loop(params, grads, lr: float, weight_decay: float, maximize: bool) -> None:
    for param, grad in zip(params, grads):
        # g <- -g                  (ascend instead of descend)
        if maximize:
            grad = -grad
        # g <- g + lambda theta    (gradient of the L2 penalty lambda/2 ||theta||^2)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        # theta <- theta - eta g
        param.add_(grad, alpha=-lr)


def _update_foreach(params, grads, lr: float, weight_decay: float, maximize: bool) -> None:
    # the same three lines, each on all of a group's tensors at once
    if maximize:
        grads = torch._foreach_neg(grads)
    if weight_decay != 0:
        grads = torch._foreach_add(grads, params, alpha=weight_decay)
    torch._foreach_add_(params, grads, alpha=-lr)


class SGD(CheckedOptimizer):
    r"""Plain stochastic gradient descent, from scratch; matches ``torch.optim.SGD``.

    With gradient $g$, learning rate $\eta$ and weight decay $\lambda$:
    $g \leftarrow -g$ if ``maximize``; $g \leftarrow g + \lambda\theta$;
    $\theta \leftarrow \theta - \eta g$.

    Args:
        params: parameters, or dicts defining parameter groups (each may set its own options).
        lr: learning rate $\eta \ge 0$.
        weight_decay: $\lambda \ge 0$, the coefficient of the L2 penalty's gradient.
        maximize: ascend the objective instead of descending it.
        foreach: update a group's tensors with PyTorch's multi-tensor kernels (default: on
            CUDA only; on the CPU a plain loop allocates less and is faster, as in torch).

    Raises:
        ValueError: for a negative or non-finite ``lr`` or ``weight_decay`` (in the defaults or
            in any parameter group), or a parameter group without ``params``.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "maximize": bool(maximize),
            "foreach": foreach,
        }
        super().__init__(params, self._checked(defaults))

    _RANGES = {"lr": ("[0, inf)", 0.0, math.inf), "weight_decay": ("[0, inf)", 0.0, math.inf)}

    def _update(self, group: dict[str, Any], params: list[torch.Tensor]) -> None:
        grads = [p.grad for p in params]
        foreach = group["foreach"]
        if foreach is None:  # as torch: multi-tensor kernels on CUDA, a loop on the CPU
            foreach = all(p.device.type == "cuda" for p in params)
        (_update_foreach if foreach else _update_loop)(
            params, grads, group["lr"], group["weight_decay"], group["maximize"]
        )


# %% [markdown]
# A quick check in the page itself (the full comparison, over many steps, options, dtypes and
# edge cases, is in `tests/test_sgd.py`):

# %% active="ipynb"
# import torch.nn.functional as F
#
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import digits, generator
# from nutshell.device import default_device
#
# device = default_device()
# theta_ours = torch.randn(5, 3, generator=generator(0), dtype=torch.float64).to(device)
# theta_ref = theta_ours.clone().requires_grad_()
# theta_ours.requires_grad_()
# ours = SGD([theta_ours], lr=0.1, weight_decay=0.01)
# ref = torch.optim.SGD([theta_ref], lr=0.1, weight_decay=0.01)
# for _ in range(100):
#     for theta, opt in ((theta_ours, ours), (theta_ref, ref)):
#         opt.zero_grad()
#         (theta.sin() * theta).sum().backward()
#         opt.step()
# gap = (theta_ours - theta_ref).abs().max().item()
# claim(
#     "after 100 steps the from-scratch SGD equals torch.optim.SGD",
#     measured=gap,
#     expected="max |difference| = 0",
#     holds=gap == 0.0,
# )

# %% [markdown]
# ## How good is a minibatch's slope?
#
# The full gradient is the mean of the per-example gradients,
# $\nabla L = \frac{1}{N}\sum_i \nabla\ell_i$. A minibatch of $b$ examples drawn at random is an
# unbiased estimate of it, and because the examples are independent draws its error shrinks with
# the batch size:
#
# $$
# \mathbb{E}\,\lVert g_b - \nabla L\rVert^2 = \frac{\operatorname{tr}\Sigma}{b},
# $$
#
# where $\Sigma$ is the covariance of a single example's gradient. Doubling the batch halves the
# squared error, so a batch 100 times larger buys an estimate only 10 times more precise. That is
# the trade the article describes: a few hundred examples already point downhill well enough, and
# the saved computation buys many more steps.
#
# We check the $1/b$ law on a softmax classifier of the 8x8 digits, at its random starting point.
# `torch.func` gives every example's gradient in one vectorised call; a minibatch gradient is then
# the mean over a random subset, drawn with replacement.
#
#
#


# %%
def per_example_gradients(
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
) -> torch.Tensor:
    r"""Row ``i`` is $\nabla_\theta \ell(\theta; x_i, y_i)$, flattened, for every example."""
    grad = torch.func.grad(loss)
    return torch.func.vmap(grad, in_dims=(None, 0, 0))(theta, x, y).reshape(len(x), -1)


def minibatch_error(grads: torch.Tensor, batch: int, draws: int, gen: torch.Generator) -> float:
    r"""Mean of $\lVert g_b - \nabla L\rVert^2$ over ``draws`` random batches of size ``batch``."""
    if not 1 <= batch:
        raise ValueError(f"batch must be >= 1, got {batch}")
    full = grads.mean(0)
    idx = torch.randint(len(grads), (draws, batch), generator=gen).to(grads.device)
    # counts[d, i]: how often example i is in batch d, so batch d's gradient is counts[d] @ grads / b
    counts = torch.zeros(draws, len(grads), device=grads.device, dtype=grads.dtype)
    counts.scatter_add_(1, idx, torch.ones_like(idx, dtype=grads.dtype))
    estimates = counts @ grads / batch  # (draws, parameters)
    return (estimates - full).pow(2).sum(1).mean().item()


# %% active="ipynb"
# data = digits(device=device)
# x, y = data.train
# theta0 = (0.01 * torch.randn(64 * 10, generator=generator(1))).to(device)
#
#
# def softmax_loss(theta, xi, yi):
#     return F.cross_entropy((xi @ theta.reshape(64, 10)).unsqueeze(0), yi.unsqueeze(0))
#
#
# grads = per_example_gradients(softmax_loss, theta0, x, y)
# batches = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
# gen = generator(2)
# errors = [minibatch_error(grads, b, draws=2000, gen=gen) for b in batches]
# log_b, log_e = torch.log(torch.tensor(batches, dtype=torch.float64)), torch.log(
#     torch.tensor(errors, dtype=torch.float64)
# )
# slope = torch.linalg.lstsq(
#     torch.stack([log_b, torch.ones_like(log_b)], 1), log_e.unsqueeze(1)
# ).solution[0].item()
# relative = math.sqrt(errors[batches.index(256)]) / grads.mean(0).norm().item()
# print(f"{len(x)} examples, {grads.shape[1]} parameters; fitted slope {slope:.3f}")
# print(f"a batch of 256 estimates the gradient to within {relative:.1%} (root mean square)")
#
# fig, ax = figures.subplots(
#     title=f"Minibatch gradient error falls as batch$^{{{slope:.2f}}}$, i.e. 1/batch", width=6
# )
# ax.loglog(batches, errors, "o-", color=figures.color("sgd"), label="measured")
# ax.loglog(batches, [errors[0] / b for b in batches], ":", color=figures.color("baseline"),
#           label="$\\mathrm{tr}\\,\\Sigma / b$")
# ax.set(xlabel="batch size $b$", ylabel="$E\\,\\|g_b - \\nabla L\\|^2$")
# ax.legend()
# claim(
#     "the minibatch gradient's squared error falls as 1/batch",
#     measured=f"slope {slope:.3f}",
#     expected="-1 ± 0.1",
#     holds=abs(slope + 1) < 0.1,
# )

# %% [markdown]
# ## Saddle points: where descent crawls
#
# In a landscape of millions of dimensions, the article notes, the trouble is rarely a bad local
# minimum: there are many good minima, and at a critical point it is overwhelmingly likely that
# *some* direction still goes down. Such points are saddles, and near them the surface is almost
# flat, so the gradient, and with it the step, becomes tiny (Dauphin et al. 2014, "Identifying and
# attacking the saddle point problem in high-dimensional non-convex optimization").
#
# A two-dimensional example shows the effect:
#
# $$
# f(u, v) = u^2 + \tfrac14 v^4 - \tfrac12 v^2 ,
# $$
#
# with a saddle at the origin (a valley along $u$, a ridge along $v$) and minima at
# $(0, \pm 1)$ where $f = -\tfrac14$. Near the ridge the escape along $v$ grows only by a factor
# $1 + \eta$ per step, so a run that starts almost on the ridge spends most of its time on the
# plateau. Minibatch noise helps: it kicks the iterate off the ridge. We run our `SGD` from
# $(1, 10^{-6})$ with the exact gradient, from a start well off the ridge, and with the exact gradient
# plus Gaussian noise of the size a minibatch would add.
#
#
#


# %%
def saddle(theta: torch.Tensor) -> torch.Tensor:
    r"""$f(u, v) = u^2 + v^4/4 - v^2/2$: a saddle at the origin, minima at $(0, \pm 1)$."""
    u, v = theta[..., 0], theta[..., 1]
    return u**2 + v**4 / 4 - v**2 / 2


def descend(
    start: tuple[float, float],
    steps: int,
    lr: float = 0.1,
    noise: float = 0.0,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The path of ``SGD`` on :func:`saddle`, with optional Gaussian gradient noise."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    theta = torch.tensor(start, dtype=torch.float64).to(device).requires_grad_()
    opt = SGD([theta], lr=lr)
    kicks = (noise * torch.randn(steps, 2, generator=torch.Generator().manual_seed(seed))).to(
        theta.device, torch.float64
    )
    path = [theta.detach().clone()]
    for t in range(steps):
        opt.zero_grad()
        saddle(theta).backward()
        theta.grad += kicks[t]  # a minibatch's error: zero mean, fixed spread
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path)


def steps_to(path: torch.Tensor, level: float) -> int:
    """First step at which $f$ is below ``level`` (``len(path)`` if never)."""
    below = (saddle(path) < level).nonzero()
    return int(below[0]) if len(below) else len(path)


# %% active="ipynb"
# steps, level = 300, -0.24  # "arrived": within 0.01 of the minimum's -0.25
# ridge = descend((1.0, 1e-6), steps, device=device)
# generic = descend((1.0, 0.5), steps, device=device)
# noisy = [descend((1.0, 1e-6), steps, noise=0.05, seed=s, device=device) for s in range(20)]
# n_ridge, n_generic = steps_to(ridge, level), steps_to(generic, level)
# n_noisy = sorted(steps_to(p, level) for p in noisy)
# median_noisy = n_noisy[len(n_noisy) // 2]
# plateau = (saddle(ridge[:n_ridge]) > -0.01).float().mean().item()
# print(f"steps to f < {level}: near the ridge {n_ridge}, off the ridge {n_generic}, "
#       f"near the ridge with noise (median of 20) {median_noisy}")
# print(f"share of the ridge run spent on the plateau (f > -0.01): {plateau:.0%}")
#
# fig, (ax1, ax2) = figures.subplots(
#     1, 2, title=f"Starting on the ridge costs {n_ridge / n_generic:.1f}x the steps; "
#     f"noise cuts it to {median_noisy / n_generic:.1f}x", width=7.5, height=3.4
# )
# u, v = torch.meshgrid(torch.linspace(-1.2, 1.2, 100), torch.linspace(-1.5, 1.5, 100), indexing="ij")
# ax1.contourf(u, v, saddle(torch.stack([u, v], -1)), levels=20, cmap="Greys_r", alpha=0.8)
# ax1.grid(False)
# for p, name, label in ((ridge, "gd", "on the ridge"), (generic, "sgd", "off the ridge"),
#                        (noisy[0], "nesterov", "on the ridge + noise")):
#     p = p.cpu()
#     ax1.plot(p[:, 0], p[:, 1], ".-", ms=2, lw=1, color=figures.color(name), label=label)
# ax1.plot(0, 0, "x", color=figures.color("rmsprop"), ms=8, mew=2)
# ax1.set(xlabel="$u$", ylabel="$v$", title="paths (x: the saddle)")
# ax2.plot(saddle(ridge).cpu(), color=figures.color("gd"), label="on the ridge")
# ax2.plot(saddle(generic).cpu(), color=figures.color("sgd"), label="off the ridge")
# ax2.plot(saddle(noisy[0]).cpu(), color=figures.color("nesterov"), label="on the ridge + noise")
# ax2.axhline(0, color=figures.color("baseline"), ls=":", lw=1)
# ax2.set(xlabel="step", ylabel="$f(u, v)$", title="the plateau at f = 0")
# ax2.legend(loc="upper right")
# claim(
#     "descent that starts near a saddle's ridge needs several times more steps",
#     measured=f"{n_ridge} vs {n_generic} steps ({n_ridge / n_generic:.1f}x)",
#     expected="> 3x",
#     holds=n_ridge > 3 * n_generic,
# )
# claim(
#     "most of that run is spent on the saddle's plateau",
#     measured=f"{plateau:.0%} of its steps",
#     expected="> 50%",
#     holds=plateau > 0.5,
# )
# claim(
#     "gradient noise, like a minibatch's, escapes the saddle sooner",
#     measured=f"median {median_noisy} vs {n_ridge} steps",
#     expected="fewer steps in most runs",
#     holds=median_noisy < n_ridge and sum(n < n_ridge for n in n_noisy) >= 15,
# )

# %% [markdown]
# ## What to take away
#
# - SGD is gradient descent with the slope estimated from a minibatch; its squared error falls as
#   one over the batch size, so modest batches already point the right way.
# - Flat saddles, not bad minima, are what slow descent down in high dimensions; the noise of
#   small batches is one of the things that gets it moving again, and
#   [momentum](momentum.md) and [RMSprop](rmsprop.md) are two more.
