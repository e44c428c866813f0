# %% [markdown]
# # Back-propagation: the error flows back through the same matrices
#
# *Annotates the article's section **Back-propagation (误差反向传播)**.*
#
# Training needs the slope of the error with respect to every weight: how much the error grows
# or shrinks when one weight moves a little. Back-propagation of errors (误差反向传播) computes
# all of these slopes at once, for the cost of about two more passes through the network. The
# method is older than neural networks: Seppo Linnainmaa wrote down modern reverse-mode
# differentiation, with FORTRAN code, in his 1970 master's thesis ("The representation of the
# cumulative rounding error of an algorithm as a Taylor expansion of the local rounding errors"),
# Paul Werbos applied it to networks in 1982, and David Rumelhart, Geoffrey Hinton and Ronald
# Williams made it famous in 1986 ("Learning representations by back-propagating errors",
# *Nature* 323). The [reverse-mode page](../history/reverse_mode.md) follows that history; this
# page follows the article's own way of teaching it.
#
# The article picks neither pictures nor calculus but a handful of *rules*. A batch of examples
# is a matrix with one row per example and one column per input node; the article's batch of 128
# images of 3 pixels is a $128 \times 3$ matrix. A layer's weights are a matrix with one row per
# input node and one column per output node, say $3 \times 5$. Multiplying the two sends every
# input through every connection and adds up what arrives at each output node: a
# $128 \times 5$ matrix, one row per example again. Everything else is bookkeeping of those
# shapes.
#
# ## The rules
#
# **Forward**, from the first layer to the last, starting from the inputs $A_0 = X$:
#
# 1. at a weight matrix, multiply by it: $Z_l = A_{l-1} W_l + b_l$;
# 2. at a function, apply it element by element: $A_l = f(Z_l)$;
# 3. pass the result on as the next layer's input;
# 4. at the end, apply the error function $E$, which compares the output $A_L$ with the targets
#    $Y$ and gives the loss and the *error* $\Delta_L = \partial E / \partial A_L$ that starts
#    the backward pass.
#
# **Backward**, from the last layer to the first, starting from $\Delta_L$:
#
# 1. at a weight matrix, multiply by its transpose: $\Delta_{l-1} = D_l W_l^\top$;
# 2. at a function, multiply element by element by its derivative *at the input the forward
#    pass gave it*: $D_l = \Delta_l \odot f'(Z_l)$;
# 3. pass the result on as the previous layer's error.
#
# **Gradients**: the gradient of a weight matrix is the matrix product of what entered it on the
# forward pass and the error that left backward rule 2 at its layer,
#
# $$
# \frac{\partial E}{\partial W_l} = A_{l-1}^\top D_l, \qquad
# \frac{\partial E}{\partial b_l} = \mathbf{1}^\top D_l ,
# $$
#
# where the bias is a weight whose input is always 1, so its gradient sums $D_l$ over the
# examples. The shapes check themselves: $A_{l-1}^\top$ is $n_{l-1} \times N$ and $D_l$ is
# $N \times n_l$, so the product has exactly the shape $n_{l-1} \times n_l$ of $W_l$.
#
# ## The functions and their derivatives
#
# Backward rule 2 needs, for each function, its derivative. For the three activations of this
# site: $\tanh'(z) = 1 - \tanh^2(z)$, $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ for the logistic
# sigmoid, and $\operatorname{relu}'(z) = 1$ for $z > 0$ and $0$ otherwise (at exactly $0$ the
# derivative does not exist; autograd uses $0$, and so do we: `relu` and `relu_derivative` come
# from the [ReLU page](relu.md), which looks at them closely). Tanh and sigmoid have derivatives that are cheapest to compute from the output
# $a = f(z)$ that the forward pass already holds, so a derivative here receives both.

# %%
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nutshell.data import generator
from nutshell.device import resolve
from nutshell.training.relu import relu, relu_derivative


@dataclass(frozen=True)
class Activation:
    """An element-wise function $f$ and its derivative $f'$.

    Attributes:
        name: how pages and error messages call it.
        function: $a = f(z)$, applied element by element.
        derivative: $f'(z)$, called as ``derivative(z, a)`` with the forward input $z$ and
            the forward output $a = f(z)$ (tanh and sigmoid reuse $a$).
        module: PyTorch's own layer for the same function (for comparisons with autograd).
    """

    name: str
    function: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor, Tensor], Tensor]
    module: Callable[[], nn.Module]

    def __call__(self, z: Tensor) -> Tensor:
        return self.function(z)


