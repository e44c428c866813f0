# %% [markdown]
# # Distributed representations: what back-propagation builds inside a network
#
# *Annotates the article's section **Brief history (深度学习的简史)**: Rumelhart, Hinton and
# Williams, "Learning representations by back-propagating errors" (Nature 323, 1986), and the
# encoder experiments of their report "Learning internal representations by error propagation"
# (ICS Report 8506, 1985; a chapter of the book "Parallel Distributed Processing", 1986).*
#
# Back-propagation existed before 1985: Linnainmaa wrote down reverse-mode differentiation in 1970
# (see [reverse-mode differentiation](reverse_mode.md)) and Werbos applied it to networks in 1982.
# What the article credits to Rumelhart, Hinton and Williams is a finding about *what* the
# algorithm learns: trained only to map inputs to outputs, the hidden units of a network invent
# their own features, and each concept ends up spread as a pattern of activity over several units,
# a **distributed representation (分布式表示)**. In the cognitive psychology of the time that was a
# strong argument: it showed how a connectionist network, with no symbols written in by hand, could
# come to hold structured knowledge.
#
# This page replays two of their small demonstrations with the paper's own settings:
#
# - the **8-3-8 encoder**: eight inputs, one of them on, must be passed through three hidden units
#   and reproduced at eight outputs. Three units cannot copy eight lines, so the network has to
#   invent a code;
# - the **6-2-1 symmetry detector** of the Nature paper: the output must be on exactly when the six
#   binary inputs read the same forwards and backwards. The paper's network needed 1,425 sweeps and
#   ended with a strikingly neat solution: mirror-image inputs get weights of equal size and
#   opposite sign, in the ratio 1:2:4.
#
# | | original | this replica |
# |---|---|---|
# | units | logistic (sigmoid) units with biases | the same |
# | error | $E = \tfrac12 \sum_c \sum_j (y_{j,c} - d_{j,c})^2$, summed over all cases | the same |
# | updates | one weight change per sweep through all cases; $\varepsilon = 0.1$, $\alpha = 0.9$ for the symmetry problem | full-batch steps of [`fit`](../training/loop.md) with `torch.optim.SGD(lr=0.1, momentum=0.9)`, for both tasks |
# | initial weights | uniform in $[-0.3, 0.3]$ | the same, biases included, one seed per run |
# | runs | one run reported per task | 5 seeds (encoder), 10 seeds (symmetry), at most 5,000 sweeps each |
#
# ## The units and the error
#
# Each unit sums its weighted inputs and squashes the total with the logistic function:
#
# $$
# x_j = \sum_i y_i w_{ji} + b_j, \qquad y_j = \sigma(x_j) = \frac{1}{1 + e^{-x_j}} .
# $$
#
# The error is the squared difference between the outputs $y$ and the desired outputs $d$, halved
# and **summed** (not averaged) over output units $j$ and training cases $c$, as in the paper. The
# sum matters: with 64 cases the gradient is 64 times larger than the mean's would be, and the
# paper's learning rate of 0.1 goes with the sum.
#
# $$
# E = \frac12 \sum_c \sum_j \left(y_{j,c} - d_{j,c}\right)^2
# $$

# %%
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from nutshell.data import generator
from nutshell.device import resolve
from nutshell.training.loop import fit


