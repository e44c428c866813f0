# %% [markdown]
# # RMSprop: divide each gradient by its recent size
#
# *Annotates the article's section **RMSprop (均方根传播)**.*
#
# A single learning rate has to serve every weight of a network, yet their gradients can differ
# by orders of magnitude: tiny on a plateau or near a saddle point, huge on a cliff, and changing
# as training goes on. RMSprop gives every weight its own scale. It keeps a running mean of the
# squared gradients of that weight, and divides each new gradient by the root of that mean: the
# *root mean square* (RMS) of its recent gradients. What is left is roughly the gradient's sign and
# how it compares with its recent history, so a weight on a plateau takes useful steps and a
# weight on a cliff does not explode.
#
# RMSprop was never published in a paper. Geoffrey Hinton presented it in lecture 6e of his 2012
# Coursera course *Neural Networks for Machine Learning* (the article's additional material),
# crediting Tijmen Tieleman; it is the minibatch cousin of Rprop (Riedmiller and Braun, 1993,
# *A direct adaptive method for faster backpropagation learning: the RPROP algorithm*), which uses
# only the sign of the gradient. Alex Graves (2013, *Generating sequences with recurrent neural
# networks*) used a *centered* variant to train LSTMs, the kind of network the article says
# RMSprop is popular for. Three relatives appear in the comparison below: Adagrad (Duchi, Hazan
# and Singer, 2011, *Adaptive subgradient methods for online learning and stochastic
# optimization*), which divides by the root of the *sum* of all past squared gradients; Adadelta
# (Zeiler, 2012, *ADADELTA: an adaptive learning rate method*); and Adam (Kingma and Ba, 2015,
# *Adam: a method for stochastic optimization*), which adds momentum and a bias correction.
#
# This page writes RMSprop from scratch with every option of `torch.optim.RMSprop`, checks the
# article's two numbers, and reruns the comparison of optimisers around a saddle point that the
# article shows as an animation by Alec Radford.
#
# ## The update
#
# For each weight, with gradient $g$, learning rate $\eta$, decay $\alpha$ (0.99 in PyTorch, 0.9
# in the lecture) and a small $\epsilon$ that keeps the division finite:
#
# $$
# v \leftarrow \alpha v + (1 - \alpha)\, g^2, \qquad
# \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{v} + \epsilon} .
# $$
#
# $v$ starts at zero and, unlike Adam, is not corrected for that start: the first step divides
# $g$ by $\sqrt{1 - \alpha}\,|g|$, a step of $\eta / \sqrt{1 - \alpha}$ (ten times $\eta$ for
# $\alpha = 0.99$). PyTorch adds the options that the class below keeps, with the same names:
#
# - `centered` (Graves, 2013) also keeps a running mean $\bar g$ of the gradients and divides by
#   the running *standard deviation* $\sqrt{v - \bar g^2}$ instead of the RMS;
# - `momentum` $\mu$ sums the scaled steps: $b \leftarrow \mu b + g / (\sqrt{v} + \epsilon)$, then
#   $\theta \leftarrow \theta - \eta b$;
# - `weight_decay` $\lambda$ adds $\lambda\theta$ to the gradient first, and `maximize` climbs.

# %%
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from nutshell.training.sgd import CheckedOptimizer

__all__ = ["RMSprop", "hinton_rmsprop"]