# tanh'(z) = 1 - tanh(z)^2 = 1 - a^2
TANH = Activation("tanh", torch.tanh, lambda z, a: 1 - a * a, nn.Tanh)
# sigma'(z) = sigma(z) (1 - sigma(z)) = a (1 - a)
SIGMOID = Activation("sigmoid", torch.sigmoid, lambda z, a: a * (1 - a), nn.Sigmoid)
# relu'(z) = 1 if z > 0 else 0   (0 at z = 0, as autograd; from the ReLU page)
RELU = Activation("relu", relu, lambda z, a: relu_derivative(z), nn.ReLU)
# identity'(z) = 1   (a layer without a function, e.g. the scores before the error function)
IDENTITY = Activation("identity", lambda z: z, lambda z, a: torch.ones_like(z), nn.Identity)

ACTIVATIONS: dict[str, Activation] = {f.name: f for f in (TANH, SIGMOID, RELU, IDENTITY)}


def _activation(value: Activation | str, argument: str) -> Activation:
    if isinstance(value, Activation):
        return value
    if value in ACTIVATIONS:
        return ACTIVATIONS[value]
    raise ValueError(
        f"{argument} must be an Activation or one of {sorted(ACTIVATIONS)}, got {value!r}"
    )


# %% [markdown]
# ## The error function
#
# Forward rule 4 turns the output into a loss and into the error that the backward pass carries.
# For classification the output is a row of scores $z_i$ per example, and the error function is
# the softmax cross-entropy averaged over the $N$ examples; its derivative is the difference
# between the predicted probabilities and the one-hot labels:
#
# $$
# E = -\frac{1}{N}\sum_{i=1}^{N} \log \operatorname{softmax}(z_i)_{y_i}, \qquad
# \frac{\partial E}{\partial z_i} = \frac{\operatorname{softmax}(z_i) - \operatorname{onehot}(y_i)}{N}.
# $$
#
# For regression it is the mean squared error over all $M$ entries,
# $E = \frac{1}{M}\sum (a - y)^2$ with $\partial E / \partial a = 2(a - y)/M$, as in
# `F.mse_loss`.
#
#
#
#
#


# %%
def cross_entropy(scores: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Softmax cross-entropy, averaged over the examples, and its error (forward rule 4).

    $E = -\\frac{1}{N}\\sum_i \\log \\operatorname{softmax}(z_i)_{y_i}$ and
    $\\partial E / \\partial z_i = (\\operatorname{softmax}(z_i) - \\operatorname{onehot}(y_i)) / N$.

    Args:
        scores: ``(N, K)`` scores $z$.
        labels: ``(N,)`` class indices in ``[0, K)``.

    Returns:
        The loss (a 0-d tensor, as ``F.cross_entropy``) and the error $\\partial E/\\partial z$.
    """
    if scores.dim() != 2 or labels.shape != scores.shape[:1]:
        raise ValueError(
            f"labels must have shape (N,) for scores of shape (N, K), got labels "
            f"{_shape(labels)} and scores {_shape(scores)}"
        )
    if labels.dtype != torch.int64:
        raise ValueError(f"labels must be int64 class indices, got {labels.dtype}")
    n = scores.shape[0]
    log_p = torch.log_softmax(scores, dim=1)
    # E = -(1/N) sum_i log softmax(z_i)_{y_i}
    loss = -log_p.gather(1, labels[:, None]).sum() / n
    # dE/dz = (softmax(z) - onehot(y)) / N
    error = (log_p.exp() - F.one_hot(labels, scores.shape[1]).to(scores.dtype)) / n
    return loss, error


def squared_error(outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Mean squared error over all entries and its error (forward rule 4).

    $E = \\frac{1}{M}\\sum (a - y)^2$ and $\\partial E/\\partial a = 2(a - y)/M$, as ``F.mse_loss``.

    Args:
        outputs: the network's output $a$.
        targets: $y$, of the same shape.
    """
    if outputs.shape != targets.shape:
        raise ValueError(
            f"targets must have the outputs' shape {_shape(outputs)}, got {_shape(targets)}"
        )
    diff = outputs - targets
    # E = (1/M) sum (a - y)^2
    loss = (diff * diff).sum() / diff.numel()
    # dE/da = 2 (a - y) / M
    return loss, diff * (2.0 / diff.numel())


ERRORS: dict[str, Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]] = {
    "cross_entropy": cross_entropy,
    "squared_error": squared_error,
}