def sigmoid_net(sizes: Sequence[int], *, init_range: float = 0.3, seed: int = 0) -> nn.Sequential:
    """Fully connected layers of logistic units, initialised as in Rumelhart et al. (1986).

    Every layer computes $y = \\sigma(W x + b)$; every weight and bias starts uniform in
    $[-r, r]$ with $r$ = ``init_range``, drawn on the CPU from a generator seeded with ``seed``.

    Args:
        sizes: units per layer, input first, e.g. ``(6, 2, 1)``; at least two positive ints.
        init_range: half-width $r > 0$ of the initial weight range (the paper: 0.3).
        seed: seed of the initial weights, a non-negative int.

    Returns:
        ``nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, ...)`` on the CPU.

    Raises:
        ValueError: when ``sizes`` has fewer than two entries or a non-positive one, or
            ``init_range`` is not positive.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(n, int) and n >= 1 for n in sizes):
        raise ValueError(f"sizes must be at least two positive ints, got {sizes!r}")
    if not init_range > 0:
        raise ValueError(f"init_range must be > 0, got {init_range!r}")
    g = generator(seed)
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        linear = nn.Linear(n_in, n_out)
        with torch.no_grad():
            # w, b ~ U[-r, r]
            linear.weight.copy_((2 * torch.rand(n_out, n_in, generator=g) - 1) * init_range)
            linear.bias.copy_((2 * torch.rand(n_out, generator=g) - 1) * init_range)
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


def squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's error, summed over cases and output units: $E = \\frac12 \\sum_c \\sum_j (y_{j,c} - d_{j,c})^2$.

    Raises:
        ValueError: when ``output`` and ``target`` differ in shape.
    """
    if output.shape != target.shape:
        raise ValueError(
            f"output and target must have the same shape, got {tuple(output.shape)} "
            f"and {tuple(target.shape)}"
        )
    # E = 1/2 sum_c sum_j (y - d)^2
    return 0.5 * (output - target).pow(2).sum()


# %% [markdown]
# ## The two tasks
#
# Both tasks list every case, so a *sweep* (the paper's word for one pass over all cases, followed
# by one weight change) is exactly one full-batch step.
#
#
#
#