class RMSprop(CheckedOptimizer):
    """RMSprop from scratch; matches ``torch.optim.RMSprop`` step for step, every option.

    With gradient $g$, learning rate $\\eta$, decay $\\alpha$ and $\\epsilon$:

    $$v \\leftarrow \\alpha v + (1 - \\alpha) g^2, \\qquad
    \\theta \\leftarrow \\theta - \\eta \\frac{g}{\\sqrt{v} + \\epsilon}$$

    (centered: $\\bar g \\leftarrow \\alpha \\bar g + (1 - \\alpha) g$ and
    $\\sqrt{v - \\bar g^2}$ in the denominator; momentum: $b \\leftarrow \\mu b + g /
    (\\sqrt{v} + \\epsilon)$, $\\theta \\leftarrow \\theta - \\eta b$).

    Args:
        params: parameters, or dicts defining parameter groups (each may set its own options).
        lr: learning rate $\\eta \\ge 0$.
        alpha: decay of the running mean of squared gradients, $\\alpha \\in [0, 1)$.
        eps: $\\epsilon \\ge 0$, added to the root (outside it).
        weight_decay: $\\lambda \\ge 0$, adds $\\lambda\\theta$ to the gradient.
        momentum: $\\mu \\in [0, 1)$.
        centered: divide by the running standard deviation instead of the RMS.
        maximize: ascend the objective instead of descending it.
        foreach: update whole lists of tensors with ``torch._foreach_*`` kernels (default:
            when every parameter is on CUDA, as PyTorch does).

    Raises:
        ValueError: for an option outside its range (the message names it and the range),
            in the defaults or in a parameter group.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": bool(centered),
            "maximize": bool(maximize),
            "foreach": foreach,
        }
        super().__init__(params, self._checked(defaults))

    _RANGES = {
        "lr": ("[0, inf)", 0.0, math.inf),
        "alpha": ("[0, 1)", 0.0, 1.0),
        "eps": ("[0, inf)", 0.0, math.inf),
        "weight_decay": ("[0, inf)", 0.0, math.inf),
        "momentum": ("[0, 1)", 0.0, 1.0),
    }

    def _update(self, group: dict[str, Any], params: list[torch.Tensor]) -> None:
        """One step for the parameters of ``group`` that have a gradient."""
        grads = [p.grad for p in params]
        if any(p.is_complex() for p in params):
            raise ValueError("RMSprop (nutshell) supports real parameters only")
        states = [self.state[p] for p in params]
        foreach = group["foreach"]
        if foreach is None:  # PyTorch's default: one kernel per list on CUDA
            foreach = all(p.is_cuda for p in params)
        update = _rmsprop_foreach if foreach else _rmsprop_per_tensor
        update(
            params,
            grads,
            _buffers(states, params, group),
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            maximize=group["maximize"],
        )


def _buffers(states, params, group):
    """Running means v, gbar (centered) and momentum b of each parameter, zero at first."""
    for s, p in zip(states, params):
        if "square_avg" not in s:
            s["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if group["centered"] and "grad_avg" not in s:
            s["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        if group["momentum"] > 0 and "momentum_buffer" not in s:
            s["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return (
        [s["square_avg"] for s in states],
        [s["grad_avg"] for s in states] if group["centered"] else None,
        [s["momentum_buffer"] for s in states] if group["momentum"] > 0 else None,
    )


# %% [markdown]
# The update, one parameter tensor at a time, each equation above the line that computes it:
#
#
#


# %%
def _rmsprop_per_tensor(
    params, grads, buffers, *, lr, alpha, eps, weight_decay, momentum, maximize
):
    """The update, one parameter tensor at a time (PyTorch's default on the CPU)."""
    square_avgs, grad_avgs, bufs = buffers
    for i, (theta, g, v) in enumerate(zip(params, grads, square_avgs)):
        # g <- -g                          (maximize: climb instead of descend)
        if maximize:
            g = -g
        # g <- g + lambda theta            (weight decay)
        if weight_decay != 0:
            g = g.add(theta, alpha=weight_decay)
        # v <- alpha v + (1 - alpha) g^2   (running mean of squared gradients)
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if grad_avgs is not None:
            # gbar <- alpha gbar + (1 - alpha) g      (running mean of gradients)
            grad_avgs[i].lerp_(g, 1 - alpha)
            # avg <- sqrt(v - gbar^2)                 (running standard deviation)
            avg = v.addcmul(grad_avgs[i], grad_avgs[i], value=-1).sqrt_()
        else:
            # avg <- sqrt(v)                          (running RMS)
            avg = v.sqrt()
        # avg <- avg + eps
        avg = avg.add_(eps)
        if bufs is not None:
            # b <- mu b + g / avg
            bufs[i].mul_(momentum).addcdiv_(g, avg)
            # theta <- theta - eta b
            theta.add_(bufs[i], alpha=-lr)
        else:
            # theta <- theta - eta g / avg
            theta.addcdiv_(g, avg, value=-lr)


# %% [markdown]
# The same rule on whole lists of tensors, one `torch._foreach_*` call per line (PyTorch's
# default on CUDA, where one launch per list beats one per tensor):
#
#
#


# %%
def _rmsprop_foreach(params, grads, buffers, *, lr, alpha, eps, weight_decay, momentum, maximize):
    """The same update on lists of tensors."""
    square_avgs, grad_avgs, bufs = buffers
    # g <- -g
    if maximize:
        grads = torch._foreach_neg(grads)
    # g <- g + lambda theta
    if weight_decay != 0:
        if maximize:
            torch._foreach_add_(grads, params, alpha=weight_decay)
        else:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
    # v <- alpha v + (1 - alpha) g^2
    torch._foreach_mul_(square_avgs, alpha)
    torch._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
    if grad_avgs is not None:
        # gbar <- alpha gbar + (1 - alpha) g
        torch._foreach_lerp_(grad_avgs, grads, 1 - alpha)
        # avg <- sqrt(v - gbar^2)
        avg = torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1)
        torch._foreach_sqrt_(avg)
    else:
        # avg <- sqrt(v)
        avg = torch._foreach_sqrt(square_avgs)
    # avg <- avg + eps
    torch._foreach_add_(avg, eps)
    if bufs is not None:
        # b <- mu b + g / avg
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_addcdiv_(bufs, grads, avg)
        # theta <- theta - eta b
        torch._foreach_add_(params, bufs, alpha=-lr)
    else:
        # theta <- theta - eta g / avg
        torch._foreach_addcdiv_(params, grads, avg, value=-lr)


