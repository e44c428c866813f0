# %% [markdown]
# # The GPU era: deep, big, simple nets
#
# *Annotates the article's section **Brief history (深度学习的简史)**: Ciresan, Meier, Gambardella &
# Schmidhuber 2010, *Deep, big, simple neural nets for handwritten digit recognition*, and Ciresan,
# Meier & Schmidhuber 2012, *Multi-column deep neural networks for image classification*.*
#
# The article's history turns on hardware. Waiting for faster computers and then moving to graphics
# processing units (GPUs) made neural networks about a thousand times faster within ten years, and
# with that speed Dan Ciresan and colleagues at IDSIA showed, in 2011 and 2012, that deep networks
# no longer needed [layer-wise pretraining](pretraining.md): trained long enough, from random
# weights, on a GPU, they won competitions in handwriting, traffic signs and medical images.
#
# Their 2010 paper made the point with almost provocative simplicity. A plain multi-layer
# perceptron, nothing but fully connected layers, with hidden layers of 2,500, 2,000, 1,500, 1,000
# and 500 units, trained with ordinary online back-propagation, reached **0.35%** test error on
# MNIST, better than any of the more elaborate methods of the time. Two things made it work: a GPU
# fast enough to run many epochs of a 12-million-weight network, and an endless supply of new
# training digits made by **deforming** the old ones, so that the big network could not simply
# memorise its 60,000 examples. In 2012 they averaged the outputs of many deep convolutional
# networks, each trained on differently preprocessed digits, into a **multi-column** committee
# and reached **0.23%**.
#
# This page measures the three ingredients on a scale that fits one CPU thread:
#
# 1. the training throughput of the same network on the CPU and, when the build has one, on a
#    CUDA GPU, measured rather than assumed;
# 2. elastic and affine deformations of real digits, and how much they lower the test error of a
#    small network trained on 4,000 of them;
# 3. a committee of such networks against its average member.
#
# ## Demo 1: the same network on every device this build has
#
# Throughput here means training examples per second through the site's one training loop,
# [`fit`][nutshell.training.loop.fit]: forward pass, loss, backward pass and SGD update, minibatches
# of 128. We time two networks after a short warm-up: a small perceptron (784-1000-500-10) and one
# with the hidden layers of Ciresan's largest (784-2500-2000-1500-1000-500-10, 12 million weights).

# %%
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nutshell.device import resolve
from nutshell.training.loop import fit


def mlp(
    hidden: Sequence[int], *, inputs: int = 784, classes: int = 10, seed: int = 0
) -> nn.Sequential:
    """A plain perceptron with tanh hidden units, as in Ciresan et al. (2010).

    $h_l = \\tanh(W_l h_{l-1} + b_l)$, scores $z = W_{L+1} h_L + b_{L+1}$; images are
    flattened first, so it takes ``(N, 1, 28, 28)`` or ``(N, 784)`` inputs.
    """
    hidden = list(hidden)
    if any(not isinstance(h, int) or h < 1 for h in hidden):
        raise ValueError(f"hidden must be a sequence of ints >= 1, got {hidden!r}")
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    sizes = [inputs, *hidden]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.Tanh()]
    layers.append(nn.Linear(sizes[-1], classes))
    return nn.Sequential(*layers)