# %%
def encoder_task(n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """The $n$-$\\log_2 n$-$n$ encoder problem: each of the $n$ one-hot inputs is its own target.

    Raises:
        ValueError: when ``n`` is not an int >= 2.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    x = torch.eye(n)
    return x, x.clone()


def symmetry_task(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """All $2^n$ binary vectors, with target 1 where the vector is a palindrome, else 0.

    Returns:
        Inputs of shape ``(2**n, n)`` and targets of shape ``(2**n, 1)``.

    Raises:
        ValueError: when ``n`` is not an int in [2, 16].
    """
    if not isinstance(n, int) or not 2 <= n <= 16:
        raise ValueError(f"n must be an int in [2, 16], got {n!r}")
    x = torch.tensor(list(itertools.product((0.0, 1.0), repeat=n)))
    # d = 1 when x_i = x_{n+1-i} for every i
    y = (x == x.flip(1)).all(dim=1, keepdim=True).float()
    return x, y


# %% [markdown]
# ## When is a task solved?
#
# We call a task solved when every output of every case lies on the correct side of one half,
# $\max_{c,j} |y_{j,c} - d_{j,c}| < 0.5$: rounding the outputs then gives every answer right.
# It is the weakest criterion that still means the net has learned the whole table; the runs below
# also record the error $E$ at every sweep, so stricter readings can be checked on the figure.
#
#
#
#


# %%
def solved(output: torch.Tensor, target: torch.Tensor, margin: float = 0.5) -> bool:
    """True when every output is within ``margin`` of its target: $\\max |y - d| < m$.

    Args:
        output: the network's outputs.
        target: the desired outputs, same shape.
        margin: $m$ in (0, 1]; 0.5 means "every output on the correct side of one half".

    Raises:
        ValueError: when ``margin`` is outside (0, 1] or the shapes differ.
    """
    if not 0.0 < margin <= 1.0:
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    if output.shape != target.shape:
        raise ValueError(
            f"output and target must have the same shape, got {tuple(output.shape)} "
            f"and {tuple(target.shape)}"
        )
    return bool((output - target).abs().max() < margin)


# %% [markdown]
# ## Training: the paper's rule is SGD with momentum
#
# The paper changes each weight by the gradient of the whole sweep plus a share $\alpha$ of its
# previous change:
#
# $$
# \Delta w(t) = -\varepsilon \frac{\partial E}{\partial w}(t) + \alpha\, \Delta w(t-1) .
# $$
#
# PyTorch's SGD with momentum keeps a buffer $b \leftarrow \mu b + g$ and steps
# $w \leftarrow w - \eta b$; unrolled, its step is $-\eta g(t) + \mu \cdot (\text{previous step})$,
# the paper's rule with $\eta = \varepsilon$ and $\mu = \alpha$ (its first step is $-\eta g$, as the
# paper's is with $\Delta w(0) = 0$). So the replica trains with the site's one loop,
# [`fit`](../training/loop.md), one full batch per step, and a callback that records each sweep
# and stops when the task is solved.
#
# Each run is tiny, but a run that never solves the task costs 5,000 sweeps, and a sweep of a tiny
# network costs about as much Python and autograd overhead as a sweep of a large one. So the
# seeds of one experiment train **side by side** in a single model: layer $l$ of net $r$ holds
# its own $W_r, b_r$, and one batched matrix product (`torch.baddbmm`) evaluates all nets at once.
# The training loss is the sum of the nets' errors, $\sum_r E_r$; since $E_r$ depends only on net
# $r$'s weights, each net's gradient is exactly its own, and SGD with momentum acts element by
# element. Training the stack is training every net alone, at once (the tests check this against
# separate runs and against the paper's rule written out by hand).
#
#


# %%
class SideBySide(nn.Module):
    """Several sigmoid nets of one shape, evaluated and trained as one batched module.

    Layer $l$ of net $r$ computes $y = \\sigma(W_{l,r}\\, y_{\\text{below}} + b_{l,r})$; for inputs
    ``(N, n_in)`` the output is ``(R, N, n_out)``, net $r$'s outputs in row $r$.

    Args:
        nets: networks made by [`sigmoid_net`][nutshell.history.representations.sigmoid_net],
            all with the same sizes; their weights are copied.

    Raises:
        ValueError: when ``nets`` is empty or the nets differ in shape.
    """

    def __init__(self, nets: Sequence[nn.Sequential]):
        super().__init__()
        layers = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        if not layers or not layers[0]:
            raise ValueError("nets must hold at least one network made by sigmoid_net")
        shapes = [[tuple(m.weight.shape) for m in net] for net in layers]
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"nets must all have the same shape, got {shapes}")
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([net[i].weight.detach() for net in layers]).clone())
            for i in range(len(layers[0]))
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([net[i].bias.detach() for net in layers]).clone())
            for i in range(len(layers[0]))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.expand(len(self.weights[0]), *x.shape)
        for w, b in zip(self.weights, self.biases, strict=True):
            # y <- sigma(y W_r^T + b_r), for every net r at once
            y = torch.sigmoid(torch.baddbmm(b.unsqueeze(1), y, w.transpose(1, 2)))
        return y

    def member(self, r: int) -> nn.Sequential:
        """A copy of net ``r`` as a plain ``nn.Sequential`` sigmoid net."""
        layers: list[nn.Module] = []
        for w, b in zip(self.weights, self.biases, strict=True):
            linear = nn.Linear(w.shape[2], w.shape[1]).to(device=w.device, dtype=w.dtype)
            with torch.no_grad():
                linear.weight.copy_(w[r])
                linear.bias.copy_(b[r])
            layers += [linear, nn.Sigmoid()]
        return nn.Sequential(*layers)


@dataclass
class Run:
    """One training run: the net when it stopped, the sweeps it needed (``None`` if it never
    solved the task) and its error $E$ after each sweep."""

    model: nn.Sequential
    sweeps: int | None
    error: list[float] = field(default_factory=list)


def train(
    nets: Sequence[nn.Sequential],
    task: tuple[torch.Tensor, torch.Tensor],
    *,
    lr: float = 0.1,
    momentum: float = 0.9,
    max_sweeps: int = 5000,
    margin: float = 0.5,
    device: str | torch.device | None = None,
) -> list[Run]:
    """Train each net with full-batch sweeps of $\\Delta w(t) = -\\varepsilon\\, \\partial E / \\partial w + \\alpha\\, \\Delta w(t-1)$ until it solves the task.

    The nets train side by side ([`SideBySide`][nutshell.history.representations.SideBySide]),
    each exactly as if alone; one call of [`fit`][nutshell.training.loop.fit] runs them all
    until every net has solved the task or ``max_sweeps`` is reached.

    Args:
        nets: networks made by [`sigmoid_net`][nutshell.history.representations.sigmoid_net],
            all of one shape (they are not modified).
        task: ``(inputs, targets)``, every case of the task.
        lr: $\\varepsilon > 0$ (the paper: 0.1).
        momentum: $\\alpha$ in [0, 1) (the paper: 0.9).
        max_sweeps: give up after this many sweeps, an int >= 1.
        margin: the [`solved`][nutshell.history.representations.solved] criterion.
        device: where to train (default: CUDA when available).

    Returns:
        One [`Run`][nutshell.history.representations.Run] per net, in order: ``sweeps`` is the
        number of weight changes after which the net first solved the task (its ``model`` is
        a copy of it at that moment), or ``None`` (the ``model`` after ``max_sweeps``).

    Raises:
        ValueError: for a learning rate, momentum, margin or sweep limit out of range, or
            nets that are missing or differ in shape.
    """
    if not lr > 0:
        raise ValueError(f"Invalid learning rate: {lr!r} (lr must be > 0)")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"Invalid momentum: {momentum!r} (momentum must be in [0, 1))")
    if not isinstance(max_sweeps, int) or max_sweeps < 1:
        raise ValueError(f"max_sweeps must be an int >= 1, got {max_sweeps!r}")
    if not 0.0 < margin <= 1.0:
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    dev = resolve(device)
    stack = SideBySide(nets).to(dev)
    x, d = task[0].to(dev), task[1].to(dev)
    count = len(nets)
    sweeps: list[int | None] = [None] * count
    snapshots: list[nn.Sequential | None] = [None] * count
    errors: list[torch.Tensor] = []

    def record(step: int, model: nn.Module, loss: float) -> bool:
        with torch.no_grad():
            out = model(x)  # (nets, cases, outputs)
            # E_r = 1/2 sum_c sum_j (y - d)^2, per net
            errors.append(0.5 * (out - d).pow(2).sum(dim=(1, 2)))
            # solved when max |y - d| < margin, per net
            done = ((out - d).abs().amax(dim=(1, 2)) < margin).tolist()
        for r in range(count):
            if done[r] and sweeps[r] is None:
                sweeps[r], snapshots[r] = step, stack.member(r)
        return all(s is not None for s in sweeps)

    if not record(0, stack, 0.0):  # nets solved before any sweep need none
        fit(
            stack,
            (x, d),
            epochs=max_sweeps,
            batch_size=len(x),  # one sweep = one step over every case
            optimizer=lambda params: torch.optim.SGD(params, lr=lr, momentum=momentum),
            # sum_r E_r: each net's gradient is its own
            loss_fn=lambda out, target: squared_error(out, target.expand_as(out)),
            device=dev,
            callback=record,
            progress=False,
        )
    curves = torch.stack(errors).cpu().T.tolist()  # nets x (sweeps + 1), E after each sweep
    return [
        Run(
            snapshots[r] if sweeps[r] is not None else stack.member(r),
            sweeps[r],
            curves[r][1 : (sweeps[r] if sweeps[r] is not None else len(curves[r])) + 1],
        )
        for r in range(count)
    ]


# %% [markdown]
# ## Demo 1: the 8-3-8 encoder invents a code
#
# Five seeds, the paper's settings. For each trained network we read the three hidden activations
# for each of the eight inputs: that is the code the network made up.

# %% active="ipynb"
# import statistics
#
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.device import default_device
#
# device = default_device()
# x8, d8 = encoder_task(8)
# encoders = train([sigmoid_net((8, 3, 8), seed=seed) for seed in range(5)], (x8, d8), device=device)
# codes = []
# for run in encoders:
#     with torch.no_grad():
#         codes.append(run.model[:2](x8.to(device)).cpu())  # hidden activations, 8 x 3
# sweeps8 = [run.sweeps for run in encoders]
# print("sweeps to solve, per seed:", sweeps8)

# %% [markdown]
# Each code is a point in the unit cube. Two things make it a *code* rather than a blur: the eight
# points are far apart (no two inputs look alike to the output layer), and the units are mostly
# close to fully on or fully off, like bits.

# %% active="ipynb"
# codes_t = torch.stack(codes)  # seeds x inputs x units
# # distance of every hidden value to the nearer of 0 and 1
# off_binary = (codes_t - codes_t.round()).abs()
# near_binary = (off_binary < 0.2).float().mean().item()
# # smallest distance between two inputs' codes, per seed
# closest = [torch.pdist(c).min().item() for c in codes]
# n_solved8 = sum(s is not None for s in sweeps8)
# print(f"solved {n_solved8}/5; sweeps {min(s for s in sweeps8 if s)}-{max(s for s in sweeps8 if s)}")
# print(f"hidden values within 0.2 of 0 or 1: {near_binary:.0%}")
# print("closest pair of codes per seed:", [round(c, 2) for c in closest])
#
# fig, axes = figures.subplots(
#     1, 5, width=7.5, height=3.6,
#     title=f"Each input gets its own code; {near_binary:.0%} of hidden values are near 0 or 1",
# )
# for seed, (ax, code) in enumerate(zip(axes, codes, strict=True)):
#     ax.imshow(code.numpy(), cmap="Greys", vmin=0, vmax=1)
#     for i in range(8):
#         for j in range(3):
#             v = code[i, j].item()
#             ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7,
#                     color="white" if v > 0.5 else "black")
#     ax.set(title=f"seed {seed}\n{sweeps8[seed]} sweeps", xticks=range(3), yticks=range(8))
#     ax.set_xlabel("hidden unit")
#     ax.grid(False)
# axes[0].set_ylabel("input that is on")

# %% active="ipynb"
# claim(
#     "the 8-3-8 encoder solves the task with the paper's settings on every seed",
#     measured=f"{n_solved8}/5 seeds, {statistics.median(s for s in sweeps8 if s):.0f} sweeps median",
#     expected="5/5 within 5,000 sweeps",
#     holds=n_solved8 == 5,
# )
# claim(
#     "its hidden layer gives each input a distinct code",
#     measured=f"closest pair of codes {min(closest):.2f} apart",
#     expected="every pair > 0.3 apart (in the 3-unit hidden space)",
#     holds=min(closest) > 0.3,
# )
# claim(
#     "the codes are near-binary: most hidden values sit near 0 or 1",
#     measured=f"{near_binary:.0%} within 0.2 of 0 or 1",
#     expected=">= 2/3",
#     holds=near_binary >= 2 / 3,
# )

# %% [markdown]
# "Near-binary" is the honest word, not "binary". Three units have exactly eight corners, so a
# fully binary code for eight inputs has to use every corner of the cube; the heat maps show that
# the networks often prefer to park one or two inputs on an intermediate value (around 0.5) of one
# unit instead, which the output layer can still tell apart. The sweeps are of the same order as
# the REPLICAS calibration (360 to 616), which used a criterion we do not know; ours is the
# correct-side-of-one-half rule above.
#
# ## Demo 2: the symmetry detector of the Nature paper
#
# Ten seeds, the paper's settings, at most 5,000 sweeps each. Of the 64 input vectors only 8 are
# palindromes, so a network that answers "no" to everything is already right 56 times out of 64;
# its error is $E = \frac12 \cdot 8 = 4$. Watch for that number.

# %% active="ipynb"
# x6, d6 = symmetry_task(6)
# seeds = range(10)
# runs = train([sigmoid_net((6, 2, 1), seed=seed) for seed in seeds], (x6, d6), device=device)
# sweeps6 = [run.sweeps for run in runs]
# solved6 = [s for s in sweeps6 if s is not None]
# median6 = statistics.median(solved6) if solved6 else float("nan")
# print("sweeps to solve, per seed:", sweeps6)
# print(f"solved {len(solved6)}/10 within 5,000 sweeps; median of the solved runs {median6:.0f} "
#       "(paper: 1,425)")

# %% [markdown]
# Some runs solve the task; the others end exactly where the warning above pointed: their error
# sits at $E = 4$, the network says "no" to every input. The first few sweeps put them there. 56 of
# the 64 targets are 0, so the first gradients push the output unit hard towards "no", and momentum
# keeps pushing; within a few sweeps the output unit is saturated, its slope
# $\sigma'(x) = y(1 - y)$ is close to zero for every case, and so is every gradient that has to
# pass through it. The run then crawls along a nearly flat plateau and may or may not find its way
# off within 5,000 sweeps. Rumelhart, Hinton and Williams remarked that their procedure rarely got
# stuck except in networks with just enough units for the task, and 6-2-1 is such a network.
#
# A check of that reading: with the learning rate halved, the first sweeps are gentler, the output
# unit should saturate less deeply, and runs should leave the plateau sooner. This variant is ours,
# not the paper's. We measure the output unit's largest slope over the 64 cases after 20 sweeps,
# and train all ten seeds again.

# %% active="ipynb"
# def slope_after(sweeps: int, lr: float) -> float:
#     """Median over the seeds of the output unit's largest slope y(1 - y) after a few sweeps."""
#     early = train([sigmoid_net((6, 2, 1), seed=seed) for seed in seeds], (x6, d6), lr=lr,
#                   max_sweeps=sweeps, device=device)
#     with torch.no_grad():
#         slopes = [(y * (1 - y)).max().item() for y in (run.model(x6.to(device)) for run in early)]
#     return statistics.median(slopes)
#
#
# slope_paper, slope_gentle = slope_after(20, 0.1), slope_after(20, 0.05)
# print(f"output unit's largest slope after 20 sweeps (median of 10 seeds): "
#       f"lr 0.1: {slope_paper:.1e}, lr 0.05: {slope_gentle:.1e}")
#
# gentle = train([sigmoid_net((6, 2, 1), seed=seed) for seed in seeds], (x6, d6), lr=0.05,
#                device=device)
# sweeps_gentle = [run.sweeps for run in gentle]
# solved_gentle = [s for s in sweeps_gentle if s is not None]
# median_gentle = statistics.median(solved_gentle) if solved_gentle else float("nan")
# print("lr 0.05, sweeps to solve, per seed:", sweeps_gentle)
#
#
# def plateau_share(run: Run) -> float:
#     """Share of a run's sweeps spent with E within 0.05 of 4 (the 'always no' answer)."""
#     return sum(abs(e - 4.0) < 0.05 for e in run.error) / max(len(run.error), 1)
#
#
# unsolved = [run for run in runs if run.sweeps is None]
# on_plateau = min((plateau_share(run) for run in unsolved), default=1.0)
# print(f"unsolved runs: {len(unsolved)}; the least stuck spent {on_plateau:.0%} of its sweeps "
#       "at E = 4")

# %% active="ipynb"
# fig, axes = figures.subplots(
#     1, 2, sharex=True, sharey=True,
#     title=f"Paper's settings: {len(solved6)}/10 runs solve it; the rest stay at E = 4",
# )
# for ax, group, lr in ((axes[0], runs, 0.1), (axes[1], gentle, 0.05)):
#     for run in sorted(group, key=lambda r: r.sweeps is not None):  # unsolved first, underneath
#         solved_run = run.sweeps is not None
#         ax.plot(run.error, color=figures.color("replica" if solved_run else "baseline"),
#                 lw=1.2 if solved_run else 3, alpha=0.9)
#     ax.axvline(1425, color="black", ls="--", lw=1)
#     ax.set(xlabel="sweep", ylim=(0, 11),
#            title=f"learning rate {lr}: {sum(r.sweeps is not None for r in group)}/10 solved")
# axes[0].set_ylabel("error E (sum over 64 cases)")
# axes[0].plot([], [], color=figures.color("replica"), label="solved (run stops)")
# axes[0].plot([], [], color=figures.color("baseline"), lw=3, label="not solved: E = 4")
# axes[0].plot([], [], color="black", ls="--", lw=1, label="paper: 1,425 sweeps")
# axes[0].legend(loc="lower right", fontsize=8)

# %% [markdown]
# ## What the solved networks learned
#
# The paper's drawing of its solved network shows the trick: the three inputs of the left half get
# weights in the ratio 1:2:4, their mirror images on the right half the same sizes with the
# opposite sign, and the hidden bias keeps the unit off when the two halves cancel. A palindrome
# always balances to zero, and because 1, 2 and 4 are powers of two, no other input can balance:
# every non-palindrome turns one of the two hidden units on, which turns the output off.
#
# We measure both features on every solved network: the mirror asymmetry
# $\max_i |w_i + w_{7-i}| \,/\, \max_i |w_i|$ (0 for exactly equal and opposite weights) and the
# sizes of the three mirror pairs, in units of the smallest.
#
#
#
#


# %%
def mirror_weights(weight: torch.Tensor) -> tuple[float, list[float]]:
    """Mirror asymmetry and size ratio of input-to-hidden weights of a symmetry network.

    The asymmetry is $\\max_{h,i} |w_{h,i} + w_{h,n+1-i}| / \\max_{h,i} |w_{h,i}|$: 0 when every
    pair of mirror-image inputs has equal and opposite weights. The ratio lists the sizes of
    the $n/2$ mirror pairs of each hidden unit, sorted, divided by the smallest, averaged over
    hidden units (the paper: 1 : 2 : 4).

    Args:
        weight: ``(hidden, n)`` weights, $n$ even.

    Raises:
        ValueError: when ``weight`` is not 2-D with an even number of columns.
    """
    if weight.ndim != 2 or weight.shape[1] % 2 or weight.shape[1] == 0:
        raise ValueError(
            f"weight must be 2-D with an even, positive number of columns, got {tuple(weight.shape)}"
        )
    w = weight.detach().double().cpu()
    # |w_i + w_{n+1-i}| / max |w|
    asymmetry = ((w + w.flip(1)).abs().max() / w.abs().max()).item()
    pairs = w[:, : w.shape[1] // 2].abs().sort(dim=1).values
    ratio = (pairs / pairs[:, :1]).mean(dim=0).tolist()
    return asymmetry, ratio


# %% active="ipynb"
# mirror = {
#     seed: mirror_weights(run.model[0].weight)
#     for seed, run in enumerate(runs)
#     if run.sweeps is not None
# }
# for seed, (asym, ratio) in mirror.items():
#     print(f"seed {seed}: solved after {sweeps6[seed]} sweeps, mirror asymmetry {asym:.3f}, "
#           f"pair sizes 1 : {ratio[1]:.2f} : {ratio[2]:.2f}")
# worst_asym = max((a for a, _ in mirror.values()), default=float("nan"))
# near_124 = [s for s, (_, r) in mirror.items() if abs(r[1] - 2) < 0.2 and abs(r[2] - 4) < 0.4]
# print(f"largest asymmetry {worst_asym:.3f}; within 10% of 1:2:4: seeds {near_124}")

# %% [markdown]
# The Hinton diagram below draws each weight as a square whose area is its size: filled squares
# are positive, hollow ones negative. It shows the solved run closest to 1:2:4.

# %% active="ipynb"
# from matplotlib.patches import Rectangle
#
# best = min(mirror, key=lambda s: abs(mirror[s][1][1] - 2) + abs(mirror[s][1][2] - 4))
# net = runs[best].model
# w_in = net[0].weight.detach().cpu()
# b_in = net[0].bias.detach().cpu()
# w_out = net[2].weight.detach().cpu()[0]
# b_out = net[2].bias.detach().cpu()[0]
# ratio = mirror[best][1]
#
#
# def hinton(ax, x0, y0, value, scale, color):
#     side = (abs(value) / scale) ** 0.5 * 0.9
#     ax.add_patch(Rectangle((x0 - side / 2, y0 - side / 2), side, side,
#                            facecolor=color if value > 0 else "white", edgecolor=color, lw=1.5))
#     ax.text(x0, y0 - 0.62, f"{value:+.1f}", ha="center", va="top", fontsize=7)
#
#
# fig, ax = figures.subplots(
#     title=f"Seed {best}: mirror weights equal and opposite, sizes 1 : {ratio[1]:.1f} : "
#           f"{ratio[2]:.1f} (paper 1 : 2 : 4)",
#     width=7.5, height=2.9,
# )
# scale = max(w_in.abs().max(), w_out.abs().max(), b_in.abs().max(), b_out.abs().max()).item()
# for h in range(2):
#     row = 1 - h
#     for i in range(6):
#         hinton(ax, i, row * 1.6, w_in[h, i].item(), scale, figures.color("replica"))
#     hinton(ax, 6.5, row * 1.6, b_in[h].item(), scale, figures.color("baseline"))
#     hinton(ax, 8.2, row * 1.6, w_out[h].item(), scale, figures.color("test"))
# hinton(ax, 9.4, 0.8, b_out.item(), scale, figures.color("baseline"))
# ax.set(xlim=(-0.7, 10.1), ylim=(-0.9, 2.3), aspect="equal",
#        xticks=[0, 1, 2, 3, 4, 5, 6.5, 8.2, 9.4],
#        xticklabels=["in 1", "in 2", "in 3", "in 4", "in 5", "in 6", "bias", "to out", "out bias"],
#        yticks=[0, 1.6], yticklabels=["hidden 2", "hidden 1"])
# ax.grid(False)
# ax.axvline(2.5, color="#BBBBBB", lw=1, ls=":")
# ax.set_xlabel("filled: positive, hollow: negative; area proportional to |weight|", fontsize=9)

# %% [markdown]
# ## The claims

# %% active="ipynb"
# claim(
#     "with the paper's settings, back-propagation finds the symmetry solution",
#     measured=f"{len(solved6)}/10 seeds within 5,000 sweeps, median {median6:.0f} sweeps",
#     expected=">= 1 of 10 seeds (REPLICAS calibration: >= 7/10)",
#     holds=len(solved6) >= 1,
#     paper="1,425 sweeps (one run)",
# )
# claim(
#     "every unsolved run is stuck on the 'always no' plateau, E = 4",
#     measured=f"{len(unsolved)} unsolved; least share of sweeps at E = 4: {on_plateau:.0%}",
#     expected=">= 80% of each unsolved run's sweeps within 0.05 of E = 4",
#     holds=on_plateau >= 0.8,
# )
# claim(
#     "the paper's learning rate saturates the output unit far more deeply in the first sweeps",
#     measured=f"largest slope after 20 sweeps {slope_paper:.1e} (lr 0.1) vs {slope_gentle:.1e} (lr 0.05)",
#     expected="at least 10x smaller at lr 0.1",
#     holds=slope_paper * 10 <= slope_gentle,
# )
# claim(
#     "with the learning rate halved, the runs leave the plateau: almost every seed solves it",
#     measured=f"{len(solved_gentle)}/10 seeds, median {median_gentle:.0f} sweeps",
#     expected=">= 9/10 seeds within 5,000 sweeps",
#     holds=len(solved_gentle) >= 9,
# )
# claim(
#     "in every solved network, mirror-image inputs have equal and opposite weights",
#     measured=f"largest mirror asymmetry {worst_asym:.3f} over {len(mirror)} solved runs",
#     expected="< 0.05",
#     holds=bool(mirror) and worst_asym < 0.05,
#     paper="equal and opposite",
# )

# %% [markdown]
# The size ratio is reported, not asserted: among the solved runs above, the pair sizes printed
# next to each seed show how close each came to 1:2:4. Powers of two are the simplest ratio that
# keeps every non-palindrome unbalanced, but not the only one, and a run that reaches the solved
# criterion does not have to land on it.
#
# ## What the replica shows, and what it leaves out
#
# - **Kept**: the two architectures, logistic units with biases, the summed squared error, one
#   weight change per sweep, the paper's learning rate, momentum and initial weight range.
# - **Changed**: the paper reports one run per task; we run several seeds and report every one,
#   with a stated criterion for "solved" (every output on the correct side of one half). Floating
#   point and the random draws differ, and on a plateau such tiny differences decide when a run
#   escapes, so the count of solved seeds is a sample, not a constant: the REPLICAS calibration
#   saw at least 7 of 10 within 5,000 sweeps, our seeds give the count printed above, and on
#   another device the same seeds can give a different count. The seeds of each experiment
#   train side by side in one batched model, each exactly as if alone.
# - **Not replicated**: the paper's larger demonstration, the family-tree network, whose hidden
#   units came to stand for nationality, generation and branch of the family without being told.
#   The encoder plays its part here at a size a page can train in seconds.
#
# What both networks show is the article's point. Nobody gave the encoder its code or told
# the symmetry detector to weigh its inputs 1, 2, 4: the code and the weights are the network's own
# invention, found by following the gradient of one error number. That is why the 1986 paper made
# back-propagation famous even though the algorithm was older: it showed that the hidden layer
# learns a representation, and the representation is distributed over the units.