def _shape(t: Tensor) -> str:
    return "x".join(str(s) for s in t.shape) if t.dim() else "scalar"


# %% [markdown]
# ## The network and its two passes
#
# A multi-layer perceptron is a list of weight matrices $W_1, \dots, W_L$ (with biases), an
# activation for the hidden layers and one for the output (by default none: the scores go
# straight into the error function). `forward` applies the forward rules and keeps what backward
# rule 2 and the gradients need: each layer's input $A_{l-1}$, the function's input $Z_l$ and
# its output $A_l$. `backward` applies the backward rules to an error and returns one
# (weight gradient, bias gradient) pair per layer. Each line of code carries the rule it
# applies. With `log=print` both passes report the shapes as they flow.
#
# Two details keep it close to autograd's speed. Forward rule 1 with a bias is a single fused
# `addmm`. Backward rule 1 is skipped below the first layer: the inputs have no weights to
# update, so the error there would be thrown away (autograd skips it too).

# %%
_INITS = ("torch", "xavier", "kaiming")


class MLP:
    """A multi-layer perceptron trained by the article's back-propagation rules.

    Layer $l$ computes $Z_l = A_{l-1} W_l + b_l$ and $A_l = f(Z_l)$, with $A_0 = X$; the
    weights are stored as the article draws them, $W_l$ of shape (inputs, outputs).

    Args:
        sizes: nodes per layer, inputs first: ``[3, 5, 2]`` is a 3x5 and a 5x2 weight matrix.
        activation: the hidden layers' function (an [`Activation`][nutshell.training.backprop.Activation]
            or one of ``"tanh"``, ``"sigmoid"``, ``"relu"``, ``"identity"``).
        output: the last layer's function (default ``"identity"``: raw scores).
        bias: whether each layer adds a bias $b_l$.
        init: ``"torch"`` ($U(\\pm 1/\\sqrt{n_{in}})$ for weights and biases, as ``nn.Linear``),
            ``"xavier"`` ($N(0, 2/(n_{in}+n_{out}))$, Glorot and Bengio 2010) or
            ``"kaiming"`` ($N(0, 2/n_{in})$, He et al. 2015); the last two start biases at 0.
        seed: seed of the weights (drawn on the CPU, then moved).
        dtype: a floating-point dtype of the weights.
        device: where the weights live (default [`default_device`][nutshell.device.default_device]).

    Example:
        >>> net = MLP([3, 5, 2], "tanh")
        >>> loss, grads = net.gradients(torch.randn(128, 3), torch.randint(0, 2, (128,)))
        >>> [tuple(g.shape) for g, _ in grads] == [(3, 5), (5, 2)]
        True
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: Activation | str = "tanh",
        *,
        output: Activation | str = "identity",
        bias: bool = True,
        init: str = "torch",
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device | None = None,
    ):
        sizes = list(sizes)
        if len(sizes) < 2 or not all(isinstance(n, int) and n >= 1 for n in sizes):
            raise ValueError(f"sizes must be at least two ints >= 1, got {sizes!r}")
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating-point torch dtype, got {dtype!r}")
        dev = resolve(device)
        g = generator(seed)
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            if init == "torch":
                bound = n_in**-0.5
                w = (torch.rand(n_in, n_out, generator=g, dtype=torch.float64) * 2 - 1) * bound
                b = (torch.rand(n_out, generator=g, dtype=torch.float64) * 2 - 1) * bound
            else:
                var = 2 / (n_in + n_out) if init == "xavier" else 2 / n_in
                w = torch.randn(n_in, n_out, generator=g, dtype=torch.float64) * var**0.5
                b = torch.zeros(n_out, dtype=torch.float64)
            weights.append(w.to(dev, dtype))
            biases.append(b.to(dev, dtype) if bias else None)
        self._set(weights, biases, activation, output)

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[Tensor],
        biases: Sequence[Tensor | None] | None = None,
        activation: Activation | str = "tanh",
        *,
        output: Activation | str = "identity",
    ) -> MLP:
        """A network with the given weights (shape (inputs, outputs) each) and biases."""
        net = cls.__new__(cls)
        net._set(list(weights), None if biases is None else list(biases), activation, output)
        return net

    def _set(self, weights, biases, activation, output) -> None:
        if not weights:
            raise ValueError("weights must hold at least one matrix")
        biases = [None] * len(weights) if biases is None else biases
        if len(biases) != len(weights):
            raise ValueError(
                f"biases must have one entry per layer ({len(weights)}), got {len(biases)}"
            )
        for layer, (w, b) in enumerate(zip(weights, biases), start=1):
            if w.dim() != 2:
                raise ValueError(f"layer {layer}: weights must be a matrix, got shape {_shape(w)}")
            if layer > 1 and w.shape[0] != weights[layer - 2].shape[1]:
                raise ValueError(
                    f"layer {layer}: weights of shape {_shape(w)} cannot follow layer {layer - 1}'s "
                    f"weights of shape {_shape(weights[layer - 2])}: {w.shape[0]} rows, expected "
                    f"{weights[layer - 2].shape[1]}"
                )
            if b is not None and b.shape != w.shape[1:]:
                raise ValueError(
                    f"layer {layer}: bias of shape {_shape(b)} does not fit weights of shape "
                    f"{_shape(w)}: expected {w.shape[1]}"
                )
        self.weights: list[Tensor] = weights
        self.biases: list[Tensor | None] = biases
        self.hidden = _activation(activation, "activation")
        self.output = _activation(output, "output")
        self._cache: tuple[list[Tensor], list[Tensor], list[Tensor]] | None = None

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def activations(self) -> list[Activation]:
        """The function of each layer: the hidden activation, then the output's."""
        return [self.hidden] * (len(self.weights) - 1) + [self.output]

    def forward(self, x: Tensor, *, log: Callable[[str], None] | None = None) -> Tensor:
        """The forward rules: multiply by the weights, apply the function, pass on.

        Args:
            x: ``(N, n_0)`` inputs, one row per example, of the weights' dtype and device.
            log: called with one line per rule applied (e.g. ``print``) to show the shapes.

        Returns:
            The last layer's output $A_L$, ``(N, n_L)``.

        Raises:
            ValueError: when ``x`` is not a matrix, or a layer's input and weights do not fit
                (the message names the layer and both shapes).
        """
        if not isinstance(x, Tensor) or x.dim() != 2:
            shape = _shape(x) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must be a matrix (examples x inputs), got {shape}")
        w0 = self.weights[0]
        if x.dtype != w0.dtype or x.device != w0.device:
            raise ValueError(
                f"x is {x.dtype} on {x.device} but the weights are {w0.dtype} on {w0.device}"
            )
        inputs, pre, outputs = [], [], []
        a = x
        for layer, (w, b, f) in enumerate(zip(self.weights, self.biases, self.activations), 1):
            if a.shape[1] != w.shape[0]:
                raise ValueError(
                    f"layer {layer}: cannot multiply an input of shape {_shape(a)} by weights of "
                    f"shape {_shape(w)}: the input has {a.shape[1]} columns, the weights "
                    f"{w.shape[0]} rows"
                )
            # rule 1: Z_l = A_{l-1} W_l + b_l
            z = a @ w if b is None else torch.addmm(b, a, w)
            # rule 2: A_l = f(Z_l)
            out = f.function(z)
            if log:
                plus = f" + bias {_shape(b)}" if b is not None else ""
                log(
                    f"forward  layer {layer}: input {_shape(a)} @ weights {_shape(w)}{plus} "
                    f"= {_shape(z)}, {f.name}() -> {_shape(out)}"
                )
            inputs.append(a)
            pre.append(z)
            outputs.append(out)
            # rule 3: A_l is the next layer's input
            a = out
        self._cache = (inputs, pre, outputs)
        return a

    def backward(
        self, error: Tensor, *, log: Callable[[str], None] | None = None
    ) -> list[tuple[Tensor, Tensor | None]]:
        """The backward rules from the error of the last forward pass, and the gradients.

        $D_l = \\Delta_l \\odot f'(Z_l)$, $\\partial E/\\partial W_l = A_{l-1}^\\top D_l$,
        $\\partial E/\\partial b_l = \\mathbf{1}^\\top D_l$, $\\Delta_{l-1} = D_l W_l^\\top$.

        Args:
            error: $\\Delta_L = \\partial E / \\partial A_L$, the shape of the last output.
            log: called with one line per rule applied, to show the shapes.

        Returns:
            One ``(weight gradient, bias gradient or None)`` per layer, first layer first;
            each has the shape of its parameter. Calling it again gives the same result.

        Raises:
            RuntimeError: before any forward pass.
            ValueError: when the error's shape is not the output's.
        """
        if self._cache is None:
            raise RuntimeError("backward needs a forward pass first: call forward(x)")
        inputs, pre, outputs = self._cache
        last = len(self.weights)
        if error.shape != outputs[-1].shape:
            raise ValueError(
                f"error has shape {_shape(error)} but layer {last}'s output has shape "
                f"{_shape(outputs[-1])}"
            )
        grads: list[tuple[Tensor, Tensor | None]] = [None] * last  # type: ignore[list-item]
        delta = error
        for i in reversed(range(last)):
            f = self.activations[i]
            # rule 2: D_l = Delta_l * f'(Z_l)   (f' = 1 for the identity)
            d = delta if f is IDENTITY else delta * f.derivative(pre[i], outputs[i])
            # gradient: dE/dW_l = A_{l-1}^T D_l;  dE/db_l = 1^T D_l
            grad_w = inputs[i].T @ d
            grad_b = d.sum(0) if self.biases[i] is not None else None
            grads[i] = (grad_w, grad_b)
            if log:
                log(
                    f"backward layer {i + 1}: error {_shape(delta)} * {f.name}'(z) "
                    f"{_shape(pre[i])} = {_shape(d)}; gradient: input^T "
                    f"{_shape(inputs[i].T)} @ {_shape(d)} = {_shape(grad_w)}"
                )
            if i > 0:
                # rule 1 (and 3): Delta_{l-1} = D_l W_l^T goes to the layer below
                delta = d @ self.weights[i].T
                if log:
                    log(
                        f"backward layer {i + 1}: {_shape(d)} @ weights^T "
                        f"{_shape(self.weights[i].T)} = {_shape(delta)} -> layer {i}"
                    )
        return grads

    def gradients(
        self,
        x: Tensor,
        target: Tensor,
        error: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | str = "cross_entropy",
        *,
        log: Callable[[str], None] | None = None,
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor | None]]]:
        """Forward pass, error function (rule 4), backward pass: the loss and the gradients.

        Args:
            x: ``(N, n_0)`` inputs.
            target: labels for ``"cross_entropy"``, targets for ``"squared_error"``.
            error: an error function ``(output, target) -> (loss, dE/doutput)`` or its name.
            log: called with one line per rule applied, to show the shapes.
        """
        if isinstance(error, str):
            if error not in ERRORS:
                raise ValueError(
                    f"error must be one of {sorted(ERRORS)} or a function, got {error!r}"
                )
            error = ERRORS[error]
        out = self.forward(x, log=log)
        # rule 4: E(A_L, Y) and the error Delta_L = dE/dA_L
        loss, delta = error(out, target)
        if log:
            log(
                f"error function: output {_shape(out)} -> loss {_shape(loss)}, "
                f"error {_shape(delta)}"
            )
        return loss, self.backward(delta, log=log)

    def to_torch(self) -> nn.Sequential:
        """The same network as PyTorch layers (``nn.Linear`` stores $W_l^\\top$), for autograd."""
        layers: list[nn.Module] = []
        for w, b, f in zip(self.weights, self.biases, self.activations):
            linear = nn.Linear(w.shape[0], w.shape[1], bias=b is not None)
            linear.to(w.device, w.dtype)
            with torch.no_grad():
                linear.weight.copy_(w.T)
                if b is not None:
                    linear.bias.copy_(b)
            layers += [linear] if f is IDENTITY else [linear, f.module()]
        return nn.Sequential(*layers)

    def __repr__(self) -> str:
        w = self.weights[0]
        return (
            f"MLP(sizes={self.sizes}, activation={self.hidden.name!r}, "
            f"output={self.output.name!r}, bias={self.biases[0] is not None}, "
            f"dtype={w.dtype}, device={w.device})"
        )


