# %% [markdown]
# # L1 and L2 regularisation: a price on every weight
#
# *Annotates the article's section **L1 and L2 regularisation (L1 和 L2 正则化)**.*
#
# A network with a few very large weights lets single units shout: one big weight can drive an
# output to a confident extreme on its own. L1 and L2 *regularisation* (正则化) put a price on
# the size of the weights. The price is added to the error, so a large weight now has to buy its
# way in by lowering the data error by more than it costs. The article describes the effect as
# making the network listen to many moderate opinions instead of a few strong ones: when a large
# output needs several medium weights to agree, no single unit can bias the result.
#
# The two penalties differ in how they price small weights, and this changes the shape of the
# solution. L1 charges $|w|$: even a tiny weight costs a steady amount, so weights that do not
# earn their keep are pushed all the way to zero, and the network ends up with few non-zero
# weights, some of them fairly large. L2 charges $w^2$: a tiny weight costs almost nothing while a
# big one costs a lot, so the network keeps nearly all its weights but makes them small. The
# article's summary: L1 gives sparse weights with a few medium-to-large survivors, L2 gives many
# small non-zero weights.
#
# Both are far older than deep learning: the L2 penalty is Tikhonov's regularisation (1943-1963)
# and ridge regression (Hoerl and Kennard 1970, *Ridge Regression: Biased Estimation for
# Nonorthogonal Problems*); the L1 penalty is the lasso (Tibshirani 1996, *Regression Shrinkage
# and Selection via the Lasso*). For neural networks, "weight decay" was studied by Hanson and
# Pratt (1989, *Comparing Biases for Minimal Network Construction with Back-Propagation*) and
# Krogh and Hertz (1992, *A Simple Weight Decay Can Improve Generalization*);
# AlexNet trained with a weight decay of 0.0005. This page builds both penalties and their
# gradients from scratch, shows that the L2 penalty and PyTorch's `weight_decay` option of SGD
# are the same thing, and measures the shapes of the weights that the two penalties produce.
#
# ## The equations
#
# For a data loss $E(w)$ and strengths $\lambda_1, \lambda_2 \ge 0$ the regularised objective is
#
# $$
# \tilde E(w) = E(w) + \underbrace{\lambda_1 \sum_i |w_i|}_{\Omega_1,\ \text{L1}}
# + \underbrace{\frac{\lambda_2}{2} \sum_i w_i^2}_{\Omega_2,\ \text{L2}},
# \qquad
# \frac{\partial \Omega_1}{\partial w_i} = \lambda_1 \operatorname{sign}(w_i),
# \qquad
# \frac{\partial \Omega_2}{\partial w_i} = \lambda_2\, w_i .
# $$
#
# The two gradients say everything about the shapes. L1 pulls every weight toward zero with the
# *same* force $\lambda_1$, however small the weight is: a weight whose data gradient is weaker
# than $\lambda_1$ loses the tug of war and ends at zero (at exactly $w = 0$ we use the
# subgradient $\operatorname{sign}(0) = 0$, as PyTorch's autograd does for `abs`). L2 pulls with a
# force *proportional* to the weight: large weights are pulled hard, small ones hardly at all, so
# weights shrink but seldom reach zero.
#
# The factor $\frac{1}{2}$ in $\Omega_2$ makes its gradient exactly $\lambda_2 w$. One step of
# gradient descent with learning rate $\eta$ on $\tilde E$ is then
#
# $$
# w \leftarrow w - \eta\,(\nabla E + \lambda_2 w) = (1 - \eta \lambda_2)\, w - \eta \nabla E ,
# $$
#
# which multiplies every weight by $1 - \eta\lambda_2$ before the usual step: the weights
# *decay*. That is what `torch.optim.SGD(weight_decay=λ₂)` computes ([SGD](sgd.md) adds
# $\lambda_2 \theta$ to the gradient), so for SGD the L2 penalty and weight decay are one and the
# same. For other optimisers they need not be (see the end of Demo 1).

# %%
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real

import torch
from torch import nn