# %% [markdown]
# The lecture's original has no $\epsilon$, no centering and a shorter memory, $\alpha = 0.9$
# (about the last ten gradients instead of the last hundred). It is one line on top of the class:
#
#
#


# %%
def hinton_rmsprop(
    params: Iterable[torch.Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3
) -> RMSprop:
    """RMSprop as Hinton's 2012 lecture (6e) gives it: $\\alpha = 0.9$, no $\\epsilon$, not centered.

    $$v \\leftarrow 0.9\\, v + 0.1\\, g^2, \\qquad \\theta \\leftarrow \\theta - \\eta\\, g / \\sqrt{v}$$

    A weight whose gradients have all been exactly zero gets $0/0$, a NaN: the reason
    implementations add $\\epsilon$.
    """
    return RMSprop(params, lr=lr, alpha=0.9, eps=0.0)


# %% [markdown]
# ## Checked against PyTorch
#
# The class takes the same steps as `torch.optim.RMSprop` on a small network for 300 steps with
# every option switched on at once (centered, momentum, weight decay) and a learning rate that a
# PyTorch scheduler lowers twice. `tests/test_rmsprop.py` checks every combination of options one
# by one, float32 and float64, missing and zero gradients, two optimisers side by side, a
# `state_dict` round trip, the lecture variant, and the error messages.

# %% active="ipynb"
# import copy
#
# import torch.nn.functional as F
# from torch import nn
#
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import generator
# from nutshell.device import default_device
# from nutshell.training.momentum import Momentum, Nesterov
#
# device = default_device()
# x = torch.randn(64, 10, generator=generator(1), dtype=torch.float64).to(device)
# y = torch.randn(64, 1, generator=generator(2), dtype=torch.float64).to(device)
# torch.manual_seed(0)
# net = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 1)).double().to(device)
# twin = copy.deepcopy(net)
# options = dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=1e-3, momentum=0.5, centered=True)
# for model, opt in ((net, RMSprop(net.parameters(), **options)),
#                    (twin, torch.optim.RMSprop(twin.parameters(), **options))):
#     schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.3)
#     for _ in range(300):
#         opt.zero_grad()
#         F.mse_loss(model(x), y).backward()
#         opt.step()
#         schedule.step()
# gap = max((a - b).abs().max().item() for a, b in zip(net.parameters(), twin.parameters()))
# print(f"largest difference after 300 steps: {gap:.1e}")
# claim(
#     "RMSprop (centered, with momentum and weight decay) takes the same steps as torch.optim.RMSprop",
#     measured=f"{gap:.1e}",
#     expected="max |difference| < 1e-12 (float64)",
#     holds=gap < 1e-12,
# )

# %% [markdown]
# ## The article's two numbers
#
# The article gives two examples of the division. On a plateau a gradient of 0.00001 arrives
# while the running RMS of recent gradients is 0.00005: the step is $0.00001/0.00005 = 0.2$ times
# the learning rate, far larger than plain SGD's $0.00001$. On a cliff a gradient of 100 arrives
# with a running RMS of 25: the step is $100/25 = 4$ times the learning rate instead of 100.
# Below, the optimiser itself computes both. We give it a history of earlier gradients whose
# mean square, once the new gradient is folded in, has exactly the article's root, and take one
# step with $\eta = 1$ and $\epsilon = 0$.

# %% active="ipynb"
# def article_step(grad: float, rms: float, alpha: float = 0.99) -> float:
#     """RMSprop's step (lr 1, eps 0) on ``grad`` when the running RMS, ``grad`` included, is ``rms``."""
#     theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
#     opt = RMSprop([theta], lr=1.0, alpha=alpha, eps=0.0)
#     # earlier gradients with mean square v such that alpha v + (1 - alpha) grad^2 = rms^2
#     history = (rms**2 - (1 - alpha) * grad**2) / alpha
#     opt.state[theta]["square_avg"] = torch.tensor([history], dtype=torch.float64)
#     theta.grad = torch.tensor([grad], dtype=torch.float64)
#     opt.step()
#     return -theta.item()
#
#
# plateau, cliff = article_step(0.00001, 0.00005), article_step(100.0, 25.0)
# print(f"plateau: gradient 0.00001, RMS 0.00005 -> step {plateau:.6f}")
# print(f"cliff:   gradient 100,     RMS 25      -> step {cliff:.6f}")
# claim("a gradient of 0.00001 over a running RMS of 0.00005 gives a step of 0.2",
#       measured=plateau, expected=0.2, holds=abs(plateau - 0.2) < 1e-9)
# claim("a gradient of 100 over a running RMS of 25 gives a step of 4",
#       measured=cliff, expected=4, holds=abs(cliff - 4) < 1e-9)

# %% [markdown]
# The same effect over time: one weight sees 60 steps of plateau (gradient 0.00001), 40 steps of
# cliff (gradient 100), then the plateau again. Plain SGD's step follows the gradient across seven
# orders of magnitude. RMSprop's step stays near $\eta$ in both regimes; the transitions show the
# memory of the running mean. Entering the cliff, the mean still remembers the plateau, so the
# first steps overshoot (by up to $1/\sqrt{1-\alpha}$). Leaving it, the mean remembers the cliff
# and the steps collapse until it has forgotten a factor of $10^{14}$ in $v$: the lecture's
# $\alpha = 0.9$ forgets ten times faster than PyTorch's $0.99$.

# %% active="ipynb"
# gradients = [1e-5] * 60 + [100.0] * 40 + [1e-5] * 400
#
#
# def steps_taken(make) -> list[float]:
#     """|change of the weight| / lr for each gradient in ``gradients``."""
#     theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
#     opt = make([theta])
#     taken = []
#     for g in gradients:
#         before = theta.item()
#         theta.grad = torch.tensor([g], dtype=torch.float64)
#         opt.step()
#         taken.append(abs(theta.item() - before) / opt.param_groups[0]["lr"])
#     return taken
#
#
# curves = {
#     "plain SGD": steps_taken(lambda p: torch.optim.SGD(p, lr=1e-3)),
#     "RMSprop, alpha 0.99 (PyTorch)": steps_taken(lambda p: RMSprop(p, lr=1e-3)),
#     "RMSprop, alpha 0.9 (lecture)": steps_taken(lambda p: hinton_rmsprop(p, lr=1e-3)),
# }
# steady = {name: (c[55], c[95]) for name, c in curves.items()}  # end of plateau, end of cliff
# for name, (on_plateau, on_cliff) in steady.items():
#     print(f"{name:>30}: step / lr {on_plateau:.3g} on the plateau, {on_cliff:.3g} on the cliff")
# recovered = {}
# for name in list(curves)[1:]:
#     back = [i for i, c in enumerate(curves[name]) if i >= 100 and c > 0.5]
#     recovered[name] = back[0] - 100 if back else None
#     print(f"{name:>30}: back above half the learning rate "
#           + (f"{recovered[name]} steps after the cliff" if back else "not within 400 steps"))
# sgd_span = steady["plain SGD"][1] / steady["plain SGD"][0]
# rms_span = max(steady["RMSprop, alpha 0.99 (PyTorch)"]) / min(steady["RMSprop, alpha 0.99 (PyTorch)"])
#
# fig, ax = figures.subplots(
#     title=f"Gradients span a factor {sgd_span:,.0f}; RMSprop's steps stay within {rms_span:.1f}x",
#     width=7,
# )
# for name, c in curves.items():
#     key = "sgd" if name == "plain SGD" else "rmsprop"
#     ax.semilogy(c, color=figures.color(key), label=name, ls="--" if "lecture" in name else "-")
# ax.axvspan(60, 100, color=figures.color("baseline"), alpha=0.12, lw=0)
# for at, text in ((30, "plateau\ng = 1e-5"), (80, "cliff\ng = 100"), (300, "plateau again, g = 1e-5")):
#     ax.text(at, 1e-8, text, ha="center", va="bottom", fontsize=8)
# ax.set(xlabel="step", ylabel="|step| / learning rate", ylim=(1e-9, 500))
# ax.legend(loc="upper right")
# claim(
#     "RMSprop's step stays near the learning rate on the plateau and on the cliff",
#     measured=f"{rms_span:.2f}x range (plain SGD {sgd_span:.0e}x)",
#     expected="within 2x",
#     holds=rms_span < 2,
# )

# %% [markdown]
# Without $\epsilon$ the lecture's rule divides zero by zero for a weight that has never received a
# gradient other than exactly zero (a dead unit, a padding embedding). PyTorch's default
# $\epsilon = 10^{-8}$ is there for that case:

# %% active="ipynb"
# after = {}
# for name, make in (("lecture (no eps)", lambda p: hinton_rmsprop(p, lr=0.01)),
#                    ("eps = 1e-8", lambda p: RMSprop(p, lr=0.01, alpha=0.9))):
#     w = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
#     opt = make([w])
#     (w[0] ** 2).backward()  # w[1] gets a gradient of exactly 0
#     opt.step()
#     after[name] = w.detach().tolist()
#     print(f"{name:>17}: weights after one step {after[name]}")
# claim(
#     "without eps, a weight whose gradient is exactly zero becomes NaN (0/0); eps keeps it at 0",
#     measured=f"{after['lecture (no eps)'][1]} vs {after['eps = 1e-8'][1]}",
#     holds=math.isnan(after["lecture (no eps)"][1]) and after["eps = 1e-8"][1] == 0.0,
# )

# %% [markdown]
# ## Around a saddle point
#
# The article's figure is Alec Radford's animation of optimisers around a saddle point, with the
# remark that saddle points, not bad minima, are thought to be the main obstacle in training deep
# networks (Dauphin et al., 2014, *Identifying and attacking the saddle point problem in
# high-dimensional non-convex optimization*). Near a saddle the gradient is small in every
# direction, and along the way out it is smallest of all: exactly where dividing by the recent
# gradient size should help.
#
# We rerun that comparison with the optimisers of this site (plain SGD; momentum and Nesterov
# from [the momentum page](momentum.md); RMSprop from above) and three relatives from PyTorch for
# context: Adagrad, Adadelta and Adam. Two surfaces:
#
# - the saddle $f(x, y) = x^2 - y^2$, started at $(1, 0.001)$, almost exactly on the ridge that
#   leads into the saddle point; a method has *escaped* when the loss is one unit below the saddle's
#   level ($f < -1$);
# - Beale's function $f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2$,
#   a classic test with flat valleys and walls that steepen fast, started at $(1, 1.5)$; a method
#   has *arrived* the first time it comes within 0.05 of the minimum $(3, 0.5)$.
#
# On the saddle every method escapes sooner with a larger learning rate, so there is no "best" one
# to pick: all use $\eta = 0.01$, except Adadelta, which has no learning rate in its paper (PyTorch's
# factor of 1). On Beale each method gets the learning rate from a grid that arrives soonest.

# %% active="ipynb"
# def saddle(theta: torch.Tensor) -> torch.Tensor:
#     """f(x, y) = x^2 - y^2: a saddle point at the origin."""
#     return theta[..., 0] ** 2 - theta[..., 1] ** 2
#
#
# def beale(theta: torch.Tensor) -> torch.Tensor:
#     """Beale's function; its minimum is 0 at (3, 0.5)."""
#     x, y = theta[..., 0], theta[..., 1]
#     return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
#
#
# OPTIMISERS = {  # name: (site colour, class, options)
#     "SGD": ("sgd", torch.optim.SGD, {}),
#     "momentum": ("momentum", Momentum, {"momentum": 0.9}),
#     "Nesterov": ("nesterov", Nesterov, {"momentum": 0.9}),
#     "RMSprop": ("rmsprop", RMSprop, {}),
#     "Adagrad": ("adagrad", torch.optim.Adagrad, {}),
#     "Adadelta": ("adadelta", torch.optim.Adadelta, {}),
#     "Adam": ("adam", torch.optim.Adam, {}),
# }
#
#
# def paths(name: str, f, start, lrs: list[float], steps: int) -> torch.Tensor:
#     """Paths (steps + 1, runs, 2) of one optimiser on ``f``, one run per learning rate.
#
#     Each run is its own parameter group, so the runs share an optimiser but never interact.
#     """
#     _, cls, options = OPTIMISERS[name]
#     points = [torch.tensor(start, dtype=torch.float64, device=device, requires_grad=True)
#               for _ in lrs]
#     opt = cls([{"params": [p], "lr": lr} for p, lr in zip(points, lrs)], **options)
#     out = [torch.stack(points).detach().clone()]
#     for _ in range(steps):
#         opt.zero_grad()
#         f(torch.stack(points)).sum().backward()
#         opt.step()
#         out.append(torch.stack(points).detach().clone())
#     return torch.stack(out).cpu()
#
#
# def first(condition: torch.Tensor) -> int | None:
#     """The first step where ``condition`` holds (None: never)."""
#     hits = condition.nonzero()
#     return hits[0].item() if len(hits) else None
#
#
# SADDLE_START, SADDLE_STEPS = (1.0, 0.001), 400
# on_saddle = {}
# for name in OPTIMISERS:
#     lr = 1.0 if name == "Adadelta" else 0.01
#     path = paths(name, saddle, SADDLE_START, [lr], SADDLE_STEPS)[:, 0]
#     on_saddle[name] = dict(path=path, lr=lr, steps=first(saddle(path) < -1),
#                            closest=path.norm(dim=-1).min().item())
#
# BEALE_START, BEALE_STEPS = (1.0, 1.5), 500
# MINIMUM = torch.tensor([3.0, 0.5], dtype=torch.float64)
# grid = torch.logspace(-3, 0, 13).tolist()  # 0.001 to 1, five per decade
# on_beale = {}
# for name in OPTIMISERS:
#     runs = paths(name, beale, BEALE_START, grid, BEALE_STEPS)
#     distance = (runs - MINIMUM).norm(dim=-1)  # (steps + 1, runs); NaN once a run diverged
#     arrived = [first(distance[:, i] < 0.05) for i in range(len(grid))]
#     if any(a is not None for a in arrived):  # the learning rate that arrives soonest
#         i = min((a, i) for i, a in enumerate(arrived) if a is not None)[1]
#     else:  # none arrives: show the run that ends closest
#         i = torch.nan_to_num(distance[-1], nan=float("inf")).argmin().item()
#     path = runs[:, i]
#     on_beale[name] = dict(
#         path=path, lr=grid[i], steps=arrived[i],
#         # at the end: mean distance from the minimum and mean step length, over 50 steps
#         end_distance=distance[-50:, i].mean().item(),
#         end_step=(path[-50:] - path[-51:-1]).norm(dim=-1).mean().item(),
#     )
#
#
# def order(results: dict) -> str:
#     done = sorted((r["steps"], n) for n, r in results.items() if r["steps"] is not None)
#     never = [n for n, r in results.items() if r["steps"] is None]
#     return " < ".join(f"{n} {s}" for s, n in done) + "".join(f"; {n} never" for n in never)
#
#
# print(f"{'':>9}  saddle: escaped at step (closest to the saddle)   "
#       "Beale: arrived at step (best lr; at the end: distance, step length)")
# for name in OPTIMISERS:
#     a, b = on_saddle[name], on_beale[name]
#     print(f"{name:>9}  {str(a['steps']):>6} ({a['closest']:.3f})"
#           f"{str(b['steps']):>31} (lr {b['lr']:.3g}; {b['end_distance']:.3g}, "
#           f"{b['end_step']:.2g})")
# print("escape order on the saddle:", order(on_saddle))
# print("arrival order on Beale:    ", order(on_beale))

# %% [markdown]
# The paths show what the numbers mean. On the saddle, plain SGD, momentum and Nesterov roll down
# the ridge almost into the saddle point, where every gradient is tiny, and only then fall off
# the side; momentum first overshoots across the ridge and swings back. The adaptive methods turn
# off the ridge at once, because their steps along $y$ are measured against the tiny gradients
# seen along $y$ so far, not against the learning rate.

# %% active="ipynb"
# import matplotlib.pyplot as plt
#
#
# def surface(ax, f, xlim, ylim, levels):
#     xs, ys = torch.meshgrid(torch.linspace(*xlim, 200, dtype=torch.float64),
#                             torch.linspace(*ylim, 200, dtype=torch.float64), indexing="ij")
#     ax.contour(xs, ys, f(torch.stack([xs, ys], -1)), levels=levels, colors="#C8C8C8",
#                linewidths=0.7, negative_linestyles="solid")
#     ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")
#     ax.grid(False)
#
#
# SADDLE_VIEW = dict(xlim=(-0.8, 1.2), ylim=(-0.3, 1.5), levels=torch.linspace(-2, 1.4, 18).tolist())
# BEALE_VIEW = dict(xlim=(-1.0, 3.6), ylim=(-1.8, 1.8), levels=torch.logspace(-1.5, 2.5, 16).tolist())
#
#
# def draw_surfaces(axes):
#     surface(axes[0], saddle, **SADDLE_VIEW)
#     surface(axes[1], beale, **BEALE_VIEW)
#     axes[0].plot(0, 0, "x", color="black", ms=8)
#     axes[1].plot(*MINIMUM, "*", color="black", ms=11)
#     for ax, start in zip(axes, (SADDLE_START, BEALE_START)):
#         ax.plot(*start, "o", color="black", ms=5)
#
#
# fig, axes = figures.subplots(
#     1, 2, width=7.5, height=4.2,
#     title=f"Saddle: RMSprop escapes in {on_saddle['RMSprop']['steps']} steps, "
#     f"plain SGD in {on_saddle['SGD']['steps']}",
# )
# draw_surfaces(axes)
# for name, (key, _, _) in OPTIMISERS.items():
#     for ax, result, total in ((axes[0], on_saddle[name], SADDLE_STEPS),
#                               (axes[1], on_beale[name], BEALE_STEPS)):
#         shown = result["path"][: (result["steps"] or total) + 5]
#         ax.plot(shown[:, 0], shown[:, 1], color=figures.color(key), lw=1.5,
#                 label=name if ax is axes[0] else None)
# axes[0].set_title(f"$x^2 - y^2$ from {SADDLE_START}, lr 0.01")
# axes[1].set_title(f"Beale from {BEALE_START}, best lr each")
# fig.legend(loc="outside lower center", ncols=7, fontsize=8, handlelength=1.2)

# %% [markdown]
# The order, measured (the bar of a method that never made it within the run is hatched and drawn
# at the run's length):

# %% active="ipynb"
# fastest = {f: min((r["steps"], n) for n, r in res.items() if r["steps"] is not None)
#            for f, res in (("saddle", on_saddle), ("Beale", on_beale))}
# fig, axes = figures.subplots(
#     1, 2, width=7.5, height=3.4,
#     title=f"First off the saddle: {fastest['saddle'][1]} ({fastest['saddle'][0]} steps); "
#     f"first to Beale's minimum: {fastest['Beale'][1]} ({fastest['Beale'][0]})",
# )
# for ax, results, total, label in (
#     (axes[0], on_saddle, SADDLE_STEPS, "steps to escape the saddle (f < -1)"),
#     (axes[1], on_beale, BEALE_STEPS, "steps to within 0.05 of Beale's minimum"),
# ):
#     names = sorted(results, key=lambda n: results[n]["steps"] or total + 1, reverse=True)
#     for row, name in enumerate(names):
#         steps = results[name]["steps"]
#         ax.barh(row, steps or total, color=figures.color(OPTIMISERS[name][0]),
#                 hatch=None if steps else "//", alpha=1 if steps else 0.35)
#         ax.text((steps or total) + 5, row, str(steps) if steps else f"not in {total}",
#                 va="center", fontsize=8)
#     ax.set_yticks(range(len(names)), names)
#     ax.set(xlabel=label, xlim=(0, total * 1.25))
#     ax.grid(axis="y", visible=False)
#     ax.set_axisbelow(True)
#
# sgd, mom, nag, rms = (on_saddle[n]["steps"] for n in ("SGD", "momentum", "Nesterov", "RMSprop"))
# claim(
#     "RMSprop escapes the saddle before plain SGD",
#     measured=f"{rms} vs {sgd} steps",
#     expected="RMSprop < SGD",
#     holds=rms is not None and sgd is not None and rms < sgd,
# )
# claim(
#     "on the saddle RMSprop escapes first of the seven; momentum and Nesterov escape before "
#     "plain SGD",
#     measured=order(on_saddle),
#     expected="RMSprop first; momentum, Nesterov < SGD",
#     holds=rms == min(r["steps"] for r in on_saddle.values() if r["steps"] is not None)
#     and None not in (mom, nag, sgd) and max(mom, nag) < sgd,
# )
# rolling = max(on_saddle[n]["closest"] for n in ("SGD", "momentum", "Nesterov"))
# turning = min(on_saddle[n]["closest"] for n in ("RMSprop", "Adagrad", "Adadelta", "Adam"))
# claim(
#     "SGD, momentum and Nesterov roll almost into the saddle point; the adaptive methods "
#     "turn away early",
#     measured=f"closest approach {rolling:.3f} vs {turning:.3f}",
#     expected="< 0.1 vs > 0.5",
#     holds=rolling < 0.1 and turning > 0.5,
# )

# %% [markdown]
# Beale's function tells a different story, and the page reports it as measured. From
# $(1, 1.5)$, each at its best learning rate, the momentum methods arrive first and plain SGD
# needs a few hundred steps; RMSprop arrives before plain SGD, but only with a large learning
# rate, and then it does not settle. The same division that makes its steps large on a plateau
# keeps them large at the bottom: as the gradients shrink, so does their running RMS, and the
# step stays close to $\eta$ (in the printout above, RMSprop's mean step over the last 50 steps is
# about its learning rate while every other method's has shrunk). In practice that is why RMSprop
# is run with a decaying learning rate, and one reason for Adam's momentum term, which averages
# the sign flips around a minimum to almost nothing.

# %% active="ipynb"
# rms_b, sgd_b = on_beale["RMSprop"], on_beale["SGD"]
# claim(
#     "on Beale's function RMSprop reaches the minimum before plain SGD (each at its best "
#     "learning rate)",
#     measured=f"{rms_b['steps']} vs {sgd_b['steps']} steps",
#     expected="RMSprop < SGD",
#     holds=None not in (rms_b["steps"], sgd_b["steps"]) and rms_b["steps"] < sgd_b["steps"],
# )
# arrivals = {n: r["steps"] for n, r in on_beale.items() if r["steps"] is not None}
# claim(
#     "on Beale's function Nesterov arrives first of the seven, and momentum before RMSprop",
#     measured=order(on_beale),
#     expected="Nesterov first; momentum < RMSprop",
#     holds=min(arrivals, key=arrivals.get) == "Nesterov"
#     and arrivals.get("momentum", math.inf) < arrivals.get("RMSprop", math.inf),
# )
# claim(
#     "but RMSprop does not settle there: its steps stay about the size of its learning rate, "
#     "while plain SGD's shrink",
#     measured=f"last 50 steps: {rms_b['end_step'] / rms_b['lr']:.2f} lr vs "
#     f"{sgd_b['end_step'] / sgd_b['lr']:.1e} lr",
#     expected="> 0.1 lr vs < 0.01 lr",
#     holds=rms_b["end_step"] > 0.1 * rms_b["lr"] and sgd_b["end_step"] < 0.01 * sgd_b["lr"],
# )

# %% [markdown]
# And the comparison in motion, like the article's figure: both surfaces side by side, with the
# frames closer together early on (the title counts the steps).

# %% active="ipynb"
# from matplotlib.animation import FuncAnimation
#
# FRAMES, SHOWN = 50, 400
# # frames are denser early, where most of the action is; the title shows the step
# frame_steps = [round(SHOWN * (k / (FRAMES - 1)) ** 1.6) for k in range(FRAMES)]
# fig, axes = figures.subplots(1, 2, width=6.4, height=3.4)
# fig.set_dpi(72)  # a small GIF keeps the page light
# draw_surfaces(axes)
# for ax in axes:
#     ax.set(xlabel=None, ylabel=None, xticks=[], yticks=[])
# trails, heads = [], []
# for name, (key, _, _) in OPTIMISERS.items():
#     for ax, result in ((axes[0], on_saddle[name]), (axes[1], on_beale[name])):
#         # without antialiasing the GIF needs few colours and stays small
#         (trail,) = ax.plot([], [], color=figures.color(key), lw=1.3, antialiased=False,
#                            label=name if ax is axes[0] else None)
#         (head,) = ax.plot([], [], "o", color=figures.color(key), ms=4, antialiased=False)
#         trails.append((trail, result["path"]))
#         heads.append((head, result["path"]))
# fig.legend(loc="outside lower center", ncols=7, fontsize=7, handlelength=1, columnspacing=1)
# stamp = fig.suptitle("step 0: saddle (left), Beale (right)", fontsize=9)
# fig.canvas.draw()
# fig.set_layout_engine("none")  # freeze the layout: frames only move lines
#
#
# def show(k: int):
#     s = frame_steps[k]
#     for (trail, path), (head, _) in zip(trails, heads):
#         trail.set_data(path[: s + 1, 0], path[: s + 1, 1])
#         head.set_data(path[s : s + 1, 0], path[s : s + 1, 1])
#     stamp.set_text(f"step {s}: saddle (left), Beale (right)")
#
#
# animation = FuncAnimation(fig, show, frames=FRAMES)
# figures.animation(animation, fps=8, alt="seven optimisers on a saddle and on Beale's function")

# %% [markdown]
# ## What to take away
#
# - RMSprop divides each gradient by the root of a running mean of its squares, so every weight's
#   step is measured against its own recent gradients: 0.00001 against 0.00005 is 0.2, 100
#   against 25 is 4, and the step stays near $\eta$ across seven orders of magnitude of gradient.
# - The class above matches `torch.optim.RMSprop` with every option; the lecture's original is
#   $\alpha = 0.9$ without $\epsilon$, which turns a weight with an exactly zero gradient into NaN.
# - Near a saddle, where gradients are tiny, that normalisation is what lets RMSprop (and the other
#   adaptive methods) turn off the ridge at once, while plain SGD and momentum roll almost into the
#   saddle point first: in the run above RMSprop escaped first, plain SGD after both momentum
#   methods.
# - The flip side shows at a minimum: RMSprop's steps do not shrink by themselves. No optimiser
#   wins on every surface; on Beale's function from our start Nesterov's momentum was fastest.