# %% [markdown]
# ## Checking the rules against autograd
#
# PyTorch's autograd records the operations of a forward pass and differentiates them in
# reverse, for any program. If the rules above are right, it must find the same gradients. The
# helpers below run the same network, converted to PyTorch layers, through autograd, and measure
# the relative error $\lVert g - g_{\text{ref}} \rVert / \lVert g_{\text{ref}} \rVert$.
#
#
#
#
#


# %%
def autograd_gradients(
    net: MLP, x: Tensor, target: Tensor, error: str = "cross_entropy"
) -> tuple[Tensor, list[tuple[Tensor, Tensor | None]]]:
    """The loss and gradients that PyTorch's autograd finds for ``net`` (the reference)."""
    if error not in ERRORS:
        raise ValueError(f"error must be one of {sorted(ERRORS)}, got {error!r}")
    model = net.to_torch()
    out = model(x)
    loss = F.cross_entropy(out, target) if error == "cross_entropy" else F.mse_loss(out, target)
    loss.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return loss.detach(), [
        (m.weight.grad.T, None if m.bias is None else m.bias.grad) for m in linears
    ]


def relative_error(actual: Tensor, expected: Tensor) -> float:
    """$\\lVert a - e \\rVert / \\lVert e \\rVert$ (0 when both are zero, inf when only $e$ is)."""
    if actual.shape != expected.shape:
        raise ValueError(f"shapes differ: {_shape(actual)} vs {_shape(expected)}")
    diff = (actual - expected).norm().item()
    ref = expected.norm().item()
    if ref == 0:
        return 0.0 if diff == 0 else float("inf")
    return diff / ref