def training_throughput(
    make_model: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 128,
    steps: int = 20,
    warmup: int = 2,
) -> float:
    """Training examples per second of a fresh ``make_model()`` through `fit` on ``device``.

    Runs ``warmup`` untimed steps first (CUDA initialises its kernels and caches then), then
    ``steps`` timed ones; on CUDA the clock stops only after the device has finished.

    Raises:
        ValueError: when ``steps``, ``warmup`` or ``batch_size`` is out of range.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    if not isinstance(batch_size, int) or not 1 <= batch_size <= len(x):
        raise ValueError(f"batch_size must be an int in [1, {len(x)}], got {batch_size!r}")
    dev = resolve(device)
    x, y = x.to(dev), y.to(dev)
    model = make_model().to(dev)
    epochs = math.ceil((steps + warmup) * batch_size / len(x)) + 1
    if warmup:
        fit(model, (x, y), epochs=epochs, batch_size=batch_size, max_steps=warmup, device=dev)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    sync()
    start = time.perf_counter()
    fit(model, (x, y), epochs=epochs, batch_size=batch_size, max_steps=steps, device=dev)
    sync()
    return steps * batch_size / (time.perf_counter() - start)


# %% active="ipynb"
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import generator, mnist
# from nutshell.device import default_device, describe
#
# device = default_device()
# data = mnist(device=device)  # 4,000 training and 1,000 test digits, 1x28x28, ink in [0, 1]
# print(data)
#
# devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
# nets = {
#     "784-1000-500-10": (lambda: mlp([1000, 500]), 20),
#     "784-2500-2000-1500-1000-500-10": (lambda: mlp([2500, 2000, 1500, 1000, 500]), 4),
# }
# speed = {}
# for dev in devices:
#     for name, (make, steps) in nets.items():
#         speed[dev.type, name] = training_throughput(
#             make, data.x_train, data.y_train, device=dev, steps=steps
#         )
#         print(f"{describe(dev):40s} {name:32s} {speed[dev.type, name]:>12,.0f} examples/s")
# if len(devices) == 1:
#     print("This build has no CUDA device: only the CPU was measured, so this page claims no "
#           "speed-up.")

# %% active="ipynb"
# measured_cuda = torch.cuda.is_available()
# if measured_cuda:
#     ratios = {name: speed["cuda", name] / speed["cpu", name] for name in nets}
#     title = (f"CUDA trained the big net {ratios[list(nets)[1]]:,.0f}x faster than one CPU "
#              "thread")
# else:
#     title = "Measured on the CPU only: this build has no CUDA device"
# fig, ax = figures.subplots(title=title, width=7.5)
# width = 0.8 / len(devices)
# for i, dev in enumerate(devices):
#     values = [speed[dev.type, name] for name in nets]
#     bars = ax.bar([j + i * width for j in range(len(nets))], values, width,
#                   color=figures.color(dev.type), label=describe(dev))
#     ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8)
# ax.set(xticks=[j + width * (len(devices) - 1) / 2 for j in range(len(nets))],
#        xticklabels=list(nets), ylabel="training examples per second")
# if max(speed.values()) / min(speed.values()) > 30:  # several decades: a log scale
#     ax.set_yscale("log")
#     ax.yaxis.set_minor_formatter(lambda v, _: "")
# ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
# ax.grid(axis="x", visible=False)
# ax.set_axisbelow(True)
# ax.legend()
# if measured_cuda:
#     for name, ratio in ratios.items():
#         claim(
#             f"on this machine CUDA trains the {name} net faster than one CPU thread",
#             measured=f"{ratio:,.1f}x",
#             expected="> 1x (measured, not assumed)",
#             holds=ratio > 1,
#         )

# %% [markdown]
# Only what was measured is shown: on a machine without a GPU the figure has one colour and the
# page claims nothing about speed. The CPU figures are for **one thread**, the way every page of
# this site runs; a many-core CPU would be several times faster, and a small network on a big GPU
# spends much of its time waiting for the Python loop, so the ratio depends heavily on the size of
# the network and of the minibatch. The article's "a thousand times faster in ten years" compares
# hardware generations, which no single machine can measure.
#
# ## Deformations: new digits from old
#
# Ciresan and colleagues deformed every training digit afresh in every epoch, with the elastic
# distortions that Patrice Simard, Dave Steinkraus and John Platt introduced in 2003 (*Best
# practices for convolutional neural networks applied to visual document analysis*) plus affine
# ones (rotation, scaling and horizontal shearing). An output pixel at $p$ takes its value from the
# input at
#
# $$
# q = c + A\,(p - c) + \alpha\, d(p),
# \qquad
# A = \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}
#     \begin{pmatrix}1 & k\\ 0 & 1\end{pmatrix}
#     \begin{pmatrix}s_x & 0\\ 0 & s_y\end{pmatrix},
# $$
#
# read off with bilinear interpolation, where $c$ is the centre of the image, the angle
# $\theta$, the shear $k$ and the scales $s_x, s_y$ are drawn uniformly per image, and the elastic
# field $d$ is white noise, uniform in $[-1, 1]$ for each pixel and direction, smoothed by a Gaussian
# of width $\sigma$:
#
# $$
# d = G_\sigma\, u\, G_\sigma^\top, \qquad u_{ij} \sim \mathcal{U}[-1, 1],
# \qquad (G_\sigma)_{ij} = \frac{e^{-(i-j)^2 / 2\sigma^2}}{\sum_t e^{-t^2/2\sigma^2}} .
# $$
#
# Multiplying by the matrix $G_\sigma$ on both sides is the same separable Gaussian filter as
# Simard's convolution (with zeros beyond the border), and much faster on a CPU than a convolution
# with a 25-tap kernel. A small $\sigma$ gives a field that looks random, a large one a nearly
# uniform shift; around $\sigma = 4$ it bends strokes the way hands do. $\alpha$ sets the size of
# the displacement in pixels. The defaults below are Simard's $\sigma = 4$, $\alpha = 34$, with
# rotations up to 10°, scaling up to 10% and shearing up to 0.1.
#


# %%
def gaussian_matrix(n: int, sigma: float) -> torch.Tensor:
    """The $n \\times n$ matrix $G_\\sigma$ that smooths a vector with a Gaussian of width $\\sigma$.

    $(G_\\sigma)_{ij} = e^{-(i-j)^2/2\\sigma^2} / \\sum_t e^{-t^2/2\\sigma^2}$ (zero padding).
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    i = torch.arange(n, dtype=torch.float64)
    radius = torch.arange(-n + 1, n, dtype=torch.float64)
    kernel_sum = torch.exp(-(radius**2) / (2 * sigma**2)).sum()
    return torch.exp(-((i[:, None] - i[None, :]) ** 2) / (2 * sigma**2)) / kernel_sum