def _check_strength(name: str, value: float) -> float:
    """A finite float >= 0, or a ValueError naming the argument and the accepted range."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"Invalid {name}: {value!r} (expected a finite number >= 0)")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid {name}: {value} (expected a finite number >= 0)")
    return value


def _tensors(params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """The parameters as a list; an empty one is an error (often an exhausted generator)."""
    params = list(params)
    if not params:
        raise ValueError(
            "params is empty (a generator such as model.parameters() can be used only once)"
        )
    if not all(isinstance(p, torch.Tensor) for p in params):
        raise ValueError("params must be tensors")
    return params


def l1_penalty(params: Iterable[torch.Tensor], strength: float = 1.0) -> torch.Tensor:
    r"""The L1 penalty $\Omega_1 = \lambda_1 \sum_i |w_i|$ over all elements of ``params``.

    Args:
        params: the tensors to penalise (for example the weights of a network).
        strength: $\lambda_1 \ge 0$.

    Returns:
        A scalar tensor, differentiable with respect to ``params``.

    Raises:
        ValueError: for a negative or non-finite ``strength``, or empty ``params``.
    """
    strength = _check_strength("strength", strength)
    params = _tensors(params)
    # Omega_1 = lambda_1 * sum_i |w_i|
    return strength * sum(p.abs().sum() for p in params)


def l2_penalty(params: Iterable[torch.Tensor], strength: float = 1.0) -> torch.Tensor:
    r"""The L2 penalty $\Omega_2 = \frac{\lambda_2}{2} \sum_i w_i^2$ over all elements of ``params``.

    With this scaling its gradient is $\lambda_2 w$, PyTorch's ``weight_decay``.

    Args:
        params: the tensors to penalise.
        strength: $\lambda_2 \ge 0$.

    Returns:
        A scalar tensor, differentiable with respect to ``params``.

    Raises:
        ValueError: for a negative or non-finite ``strength``, or empty ``params``.
    """
    strength = _check_strength("strength", strength)
    params = _tensors(params)
    # Omega_2 = lambda_2 / 2 * sum_i w_i^2
    return strength / 2 * sum(p.pow(2).sum() for p in params)


def l1_gradient(params: Iterable[torch.Tensor], strength: float = 1.0) -> list[torch.Tensor]:
    r"""$\partial\Omega_1 / \partial w = \lambda_1 \operatorname{sign}(w)$ (0 at $w = 0$), per tensor.

    Raises:
        ValueError: for a negative or non-finite ``strength``, or empty ``params``.
    """
    strength = _check_strength("strength", strength)
    # dOmega_1/dw = lambda_1 sign(w)
    return [strength * p.detach().sign() for p in _tensors(params)]


def l2_gradient(params: Iterable[torch.Tensor], strength: float = 1.0) -> list[torch.Tensor]:
    r"""$\partial\Omega_2 / \partial w = \lambda_2 w$, per tensor.

    Raises:
        ValueError: for a negative or non-finite ``strength``, or empty ``params``.
    """
    strength = _check_strength("strength", strength)
    # dOmega_2/dw = lambda_2 w
    return [strength * p.detach() for p in _tensors(params)]


def add_penalty_gradients(
    params: Iterable[torch.Tensor], *, l1: float = 0.0, l2: float = 0.0
) -> None:
    r"""Add $\lambda_1 \operatorname{sign}(w) + \lambda_2 w$ to each parameter's ``.grad``.

    The manual route: call it after ``loss.backward()`` and before ``optimizer.step()``; the
    result equals back-propagating $E + \Omega_1 + \Omega_2$.

    Raises:
        ValueError: for a negative or non-finite ``l1`` or ``l2``, or empty ``params``.
    """
    l1, l2 = _check_strength("l1", l1), _check_strength("l2", l2)
    params = _tensors(params)
    with torch.no_grad():
        for p, g1, g2 in zip(params, l1_gradient(params, l1), l2_gradient(params, l2)):
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            # grad <- grad + lambda_1 sign(w) + lambda_2 w
            p.grad.add_(g1).add_(g2)


def penalized(
    loss_fn: Callable[..., torch.Tensor],
    params: Iterable[torch.Tensor],
    *,
    l1: float = 0.0,
    l2: float = 0.0,
) -> Callable[..., torch.Tensor]:
    r"""Wrap a loss as $\tilde E = E + \Omega_1 + \Omega_2$, ready for ``fit(loss_fn=...)``.

    Args:
        loss_fn: the data loss, called as ``loss_fn(outputs, labels)``.
        params: the tensors to penalise; taken once, when the wrapper is made.
        l1: $\lambda_1 \ge 0$.
        l2: $\lambda_2 \ge 0$.

    Raises:
        ValueError: for a negative or non-finite ``l1`` or ``l2``, or empty ``params``.
    """
    l1, l2 = _check_strength("l1", l1), _check_strength("l2", l2)
    params = _tensors(params)

    def loss(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        total = loss_fn(outputs, labels)
        if l1:
            total = total + l1_penalty(params, l1)
        if l2:
            total = total + l2_penalty(params, l2)
        return total

    return loss


def weights(model: nn.Module) -> list[nn.Parameter]:
    """The weight matrices and kernels of ``model`` (parameters with 2 or more dimensions).

    Biases are usually left unpenalised: they shift a unit, they do not let it shout.
    """
    return [p for p in model.parameters() if p.ndim >= 2]


# %% [markdown]
# ## Demo 1: the L2 penalty is SGD's weight decay
#
# Two copies of the same network start from the same weights and see the same batches, in
# double precision, through [`fit`][nutshell.training.loop.fit]. The first is trained by
# `torch.optim.SGD(weight_decay=λ₂)` on the plain cross-entropy; the second by plain SGD on the
# cross-entropy plus our $\Omega_2$. If the equations above are right, their weights coincide,
# up to rounding, after every step; we compare them after the last one.

# %% active="ipynb"
# import torch.nn.functional as F
#
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import digits, mnist
# from nutshell.device import default_device
# from nutshell.training.loop import fit
#
# device = default_device()
# small = digits(device=device)
# train64 = (small.x_train.double(), small.y_train)
#
#
# def small_net() -> nn.Sequential:
#     torch.manual_seed(0)
#     return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).double().to(device)
#
#
# decay, lr, epochs_wd = 0.01, 0.1, 20
# start = [p.detach().clone() for p in small_net().parameters()]
# by_decay, by_penalty = small_net(), small_net()
# hist_decay = fit(by_decay, train64, epochs=epochs_wd, batch_size=32, device=device,
#                  optimizer=lambda ps: torch.optim.SGD(ps, lr=lr, weight_decay=decay))
# hist_penalty = fit(by_penalty, train64, epochs=epochs_wd, batch_size=32, device=device,
#                    optimizer=lambda ps: torch.optim.SGD(ps, lr=lr),
#                    loss_fn=penalized(F.cross_entropy, by_penalty.parameters(), l2=decay))
# differ = max((a - b).abs().max().item()
#              for a, b in zip(by_decay.parameters(), by_penalty.parameters()))
# moved = max((a - s).abs().max().item() for a, s in zip(by_decay.parameters(), start))
# print(f"after {hist_decay.steps:,} steps: weights moved by up to {moved:.3f}; "
#       f"weight decay and L2 penalty differ by at most {differ:.1e}")
# claim(
#     "SGD with an L2 penalty follows exactly the trajectory of SGD with weight_decay",
#     measured=f"max difference {differ:.1e} after {hist_decay.steps:,} steps",
#     expected="< 1e-12 (float64 rounding)",
#     holds=differ < 1e-12 and hist_decay.steps == hist_penalty.steps,
# )

# %% [markdown]
# For optimisers that rescale the gradient the identity breaks. Adam divides every gradient,
# penalty included, by a running root mean square; `torch.optim.Adam(weight_decay=...)` adds the
# L2 gradient *before* that division, so it is still the L2 penalty, while `AdamW` (Loshchilov and
# Hutter 2019, *Decoupled Weight Decay Regularization*) shrinks the weights *after* it, which is
# weight decay but no longer an L2 penalty:

# %% active="ipynb"
# adam_l2, adam_decay, adamw = small_net(), small_net(), small_net()
# adam_runs = [
#     (adam_l2, dict(loss_fn=penalized(F.cross_entropy, adam_l2.parameters(), l2=decay),
#                    optimizer=lambda ps: torch.optim.Adam(ps, lr=1e-3))),
#     (adam_decay, dict(optimizer=lambda ps: torch.optim.Adam(ps, lr=1e-3, weight_decay=decay))),
#     (adamw, dict(optimizer=lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=decay))),
# ]
# for net, options in adam_runs:
#     fit(net, train64, epochs=5, batch_size=32, device=device, **options)
#
#
# def gap(a: nn.Module, b: nn.Module) -> float:
#     return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))
#
#
# print(f"Adam + L2 penalty vs Adam(weight_decay): {gap(adam_l2, adam_decay):.1e}; "
#       f"vs AdamW: {gap(adam_l2, adamw):.1e}")
# claim(
#     "Adam(weight_decay) is the L2 penalty, AdamW is not",
#     measured=f"{gap(adam_l2, adam_decay):.1e} vs {gap(adam_l2, adamw):.1e}",
#     expected="< 1e-12 and > 1e-4",
#     holds=gap(adam_l2, adam_decay) < 1e-12 and gap(adam_l2, adamw) > 1e-4,
# )

# %% [markdown]
# ## Demo 2: the same network with no penalty, L1 and L2
#
# Now the experiment of the article's claim. A perceptron with one hidden layer of 128 ReLU units
# reads real MNIST digits, downscaled to 16x16 pixels (4,000 for training, 1,000 for testing).
# It is trained three times, from the same initial weights with the same batches, by plain SGD
# (learning rate 0.1, batches of 64, 40 epochs): without a penalty, with L1 and with L2 on its
# weight matrices (biases free).
#
# What makes two strengths *comparable*? We match the pull of the two penalties on a weight of
# typical size: L1 pulls with $\lambda_1$, L2 with $\lambda_2 |w|$, and the two are equal for
# $|w|$ equal to the root mean square of the initial weights, $w_{\text{rms}}$, so
# $\lambda_2 = \lambda_1 / w_{\text{rms}}$. Smaller weights are then pulled harder by L1, larger ones
# harder by L2, which is exactly the difference the article describes. We call a weight *near
# zero* when $|w| < 10^{-3}$, a few percent of a typical initial weight.

# %% active="ipynb"
# data = mnist(size=16, flat=True, device=device)
#
#
# def mlp() -> nn.Sequential:
#     torch.manual_seed(0)  # the same initial weights for all three runs
#     return nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
#
#
# w_rms = torch.cat([w.flatten() for w in weights(mlp())]).pow(2).mean().sqrt().item()
# lambda1 = 5e-4
# lambda2 = lambda1 / w_rms
# strengths = {"none": {}, "l1": {"l1": lambda1}, "l2": {"l2": lambda2}}
# near_zero = 1e-3
# print(f"initial weights: rms {w_rms:.4f}; lambda1 = {lambda1:g}, lambda2 = {lambda2:.4f}")
#
# results = {}
# for name, strength in strengths.items():
#     net = mlp()
#     hist = fit(net, data, epochs=40, lr=0.1, batch_size=64, seed=0, device=device,
#                loss_fn=penalized(F.cross_entropy, weights(net), **strength)
#                if strength else F.cross_entropy)
#     w = torch.cat([p.detach().flatten() for p in weights(net)]).cpu()
#     size = w.abs()
#     top = size.sort(descending=True).values
#     results[name] = {
#         "net": net, "w": w, "test": hist.test_accuracy[-1],
#         "near_zero": (size < near_zero).float().mean().item(),
#         "median": size.median().item(),
#         "top": top[: len(top) // 1000].mean().item(),  # mean of the largest 0.1%
#         "largest": top[0].item(),
#         "share_top1": (top[: len(top) // 100].sum() / top.sum()).item(),
#     }
#     r = results[name]
#     print(f"{name:5s} test {r['test']:.1%}; near zero {r['near_zero']:.1%}; "
#           f"median |w| {r['median']:.4f}; mean of the largest 0.1% {r['top']:.3f}; "
#           f"largest {r['largest']:.3f}; the largest 1% hold {r['share_top1']:.0%} of sum |w|")
# none, l1, l2 = results["none"], results["l1"], results["l2"]

# %% [markdown]
# The histograms show the whole story. The weights of the network without a penalty spread out
# from their initial uniform distribution. L1 collapses most of them into a spike at zero and
# leaves a thin tail of weights that are *larger* than the largest weights of the unpenalised
# network. L2 keeps
# a smooth bell of small weights around zero, narrower than without a penalty, with short tails.

# %% active="ipynb"
# labels = {"none": "no penalty", "l1": f"L1, λ₁ = {lambda1:g}", "l2": f"L2, λ₂ = {lambda2:.3f}"}
# fig, axes = figures.subplots(
#     1, 3, sharey=True, width=7.5, height=3.3,
#     title=f"L1 puts {l1['near_zero']:.0%} of the weights at zero (|w| < 0.001), L2 only "
#     f"{l2['near_zero']:.0%}",
# )
# reach = 1.05 * max(r["largest"] for r in results.values())
# edges = torch.linspace(-reach, reach, 141).numpy()
# for ax, name in zip(axes, strengths):
#     r = results[name]
#     ax.hist(r["w"].numpy(), bins=edges, color=figures.color(name))
#     ax.set(yscale="log", xlabel="weight value", title=f"{labels[name]}\ntest {r['test']:.1%}")
#     ax.text(0.03, 0.97, f"|w| < 0.001: {r['near_zero']:.0%}\nlargest |w|: {r['largest']:.2f}",
#             transform=ax.transAxes, va="top", fontsize=8)
# axes[0].set_ylabel("number of weights (log scale)")

# %% [markdown]
# Where do the surviving weights sit? Each hidden unit's 256 input weights form a 16x16 image. The
# unpenalised and the L2 network look at the whole digit, L2 with fainter weights; the L1 network
# looks at a few pixels with a few strong weights and ignores the rest. All three rows share one
# colour scale.

# %% active="ipynb"
# shown = 8
# order = results["none"]["net"][0].weight.detach().norm(dim=1).argsort(descending=True)[:shown]
# fig, axes = figures.subplots(
#     3, shown, width=7.5, height=3.4,
#     title="Input weights of 8 hidden units: L1 keeps a few strong pixels, L2 many faint ones",
# )
# first = {name: r["net"][0].weight.detach().cpu() for name, r in results.items()}
# scale = 0.8 * max(w.abs().max().item() for w in first.values())  # one scale for all rows
# for row, name in enumerate(strengths):
#     for col, unit in enumerate(order.tolist()):
#         ax = axes[row, col]
#         image = ax.imshow(first[name][unit].reshape(16, 16).numpy(), cmap="RdBu_r",
#                           vmin=-scale, vmax=scale)
#         ax.set(xticks=[], yticks=[])
#         ax.grid(False)
#         ax.spines[:].set_visible(False)
#         if col == 0:
#             ax.set_ylabel(labels[name].split(",")[0], fontsize=9)
# fig.colorbar(image, ax=axes, shrink=0.8, label="weight")

# %% [markdown]
# ## The article's claims, measured

# %% active="ipynb"
# print(f"near-zero weights: none {none['near_zero']:.1%}, L1 {l1['near_zero']:.1%}, "
#       f"L2 {l2['near_zero']:.1%}")
# print(f"mean of the largest 0.1%: none {none['top']:.3f}, L1 {l1['top']:.3f}, "
#       f"L2 {l2['top']:.3f}")
# print(f"test accuracy: none {none['test']:.1%}, L1 {l1['test']:.1%}, L2 {l2['test']:.1%}")
# claim(
#     "L1 drives most weights to zero",
#     measured=f"{l1['near_zero']:.1%} of |w| < 0.001 (none {none['near_zero']:.1%}, "
#     f"L2 {l2['near_zero']:.1%})",
#     expected="> 50%, and at least twice L2's",
#     holds=l1["near_zero"] > 0.5 and l1["near_zero"] >= 2 * l2["near_zero"],
# )
# claim(
#     "L1 keeps a few medium-to-large weights, larger than L2's and than the unpenalised ones",
#     measured=f"mean of the largest 0.1%: L1 {l1['top']:.3f}, L2 {l2['top']:.3f}, "
#     f"none {none['top']:.3f}",
#     expected="L1 > none > L2",
#     holds=l1["top"] > none["top"] > l2["top"],
# )
# claim(
#     "L2 keeps many small non-zero weights: most weights stay non-zero, none stays large",
#     measured=f"{1 - l2['near_zero']:.1%} non-zero (L1 {1 - l1['near_zero']:.1%}); largest 0.1% "
#     f"average {l2['top']:.3f} (none {none['top']:.3f})",
#     expected="> 50% non-zero, largest below the unpenalised network's",
#     holds=l2["near_zero"] < 0.5 and l2["top"] < none["top"] and l2["median"] < none["median"],
# )
# inked = (data.x_train > 0.05).float().mean(dim=0)  # share of images with ink on each pixel
# rare = inked < 0.01
# l2_first = results["l2"]["net"][0].weight.detach()
# small_first = l2_first.abs() < near_zero
# on_blank = (small_first[:, rare].sum() / small_first.sum()).item()
# print(f"{int(rare.sum())} of 256 pixels are inked in fewer than 1% of the training images; "
#       f"they carry {on_blank:.0%} of L2's near-zero first-layer weights")
# claim(
#     "most of the weights that L2 takes near zero belong to nearly blank pixels",
#     measured=f"{on_blank:.0%} of them, on {int(rare.sum())} of 256 pixels",
#     expected="> 50%",
#     holds=on_blank > 0.5,
# )
# claim(
#     "at these comparable strengths, both penalties cost at most 2 points of test accuracy",
#     measured=f"none {none['test']:.1%}, L1 {l1['test']:.1%}, L2 {l2['test']:.1%}",
#     expected="≥ none - 2 points",
#     holds=min(l1["test"], l2["test"]) >= none["test"] - 0.02,
# )

# %% [markdown]
# A word on the accuracies. This network hardly overfits these 4,000 digits in 40 epochs (its
# training accuracy is only a few points above its test accuracy), so there is little for a
# regulariser to fix, and neither penalty improves the test accuracy here; what the experiment
# shows is the *shape* of the solutions, at little cost. The weights that L2 does push below
# $10^{-3}$ are mostly those of pixels that are blank in nearly every image, as measured above:
# with almost no data gradient, both penalties take them toward zero, L1 in a finite number of
# steps, L2 only geometrically, by a factor $1 - \eta\lambda_2$ per step. Plain SGD never lands *exactly* on
# zero with L1 either: a weight at zero is kicked to $\pm\eta\lambda_1$ and back; proximal methods
# (soft-thresholding after each step) would give exact zeros.
#
# ## What to take away
#
# - L1 adds $\lambda_1 \sum |w|$ to the error and pulls every weight toward zero with the same
#   force: most weights end at zero, a few survive and grow larger.
# - L2 adds $\frac{\lambda_2}{2}\sum w^2$ and pulls in proportion to the weight: all weights
#   shrink, hardly any vanishes, no single weight dominates.
# - For SGD the L2 penalty is exactly `weight_decay`; for Adam, `Adam(weight_decay)` is still the
#   L2 penalty but `AdamW` is not.
# - [Dropout](dropout.md) fights the same bias toward a few strong units from another side: it
#   removes units at random rather than charging for their weights.