# %% [markdown]
# ## Letting `fit` train with the rules
#
# The [training loop](loop.md) calls `loss.backward()`, which is autograd's business. To train
# with the rules instead, the module below wraps an `MLP` in a `torch.autograd.Function`: PyTorch
# sees one opaque operation whose backward pass is `MLP.backward`. The weights become
# `nn.Parameter`s that the optimiser updates in place, so `fit`, and every optimiser on this site,
# work unchanged, and every gradient they use comes from the rules.
#
#
#
#
#


# %%
class _Rules(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, net: MLP, *params: Tensor) -> Tensor:
        out = net.forward(x)
        ctx.net, ctx.cache = net, net._cache  # this pass's inputs, for its own backward
        return out

    @staticmethod
    def backward(ctx, error: Tensor):
        ctx.net._cache = ctx.cache
        grads = ctx.net.backward(error)
        flat = [g for pair in grads for g in pair if g is not None]
        return (None, None, *flat)


class RuleNetwork(nn.Module):
    """An ``nn.Module`` whose gradients come from [`MLP.backward`][nutshell.training.backprop.MLP.backward].

    Args:
        net: the network; its weight and bias tensors become this module's parameters.
    """

    def __init__(self, net: MLP):
        super().__init__()
        if not isinstance(net, MLP):
            raise ValueError(f"net must be an MLP, got {type(net).__name__}")
        self.net = net
        self.weights = nn.ParameterList([nn.Parameter(w) for w in net.weights])
        self.biases = nn.ParameterList([nn.Parameter(b) for b in net.biases if b is not None])
        self._point_net()

    def _point_net(self) -> None:
        # the MLP computes with this module's parameters, which the optimiser updates
        self.net.weights = list(self.weights)
        biases = iter(self.biases)
        self.net.biases = [None if b is None else next(biases) for b in self.net.biases]

    def _apply(self, fn, recurse=True):
        # after .to(device) or .double(), point the MLP at the moved parameters
        super()._apply(fn, recurse)
        self._point_net()
        return self

    def forward(self, x: Tensor) -> Tensor:
        params = [
            p for w, b in zip(self.net.weights, self.net.biases) for p in (w, b) if p is not None
        ]
        return _Rules.apply(x, self.net, *params)