def deform(
    images: torch.Tensor,
    *,
    alpha: float = 34.0,
    sigma: float = 4.0,
    rotate: float = 10.0,
    scale: float = 0.1,
    shear: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Elastic and affine deformations of a batch of images (Simard et al. 2003; Ciresan et al. 2010).

    Output pixel $p$ samples the input at $q = c + A(p - c) + \\alpha\\, G_\\sigma u
    G_\\sigma^\\top$ with bilinear interpolation (zeros outside), where $A$ rotates by
    $\\theta \\sim \\mathcal{U}[\\pm$``rotate``$]$ degrees, shears horizontally by
    $k \\sim \\mathcal{U}[\\pm$``shear``$]$ and scales each axis by
    $s \\sim \\mathcal{U}[1 \\pm$``scale``$]$, and $u \\sim \\mathcal{U}[-1, 1]$ per pixel and
    direction. With all strengths 0 the images come back unchanged.

    Args:
        images: ``(N, C, H, W)`` floating-point images, any device.
        alpha: size of the elastic displacement in pixels (>= 0).
        sigma: smoothness of the elastic field in pixels (> 0).
        rotate: largest rotation in degrees, in [0, 180].
        scale: largest relative change of size, in [0, 1).
        shear: largest horizontal shear (>= 0).
        generator: a CPU generator for the random draws (made on the CPU, then moved, so a
            seeded generator gives the same deformation on every device).

    Raises:
        ValueError: for images that are not a 4-D floating-point batch of at least 2x2 pixels,
            or a strength out of its range.
    """
    if not torch.is_tensor(images) or images.ndim != 4 or not images.is_floating_point():
        raise ValueError("images must be a floating-point tensor of shape (N, C, H, W)")
    n, _, h, w = images.shape
    if h < 2 or w < 2:
        raise ValueError(f"images must be at least 2x2 pixels, got {h}x{w}")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    if not 0 <= rotate <= 180:
        raise ValueError(f"rotate must be in [0, 180] degrees, got {rotate!r}")
    if not 0 <= scale < 1:
        raise ValueError(f"scale must be in [0, 1), got {scale!r}")
    if not shear >= 0:
        raise ValueError(f"shear must be >= 0, got {shear!r}")

    def uniform(*shape: int) -> torch.Tensor:  # U[-1, 1], drawn on the CPU
        return torch.rand(*shape, generator=generator) * 2 - 1

    # d = G_sigma u G_sigma^T, for both directions of every image
    field = (
        gaussian_matrix(h, sigma).float() @ uniform(n, 2, h, w) @ gaussian_matrix(w, sigma).float()
    )
    theta = uniform(n) * math.radians(rotate)
    k = uniform(n) * shear
    s = 1 + uniform(n, 2) * scale
    cos, sin = torch.cos(theta), torch.sin(theta)
    # A = R(theta) [[1, k], [0, 1]] diag(s_x, s_y)
    a = torch.stack(
        [
            torch.stack([cos * s[:, 0], (cos * k - sin) * s[:, 1]], dim=1),
            torch.stack([sin * s[:, 0], (sin * k + cos) * s[:, 1]], dim=1),
        ],
        dim=1,
    )
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
    )
    centre = torch.tensor([(w - 1) / 2, (h - 1) / 2])
    p = torch.stack([cols, rows], dim=-1) - centre  # (H, W, 2) as (x, y)
    # q = c + A (p - c) + alpha d(p)
    q = torch.einsum("nij,hwj->nhwi", a, p) + centre + alpha * field.permute(0, 2, 3, 1)
    grid = 2 * q / torch.tensor([w - 1, h - 1]) - 1  # grid_sample wants [-1, 1]
    grid = grid.to(device=images.device, dtype=images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


class Deform(nn.Module):
    """A layer that deforms its input batch while training and passes it through in eval mode.

    Put it in front of a network and every minibatch that [`fit`][nutshell.training.loop.fit]
    draws is deformed afresh, as Ciresan et al. deformed every digit in every epoch. It keeps
    its own seeded generator, so a run is reproducible.
    """

    def __init__(self, *, seed: int = 0, **strengths: float):
        super().__init__()
        deform(torch.zeros(1, 1, 2, 2), **strengths)  # check the strengths now, not mid-training
        self.strengths = strengths
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return images
        return deform(images, generator=self.generator, **self.strengths)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.strengths.items())


# %% active="ipynb"
# sample = data.x_test[:6]
# views = [sample] + [deform(sample, generator=generator(seed)) for seed in range(5)]
# fig, axes = figures.subplots(6, 6, width=5.5, height=5.8,
#                              title="Each row: a test digit and five random deformations of it")
# for r in range(6):
#     for c, images in enumerate(views):
#         ax = axes[r, c]
#         ax.imshow(images[r, 0].cpu(), cmap="gray_r", vmin=0, vmax=1)
#         ax.set(xticks=[], yticks=[])
#         ax.grid(False)
#         for spine in ax.spines.values():
#             spine.set_visible(False)
#     axes[0, r].set_title("original" if r == 0 else f"deformed {r}", fontsize=8)

# %% [markdown]
# ## Demo 2: deformations and a committee
#
# Each network is a small version of Ciresan's perceptrons, 784-300-100-10 with tanh units,
# trained for 10 epochs with [SGD with momentum](../training/momentum.md) (learning rate 0.05,
# momentum 0.9, minibatches of 64) on the 4,000 training digits. Three are trained on the digits as
# they are, five behind a `Deform` layer that shows them a fresh deformation of every digit at every
# step. A committee averages its members' class probabilities:
#
# $$
# p(y \mid x) = \frac{1}{M} \sum_{m=1}^{M} \operatorname{softmax}\big(f_m(x)\big)_y ,
# $$
#
# the rule of the 2012 multi-column networks (their columns also saw differently normalised
# inputs; ours differ only in their random seeds).
#


# %%
def committee(models: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """Average class probabilities of several networks, evaluated in eval mode.

    $p(y \\mid x) = \\frac{1}{M}\\sum_m \\operatorname{softmax}(f_m(x))_y$.

    Raises:
        ValueError: when ``models`` is empty.
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one network")
    total = 0
    with torch.no_grad():
        for model in models:
            was_training = model.training
            model.eval()
            total = total + F.softmax(model(x), dim=1)
            model.train(was_training)
    return total / len(models)


def error_rate(probabilities: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of examples whose most probable class is not the label."""
    return (probabilities.argmax(dim=1) != labels).float().mean().item()


# %% active="ipynb"
# def train_member(seed: int, deformed: bool):
#     net = mlp([300, 100], seed=seed)
#     model = nn.Sequential(Deform(seed=seed), net) if deformed else net
#     fit(model, data, epochs=10, batch_size=64, seed=seed,
#         optimizer=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))
#     return model
#
#
# n_weights = sum(p.numel() for p in mlp([300, 100]).parameters())
# print(f"each member: 784-300-100-10, {n_weights:,} weights")
# start = time.perf_counter()
# members = {
#     "plain": [train_member(seed, deformed=False) for seed in range(3)],
#     "deformed": [train_member(seed, deformed=True) for seed in range(5)],
# }
# print(f"trained 8 networks in {time.perf_counter() - start:.1f} s")
# x_test, y_test = data.test
# errors = {kind: [error_rate(committee([m], x_test), y_test) for m in models]
#           for kind, models in members.items()}
# mean_error = {kind: sum(e) / len(e) for kind, e in errors.items()}
# committee_error = {kind: error_rate(committee(models, x_test), y_test)
#                    for kind, models in members.items()}
# for kind in members:
#     print(f"{kind:9s} members: " + ", ".join(f"{e:.1%}" for e in errors[kind])
#           + f"; mean {mean_error[kind]:.2%}; committee of {len(members[kind])}: "
#           f"{committee_error[kind]:.2%}")

# %% active="ipynb"
# fig, ax = figures.subplots(
#     title=f"Deformations: {mean_error['plain']:.1%} -> {mean_error['deformed']:.1%}; "
#     f"committee of 5: {committee_error['deformed']:.1%}",
#     width=7.5,
# )
# groups = [("plain", "no deformations"), ("deformed", "deformed digits")]
# for g, (kind, label) in enumerate(groups):
#     xs = [g * 3 + 0.15 * (i - (len(errors[kind]) - 1) / 2) for i in range(len(errors[kind]))]
#     ax.scatter(xs, errors[kind], color=figures.color("baseline"), zorder=3,
#                label="single networks" if g == 0 else None)
#     ax.hlines(mean_error[kind], g * 3 - 0.5, g * 3 + 0.5, color=figures.color("baseline"),
#               ls="--", label="mean of the members" if g == 0 else None)
#     ax.bar(g * 3 + 1.1, committee_error[kind], 0.6, color=figures.color("replica"),
#            label="committee" if g == 0 else None)
# ax.axhline(0.0035, color=figures.color("paper"), ls=":", lw=1.5)
# ax.text(-0.9, 0.0045, "0.35%: Ciresan 2010, one MLP; 0.23%: multi-column 2012", va="bottom",
#         ha="left", fontsize=8, color=figures.color("paper"))
# ax.axhline(0.0023, color=figures.color("paper"), ls="-.", lw=1.5)
# ax.grid(axis="x", visible=False)
# ax.set_axisbelow(True)
# ax.set(xticks=[0.5, 3.5], xticklabels=[label for _, label in groups], xlim=(-1, 5.4),
#        ylim=(0, max(errors["plain"]) * 1.15), ylabel="test error (1,000 digits)")
# ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.2%}")
# ax.legend(loc="upper right")
# claim(
#     "training on deformed digits lowers the test error",
#     measured=f"{mean_error['plain']:.2%} -> {mean_error['deformed']:.2%} (mean of the members)",
#     expected="deformed < plain",
#     holds=mean_error["deformed"] < mean_error["plain"],
#     paper="0.35% (12M-weight MLP, 60,000 deformed digits)",
# )
# claim(
#     "the committee beats its average member",
#     measured=f"{committee_error['deformed']:.2%} vs {mean_error['deformed']:.2%}",
#     expected="committee < mean member",
#     holds=committee_error["deformed"] < mean_error["deformed"],
#     paper="0.23% (35-column committee of convnets)",
# )

# %% [markdown]
# ## What the replica keeps, what it simplifies
#
# | | Ciresan et al. 2010 / 2012 | this page |
# |---|---|---|
# | data | 60,000 MNIST training digits | 4,000 real MNIST digits |
# | network | MLP up to 2,500-2,000-1,500-1,000-500 (12M weights); 2012: 35 convnets | MLP 300-100 (weights: printed above) |
# | training | online back-propagation for many epochs, on a GPU | minibatches of 64, 10 epochs, one CPU thread |
# | deformations | elastic + rotation, scaling, horizontal shearing, fresh every epoch | the same, fresh every step |
# | committee | 35 columns on differently preprocessed digits | 5 networks differing only in seed |
# | test error | 0.35% (one MLP), 0.23% (committee) | the numbers above |
#
# Both effects survive the shrinking; the error rates do not come close. Fifteen times fewer
# training digits, a network about 45 times smaller and a few seconds of training per network
# instead of long GPU runs leave the replica an order of magnitude above 0.35%. Deformations make
# the task harder to memorise, which is the point, and they pay off most when training is long,
# which is what the GPU made affordable.