# %% [markdown]
# ## Demo 1: the article's shapes
#
# The article's batch: 128 examples of 3 pixels, a first weight matrix of $3 \times 5$, then two
# more layers down to 2 classes. With `log=print` each pass reports every rule it applies.

# %% active="ipynb"
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.device import default_device
#
# device = default_device()
# x = torch.rand(128, 3, generator=generator(0)).to(device)
# y = torch.randint(0, 2, (128,), generator=generator(1)).to(device)
# net = MLP([3, 5, 4, 2], "tanh", device=device)
# print(net)
# loss, grads = net.gradients(x, y, log=print)
# same_shapes = all(g.shape == w.shape for (g, _), w in zip(grads, net.weights))
# claim(
#     "128x3 inputs times 3x5 weights give 128x5, and every weight gradient has its "
#     "weight matrix's shape",
#     measured=f"{_shape(net._cache[1][0])}; gradients "
#     + ", ".join(_shape(g) for g, _ in grads),
#     expected="128x5; 3x5, 5x4, 4x2",
#     holds=tuple(net._cache[1][0].shape) == (128, 5) and same_shapes,
# )

# %% [markdown]
# A matrix that does not fit stops the forward pass at the layer where it happens, with both
# shapes in the message:

# %% active="ipynb"
# try:
#     net.forward(torch.rand(128, 4, generator=generator(2)).to(device))
# except ValueError as err:
#     print("ValueError:", err)

# %% [markdown]
# ## Demo 2: the same gradients as autograd
#
# Fifty random networks, in float64: between 1 and 6 layers, 1 to 16 nodes per layer, batches of 1
# to 32 examples, a random activation among tanh, sigmoid and ReLU, with or without biases, and
# either error function. For each, the rules' gradients are compared with autograd's, and the
# whole forward and backward pass is run a second time to check that nothing in the network's
# state leaks from one pass into the next.

# %% active="ipynb"
# def random_case(seed: int, dtype=torch.float64):
#     g = generator(seed)
#     depth = int(torch.randint(1, 7, (), generator=g))
#     sizes = torch.randint(1, 17, (depth + 1,), generator=g).tolist()
#     batch = int(torch.randint(1, 33, (), generator=g))
#     act = ["tanh", "sigmoid", "relu"][int(torch.randint(0, 3, (), generator=g))]
#     bias = bool(torch.randint(0, 2, (), generator=g))
#     error = ["cross_entropy", "squared_error"][int(torch.randint(0, 2, (), generator=g))]
#     case_net = MLP(sizes, act, bias=bias, seed=seed, dtype=dtype, device=device)
#     xs = torch.randn(batch, sizes[0], generator=g, dtype=dtype).to(device)
#     if error == "cross_entropy":
#         target = torch.randint(0, sizes[-1], (batch,), generator=g).to(device)
#     else:
#         target = torch.randn(batch, sizes[-1], generator=g, dtype=dtype).to(device)
#     return case_net, xs, target, error
#
#
# def worst_error(case_net, xs, target, error) -> float:
#     loss, grads = case_net.gradients(xs, target, error)
#     ref_loss, ref = autograd_gradients(case_net, xs, target, error)
#     errs = [relative_error(loss, ref_loss)]
#     for (gw, gb), (rw, rb) in zip(grads, ref):
#         errs.append(relative_error(gw, rw))
#         if gb is not None:
#             errs.append(relative_error(gb, rb))
#     return max(errs)
#
#
# worst64, worst32, repeat_same = 0.0, 0.0, True
# for seed in range(50):
#     case = random_case(seed)
#     worst64 = max(worst64, worst_error(*case))
#     case_net, xs, target, error = case
#     _, first = case_net.gradients(xs, target, error)
#     _, second = case_net.gradients(xs, target, error)
#     repeat_same &= all(torch.equal(a, b) for p, q in zip(first, second) for a, b in zip(p, q)
#                        if a is not None)
#     worst32 = max(worst32, worst_error(*random_case(seed, torch.float32)))
# print(f"largest relative error over 50 random networks: float64 {worst64:.1e}, "
#       f"float32 {worst32:.1e}; second pass identical: {repeat_same}")
# claim(
#     "the rules' gradients match autograd's in float64",
#     measured=f"max relative error {worst64:.1e}",
#     expected="< 1e-10",
#     holds=worst64 < 1e-10,
# )
# claim(
#     "a second forward and backward pass gives bit-identical gradients",
#     measured=repeat_same,
#     expected=True,
#     holds=repeat_same,
# )

# %% [markdown]
# The float32 error printed above is the rounding of single precision (about $10^{-7}$ per
# operation, growing a little with depth): the two computations add the same numbers in slightly
# different orders. In float64 the gap shrinks by the ratio of the two precisions, to a few units
# of double-precision rounding ($10^{-16}$), so nothing but rounding separates the rules from
# autograd.
#
# The figure follows one deeper network, 8 sigmoid layers of 64 nodes on real handwritten digits,
# layer by layer: the size of each weight gradient as the rules and autograd find it, and the
# relative error between them.

# %% active="ipynb"
# from nutshell.data import digits
#
# data = digits(device=device)
# xd = data.x_train[:256].double()
# yd = data.y_train[:256]
# deep = MLP([64] + [64] * 7 + [10], "sigmoid", dtype=torch.float64, device=device)
# _, manual = deep.gradients(xd, yd)
# _, reference = autograd_gradients(deep, xd, yd)
# norm_manual = [g.norm().item() for g, _ in manual]
# norm_auto = [g.norm().item() for g, _ in reference]
# rel = [relative_error(g, r) for (g, _), (r, _) in zip(manual, reference)]
# layers = range(1, len(manual) + 1)
#
# fig, (ax1, ax2) = figures.subplots(
#     1, 2, title=f"Rules and autograd agree in every layer (largest relative error {max(rel):.0e})"
# )
# ax1.bar(layers, norm_manual, color=figures.color("manual"), label="rules (manual)")
# ax1.plot(layers, norm_auto, "o", color=figures.color("autograd"), mec="black",
#          label="autograd")
# ax1.set(xticks=list(layers), yscale="log", xlabel="layer (1 = input side)",
#         ylabel="weight-gradient norm",
#         title="gradient size per layer")
# ax1.legend(loc="upper left")
# ax2.semilogy(layers, rel, "o-", color=figures.color("manual"), label="rules vs autograd")
# ax2.axhline(1e-10, color=figures.color("baseline"), ls="--", label="criterion 1e-10")
# ax2.set(xticks=list(layers), xlabel="layer (1 = input side)", ylabel="relative error",
#         ylim=(1e-18, 1e-8),
#         title="relative error per layer")
# ax2.legend(loc="upper left")
# print("gradient norms by layer:", ", ".join(f"{v:.2e}" for v in norm_manual))

# %% [markdown]
# The bars also show something the [ReLU page](relu.md) returns to: through eight sigmoid layers
# the gradient shrinks by orders of magnitude from the output to the input.
#
# ## Demo 3: training with the rules
#
# Gradients are only useful if they make the error go down. Here `fit` trains the same small
# network on the digits twice from the same initial weights, once with the rules (through
# `RuleNetwork`) and once with PyTorch's own layers and autograd, with the same SGD, batches and
# seed. If the rules are right, the two runs take the same path, step for step, up to float32
# rounding.

# %% active="ipynb"
# from nutshell.training.loop import fit
#
# start = MLP([64, 32, 10], "relu", seed=3, device=device)
# rules = RuleNetwork(MLP.from_weights([w.clone() for w in start.weights],
#                                      [b.clone() for b in start.biases], "relu"))
# torch_net = start.to_torch()
# hist_rules = fit(rules, data, epochs=3, lr=0.1, batch_size=32, device=device)
# hist_torch = fit(torch_net, data, epochs=3, lr=0.1, batch_size=32, device=device)
# gap = max(abs(a - b) for a, b in zip(hist_rules.step_loss, hist_torch.step_loss))
# print(f"{hist_rules.steps} steps; loss {hist_rules.step_loss[0]:.3f} -> "
#       f"{hist_rules.step_loss[-1]:.3f}; test accuracy {hist_rules.test_accuracy[-1]:.1%} "
#       f"(autograd {hist_torch.test_accuracy[-1]:.1%}); largest step-loss gap {gap:.1e}")
# claim(
#     "training with the rules follows autograd's training step for step",
#     measured=f"largest loss gap {gap:.1e} over {hist_rules.steps} steps",
#     expected="< 1e-4",
#     holds=gap < 1e-4 and hist_rules.steps == hist_torch.steps,
# )

# %% [markdown]
# ## How fast are the rules?
#
# The rules are all matrix products and element-wise operations, the same work autograd does, so
# they should cost about the same. `benchmarks/bench_backprop.py` times one forward and backward
# pass of a 784-512-512-10 ReLU network on a batch of 128, the rules against autograd in the same
# run, on one CPU thread by default (`torch.utils.benchmark`, warm-up included, interleaved
# rounds, the best median of each):
#
# ```console
# $ python benchmarks/bench_backprop.py            # CPU, 1 thread
# $ python benchmarks/bench_backprop.py --device cuda
# ```
#
# It prints both times and their ratio; the project's target is that the rules stay within 1.5x
# of autograd on the CPU. The timing is not run on this page: on a shared machine it measures the
# neighbours as much as the code.
#
# ## What to take away
#
# - Back-propagation is three forward rules, three backward rules and one product per weight
#   matrix; shapes alone tell you which matrix to transpose.
# - The rules give autograd's gradients to rounding, and `fit` trains with them exactly as with
#   autograd; autograd is these rules, applied automatically to any program.
# - The derivative in backward rule 2 multiplies the error at every layer; when it is small, as
#   sigmoid's is, the error fades on its way down. The [ReLU page](relu.md) measures that.
