# %% [markdown]
# # Reverse-mode differentiation: walking the recorded trace backwards
#
# *Annotates the article's section **Brief history (深度学习的简史)**: Linnainmaa (1970), Werbos
# (1982).*
#
# Back-propagation is older than the neural networks it trains. In his 1970 master's thesis at the
# University of Helsinki, Seppo Linnainmaa studied how rounding errors accumulate through a long
# computation (*"The representation of the cumulative rounding error of an algorithm as a Taylor
# expansion of the local rounding errors"*; in English as *"Taylor expansion of the accumulated
# rounding error"*, BIT, 1976). To do it he recorded the computation as a sequence of elementary
# operations and accumulated derivatives by walking that sequence **backwards**, and he published
# FORTRAN code for it. That is reverse-mode automatic differentiation, the algorithm inside every
# modern deep-learning library, written down with no neural network in sight. Paul Werbos applied
# it to networks in 1982 (*"Applications of advances in nonlinear sensitivity analysis"*), and
# Rumelhart, Hinton and Williams made it famous in 1986 (see
# [distributed representations](representations.md)).
#
# This page builds Linnainmaa's idea at its smallest: a *tape* of scalar operations and a
# backward sweep over it. For contrast it also builds *forward mode*, which carries derivatives
# along with the values using dual numbers. It then checks two claims:
#
# 1. the tape's gradients agree with `torch.autograd` to $10^{-12}$ in float64, on random
#    expressions that reuse intermediate results, and over a second backward pass;
# 2. the whole gradient costs a small constant multiple of one evaluation of the function, however
#    many inputs it has, while forward mode's cost grows in proportion to the number of inputs.
#
# ## The trace and the backward sweep
#
# Any computation built from elementary operations can be written as a list: inputs
# $v_1, \dots, v_n$, then each later value $v_i = \varphi_i(v_j, v_k)$ computed from earlier ones.
# While computing each $v_i$ we also record its *local* derivatives $\partial v_i / \partial v_j$,
# which are cheap: for $v_i = v_j v_k$ they are $v_k$ and $v_j$; for $v_i = \sin v_j$ it is
# $\cos v_j$.
#
# To differentiate the last value $y = v_N$, define the *adjoint* of every value,
# $\bar v_i = \partial y / \partial v_i$. The output's adjoint is $\bar v_N = 1$, and the chain
# rule says that a value's adjoint collects a contribution from every value computed from it:
#
# $$
# \bar v_j = \sum_{i \,:\, j \to i} \bar v_i \, \frac{\partial v_i}{\partial v_j} .
# $$
#
# Every $i$ on the right comes after $j$ on the tape, so one sweep from the end to the beginning
# finishes each adjoint before it is needed: in that sweep, each recorded edge does
# $\bar v_j \mathrel{+}= \bar v_i \cdot \partial v_i / \partial v_j$, one multiplication and one
# addition. The adjoints of the inputs are the gradient. A value used twice (say $x \cdot x$)
# simply has two edges, and the sum adds both contributions.
#
# ### What calling `backward` does here
#
# `Tape.backward(y)` (or `y.backward()`) accumulates $\partial y / \partial x$ into `x.grad` for
# every *leaf*, a value created with `tape.var`. As in PyTorch, `grad` is `None` until a
# backward pass reaches the leaf (a leaf that $y$ does not depend on keeps `None`), and passes
# **accumulate**: a second `backward` adds the same gradient again, which
# matches PyTorch's `backward(retain_graph=True)` called twice. Unlike PyTorch, the tape is never
# freed, so no `retain_graph` is needed. `tape.zero_grad()` sets every leaf's `grad` back to
# `None` (PyTorch's `set_to_none=True` default). Intermediate values have no `grad`;
# `tape.gradient(y, xs)` returns derivatives without touching `grad` at all.

# %%
from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

Number = float  # a plain float, or a Counted float (below)


def _check_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


class Tape:
    """Linnainmaa's recorded trace: each value, its inputs and its local derivatives.

    Values are recorded in the order they are computed; [`backward`][nutshell.history.reverse_mode.Tape.backward]
    walks them in reverse, accumulating adjoints $\\bar v_j \\mathrel{+}= \\bar v_i\\, \\partial v_i / \\partial v_j$.
    """

    def __init__(self) -> None:
        self.values: list[Number] = []  # v_i
        self.parents: list[tuple[int, ...]] = []  # the j's that v_i was computed from
        self.partials: list[tuple[Number, ...]] = []  # dv_i/dv_j for those j
        self.ops: list[str] = []  # the operation's name, for printing
        self.grads: dict[int, Number | None] = {}  # leaf index -> accumulated gradient

    def __len__(self) -> int:
        return len(self.values)

    def var(self, value: float) -> Var:
        """A new leaf (an input) with the given value.

        Raises:
            ValueError: when ``value`` is not a finite real number.
        """
        _check_number("value", value)
        leaf = self._record(value, "input", (), ())
        self.grads[leaf.index] = None
        return leaf

    def _record(self, value, op, parents, partials) -> Var:
        self.values.append(value)
        self.ops.append(op)
        self.parents.append(parents)
        self.partials.append(partials)
        return Var(self, len(self.values) - 1)

    def _check_output(self, output: Var) -> None:
        if not isinstance(output, Var):
            raise ValueError(f"output must be a Var, got {type(output).__name__}")
        if output.tape is not self:
            raise ValueError("output was recorded on a different tape")

    def adjoints(self, output: Var) -> list[Number | None]:
        """$\\bar v_i = \\partial y / \\partial v_i$ for every value up to ``output`` (None: y does not depend on it)."""
        self._check_output(output)
        adj: list[Number | None] = [None] * (output.index + 1)
        adj[output.index] = 1.0  # ybar = 1
        for i in range(output.index, -1, -1):
            a = adj[i]
            if a is None:
                continue
            for j, d in zip(self.parents[i], self.partials[i]):
                # vbar_j += vbar_i * dv_i/dv_j
                contribution = a * d
                adj[j] = contribution if adj[j] is None else adj[j] + contribution
        return adj

    def backward(self, output: Var) -> None:
        """Accumulate $\\partial y / \\partial x$ into ``x.grad`` for every leaf ``x``.

        Raises:
            ValueError: when ``output`` is not a Var of this tape.
        """
        adj = self.adjoints(output)
        for leaf, old in self.grads.items():
            if leaf < len(adj) and adj[leaf] is not None:  # leaves y does not reach keep their grad
                self.grads[leaf] = adj[leaf] if old is None else old + adj[leaf]

    def gradient(self, output: Var, inputs: Sequence[Var]) -> list[Number]:
        """$\\partial y / \\partial x$ for each of ``inputs``, without touching ``grad``.

        Raises:
            ValueError: when ``output`` or an input is not a Var of this tape.
        """
        adj = self.adjoints(output)
        for x in inputs:
            if not isinstance(x, Var) or x.tape is not self:
                raise ValueError("inputs must be Vars recorded on this tape")
        return [
            adj[x.index] if x.index < len(adj) and adj[x.index] is not None else 0.0 for x in inputs
        ]

    def zero_grad(self) -> None:
        """Set every leaf's ``grad`` back to None."""
        for leaf in self.grads:
            self.grads[leaf] = None

    def trace(self, output: Var | None = None) -> str:
        """The tape as a table: index, operation, inputs, value, local derivatives (and adjoints)."""
        adj = self.adjoints(output) if output is not None else None
        rows = [f"{'i':>3}  {'op':<6} {'inputs':<7} {'value':>10}  {'dv_i/dv_j':<22}"]
        rows[0] += f" {'adjoint':>10}" if adj else ""
        for i, (op, par, val, d) in enumerate(
            zip(self.ops, self.parents, self.values, self.partials)
        ):
            row = f"{i:>3}  {op:<6} {','.join(map(str, par)):<7} {float(val):>10.4f}  "
            row += f"{', '.join(f'{float(p):.4f}' for p in d):<22}"
            if adj:
                row += (
                    f" {float(adj[i]):>10.4f}"
                    if i < len(adj) and adj[i] is not None
                    else f" {'-':>10}"
                )
            rows.append(row)
        return "\n".join(rows)


# %% [markdown]
# ## The values on the tape
#
# A `Var` is just a position on its tape. Each arithmetic operation computes the new value,
# records it with its local derivatives and returns a new `Var`; that is the entire forward pass.
# The functions `exp`, `log`, `sin`, `cos` and `tanh` below work on plain floats, on `Var`s, on
# the dual numbers of the next section and on PyTorch tensors, so that one Python function can be
# evaluated, recorded, or differentiated in either mode.
#
#


# %%
def _as_var(tape: Tape, other) -> Var:
    if isinstance(other, Var):
        if other.tape is not tape:
            raise ValueError("cannot combine Vars recorded on different tapes")
        return other
    _check_number("operand", other)
    return tape._record(other, "const", (), ())


class Var:
    """A scalar recorded on a [`Tape`][nutshell.history.reverse_mode.Tape]."""

    __slots__ = ("index", "tape")

    def __init__(self, tape: Tape, index: int):
        self.tape, self.index = tape, index

    @property
    def value(self) -> Number:
        return self.tape.values[self.index]

    @property
    def grad(self) -> Number | None:
        """The accumulated gradient of a leaf (None before any backward, and for non-leaves)."""
        return self.tape.grads.get(self.index)

    def backward(self) -> None:
        """``tape.backward(self)``: accumulate $\\partial\\,\\text{self} / \\partial x$ into each leaf's grad."""
        self.tape.backward(self)

    def __repr__(self) -> str:
        return f"Var({float(self.value):.6g}, index={self.index})"

    def _unary(self, op, value, partial) -> Var:
        return self.tape._record(value, op, (self.index,), (partial,))

    def __add__(self, other) -> Var:
        b = _as_var(self.tape, other)
        # v = a + b;  dv/da = 1, dv/db = 1
        return self.tape._record(self.value + b.value, "add", (self.index, b.index), (1.0, 1.0))

    def __radd__(self, other) -> Var:
        return _as_var(self.tape, other) + self

    def __sub__(self, other) -> Var:
        b = _as_var(self.tape, other)
        # v = a - b;  dv/da = 1, dv/db = -1
        return self.tape._record(self.value - b.value, "sub", (self.index, b.index), (1.0, -1.0))

    def __rsub__(self, other) -> Var:
        return _as_var(self.tape, other) - self

    def __mul__(self, other) -> Var:
        b = _as_var(self.tape, other)
        # v = a b;  dv/da = b, dv/db = a
        return self.tape._record(
            self.value * b.value, "mul", (self.index, b.index), (b.value, self.value)
        )

    def __rmul__(self, other) -> Var:
        return _as_var(self.tape, other) * self

    def __truediv__(self, other) -> Var:
        b = _as_var(self.tape, other)
        if b.value == 0:
            raise ValueError("division by zero: the divisor's value is 0")
        # v = a / b;  dv/da = 1/b, dv/db = -a/b^2 = -v/b
        inv = 1.0 / b.value
        v = self.value * inv
        return self.tape._record(v, "div", (self.index, b.index), (inv, -v * inv))

    def __rtruediv__(self, other) -> Var:
        return _as_var(self.tape, other) / self

    def __neg__(self) -> Var:
        # v = -a;  dv/da = -1
        return self._unary("neg", -self.value, -1.0)

    def __pow__(self, p) -> Var:
        _check_number("exponent", p)
        if self.value < 0 and not float(p).is_integer():
            raise ValueError(
                f"a negative base ({float(self.value):g}) needs an integer exponent, got {p}"
            )
        if self.value == 0 and p < 1:
            raise ValueError(f"0 ** {p}: the derivative is not finite at 0")
        # v = a^p;  dv/da = p a^(p-1)
        return self._unary("pow", self.value**p, p * self.value ** (p - 1))

    def exp(self) -> Var:
        v = exp(self.value)
        # v = e^a;  dv/da = e^a = v
        return self._unary("exp", v, v)

    def log(self) -> Var:
        if self.value <= 0:
            raise ValueError(f"log needs a positive input, got {float(self.value):g}")
        # v = ln a;  dv/da = 1/a
        return self._unary("log", log(self.value), 1.0 / self.value)

    def sin(self) -> Var:
        # v = sin a;  dv/da = cos a
        return self._unary("sin", sin(self.value), cos(self.value))

    def cos(self) -> Var:
        # v = cos a;  dv/da = -sin a
        return self._unary("cos", cos(self.value), -sin(self.value))

    def tanh(self) -> Var:
        v = tanh(self.value)
        # v = tanh a;  dv/da = 1 - v^2
        return self._unary("tanh", v, 1.0 - v * v)


def _dispatch(name: str, fn: Callable[[float], float]) -> Callable:
    def f(x):
        method = getattr(x, name, None)  # Var, Dual, Counted and torch.Tensor have one
        return method() if method is not None else fn(x)

    f.__name__ = name
    f.__doc__ = f"{name}(x) for floats, Vars, Duals, Counted floats and tensors."
    return f


# %% [markdown]
# ## Forward mode: dual numbers
#
# Forward mode carries, next to every value $a$, its derivative $\dot a$ with respect to one chosen
# input: a *dual number* $a + \dot a\,\varepsilon$ with $\varepsilon^2 = 0$. The rules are the
# familiar ones, $(a + \dot a \varepsilon)(b + \dot b \varepsilon) = ab + (\dot a b + a \dot b)\varepsilon$
# and $f(a + \dot a \varepsilon) = f(a) + f'(a)\,\dot a\,\varepsilon$. Seeding input $k$ with
# $\dot x_k = 1$ and the others with 0 gives $\partial y / \partial x_k$ in one pass, so the full
# gradient of $n$ inputs takes $n$ passes. (Wengert described this in 1964, *"A simple automatic
# derivative evaluation program"*; dual numbers are Clifford's, 1873.) It needs no tape at all,
# which is why it came first; its price is that each pass yields one column of derivatives.
#
#


# %%
class Dual:
    """A dual number $a + \\dot a\\,\\varepsilon$ with $\\varepsilon^2 = 0$: a value and its derivative."""

    __slots__ = ("tangent", "value")

    def __init__(self, value, tangent=0.0):
        self.value, self.tangent = value, tangent

    def __repr__(self) -> str:
        return f"Dual({float(self.value):.6g}, {float(self.tangent):.6g})"

    @staticmethod
    def _lift(other) -> Dual:
        if isinstance(other, Dual):
            return other
        return Dual(_check_number("operand", other), 0.0)

    def __add__(self, other) -> Dual:
        b = Dual._lift(other)
        return Dual(self.value + b.value, self.tangent + b.tangent)

    __radd__ = __add__

    def __sub__(self, other) -> Dual:
        b = Dual._lift(other)
        return Dual(self.value - b.value, self.tangent - b.tangent)

    def __rsub__(self, other) -> Dual:
        return Dual._lift(other) - self

    def __mul__(self, other) -> Dual:
        b = Dual._lift(other)
        # (a + a' e)(b + b' e) = ab + (a' b + a b') e
        return Dual(self.value * b.value, self.tangent * b.value + self.value * b.tangent)

    __rmul__ = __mul__

    def __truediv__(self, other) -> Dual:
        b = Dual._lift(other)
        if b.value == 0:
            raise ValueError("division by zero: the divisor's value is 0")
        # (a/b)' = (a' - (a/b) b') / b
        v = self.value / b.value
        return Dual(v, (self.tangent - v * b.tangent) / b.value)

    def __rtruediv__(self, other) -> Dual:
        return Dual._lift(other) / self

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.tangent)

    def __pow__(self, p) -> Dual:
        _check_number("exponent", p)
        if self.value < 0 and not float(p).is_integer():
            raise ValueError(
                f"a negative base ({float(self.value):g}) needs an integer exponent, got {p}"
            )
        if self.value == 0 and p < 1:
            raise ValueError(f"0 ** {p}: the derivative is not finite at 0")
        return Dual(self.value**p, p * self.value ** (p - 1) * self.tangent)

    def exp(self) -> Dual:
        v = exp(self.value)
        return Dual(v, v * self.tangent)

    def log(self) -> Dual:
        if self.value <= 0:
            raise ValueError(f"log needs a positive input, got {float(self.value):g}")
        return Dual(log(self.value), self.tangent / self.value)

    def sin(self) -> Dual:
        return Dual(sin(self.value), cos(self.value) * self.tangent)

    def cos(self) -> Dual:
        return Dual(cos(self.value), -sin(self.value) * self.tangent)

    def tanh(self) -> Dual:
        v = tanh(self.value)
        return Dual(v, (1.0 - v * v) * self.tangent)


# %% [markdown]
# ## Counting the work
#
# To compare the two modes without a stopwatch (timings on a shared machine say more about the
# neighbours than about the algorithm), we count arithmetic. A `Counted` float behaves exactly
# like a float but adds one to a counter for every operation performed on it: $+, -, \times, /$,
# a power, or an elementary function. Feeding `Counted` inputs to a function counts one
# evaluation; feeding them to the tape or to the dual numbers counts everything those do,
# including the local derivatives and the backward sweep. The counts are measured, not modelled.
#
#


# %%
class Counted(float):
    """A float that counts the arithmetic done on it in ``Counted.ops``."""

    ops = 0

    @staticmethod
    def _tick(value: float) -> Counted:
        Counted.ops += 1
        return Counted(value)

    def __add__(self, o):
        return Counted._tick(float(self) + float(o))

    def __radd__(self, o):
        return Counted._tick(float(o) + float(self))

    def __sub__(self, o):
        return Counted._tick(float(self) - float(o))

    def __rsub__(self, o):
        return Counted._tick(float(o) - float(self))

    def __mul__(self, o):
        return Counted._tick(float(self) * float(o))

    def __rmul__(self, o):
        return Counted._tick(float(o) * float(self))

    def __truediv__(self, o):
        return Counted._tick(float(self) / float(o))

    def __rtruediv__(self, o):
        return Counted._tick(float(o) / float(self))

    def __neg__(self):
        return Counted._tick(-float(self))

    def __pow__(self, p):
        return Counted._tick(float(self) ** float(p))

    def exp(self):
        return Counted._tick(math.exp(self))

    def log(self):
        return Counted._tick(math.log(self))

    def sin(self):
        return Counted._tick(math.sin(self))

    def cos(self):
        return Counted._tick(math.cos(self))

    def tanh(self):
        return Counted._tick(math.tanh(self))


exp = _dispatch("exp", math.exp)
log = _dispatch("log", math.log)
sin = _dispatch("sin", math.sin)
cos = _dispatch("cos", math.cos)
tanh = _dispatch("tanh", math.tanh)


def count_operations(fn: Callable[[], object]) -> int:
    """The number of operations on ``Counted`` floats that calling ``fn()`` performs."""
    Counted.ops = 0
    fn()
    return Counted.ops


# %% [markdown]
# ## Both modes as functions
#
# `reverse_gradient` records one evaluation on a fresh tape and sweeps it once; `forward_gradient`
# evaluates the function once per input with that input's tangent seeded. Both return the value
# and the gradient, so they can be compared with each other and with PyTorch.
#
#


# %%
def _check_inputs(xs: Sequence[float]) -> None:
    if len(xs) == 0:
        raise ValueError("xs must hold at least one input")
    for k, x in enumerate(xs):
        _check_number(f"xs[{k}]", x)


def reverse_gradient(
    f: Callable[[list], object], xs: Sequence[float]
) -> tuple[Number, list[Number]]:
    """Value and gradient of ``f`` at ``xs`` by reverse accumulation: one recording, one backward sweep.

    Raises:
        ValueError: when ``xs`` is empty or holds a value that is not a finite real number.
    """
    _check_inputs(xs)
    tape = Tape()
    inputs = [tape.var(x) for x in xs]
    y = _as_var(tape, f(inputs))
    return y.value, tape.gradient(y, inputs)


def forward_gradient(
    f: Callable[[list], object], xs: Sequence[float]
) -> tuple[Number, list[Number]]:
    """Value and gradient of ``f`` at ``xs`` by forward mode: one dual-number pass per input.

    Raises:
        ValueError: when ``xs`` is empty or holds a value that is not a finite real number.
    """
    _check_inputs(xs)
    one, zero = type(xs[0])(1.0), type(xs[0])(0.0)  # seeds of the same kind as the inputs
    grads, value = [], None
    for k in range(len(xs)):
        # seed x_k' = 1, the others 0: the pass computes dy/dx_k
        out = Dual._lift(f([Dual(x, one if j == k else zero) for j, x in enumerate(xs)]))
        value = out.value
        grads.append(out.tangent)
    return value, grads


# %% [markdown]
# ## Random expressions to test against
#
# Hand-picked examples test what their author thought of. `random_expression` builds a random
# straight-line program: each step applies a random operation to one or two earlier values, which
# are picked at random and therefore often reused (a value squared, or feeding several later
# steps). Operations with a restricted domain are guarded so that any input works: division is
# $a / (1 + b^2)$, the logarithm is $\log(1 + a^2)$, the exponential is $e^{\tanh a}$ and the power
# is $(1 + a^2)^{1.5}$. The output is the sum of the last three values.

# %%
_BINARY = ("add", "sub", "mul", "div")
_UNARY = ("neg", "sin", "cos", "tanh", "exp", "log", "pow", "square")


def random_expression(n_inputs: int, n_ops: int, *, seed: int = 0) -> Callable[[Sequence], object]:
    """A random straight-line program of ``n_ops`` operations on ``n_inputs`` inputs.

    The returned function works on floats, Vars, Duals, Counted floats and torch tensors; its
    ``program`` attribute lists the steps as ``(operation, i, j)`` (``j`` is None for unary ones).

    Raises:
        ValueError: for ``n_inputs < 1`` or ``n_ops < 1``.
    """
    if not isinstance(n_inputs, int) or n_inputs < 1:
        raise ValueError(f"n_inputs must be an int >= 1, got {n_inputs!r}")
    if not isinstance(n_ops, int) or n_ops < 1:
        raise ValueError(f"n_ops must be an int >= 1, got {n_ops!r}")
    rng = random.Random(seed)
    program = []
    for step in range(n_ops):
        size = n_inputs + step
        if rng.random() < 0.5:
            program.append((rng.choice(_BINARY), rng.randrange(size), rng.randrange(size)))
        else:
            program.append((rng.choice(_UNARY), rng.randrange(size), None))

    def f(xs):
        if len(xs) != n_inputs:
            raise ValueError(f"xs must hold {n_inputs} inputs, got {len(xs)}")
        v = list(xs)
        for op, i, j in program:
            a, b = v[i], (v[j] if j is not None else None)
            if op == "add":
                v.append(a + b)
            elif op == "sub":
                v.append(a - b)
            elif op == "mul":
                v.append(a * b)
            elif op == "div":
                v.append(a / (1.0 + b * b))
            elif op == "neg":
                v.append(-a)
            elif op == "square":
                v.append(a * a)
            elif op == "pow":
                v.append((1.0 + a * a) ** 1.5)
            elif op == "log":
                v.append(log(1.0 + a * a))
            elif op == "exp":
                v.append(exp(tanh(a)))
            else:
                v.append({"sin": sin, "cos": cos, "tanh": tanh}[op](a))
        out = v[-1]
        for extra in v[-3:-1]:
            out = out + extra
        return out

    f.program = program
    return f


# %% [markdown]
# ## Demo 1: one trace, forwards and backwards
#
# Linnainmaa's trace for $y = x_1 x_2 + \sin x_1$ at $x_1 = 1.5$, $x_2 = -2$: each line is one
# recorded operation with its local derivatives, and the last column is the adjoint
# $\partial y / \partial v_i$ that the backward sweep leaves there. The inputs' adjoints are the
# gradient: $\partial y/\partial x_1 = x_2 + \cos x_1$ and $\partial y/\partial x_2 = x_1$.

# %% active="ipynb"
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.device import default_device
#
# tape = Tape()
# x1, x2 = tape.var(1.5), tape.var(-2.0)
# y = x1 * x2 + sin(x1)
# y.backward()
# print(tape.trace(y))
# print(f"\ngradient from the tape: ({x1.grad:.12f}, {x2.grad:.12f})")
# print(f"by hand, x2 + cos x1 and x1: ({-2.0 + math.cos(1.5):.12f}, {1.5:.12f})")

# %% [markdown]
# ## Demo 2: the tape against `torch.autograd`
#
# For 200 random expressions of 5 inputs and 30 operations each, we compute the gradient with the
# tape, with forward mode, and with `torch.autograd` in float64. Then we call `backward` a second
# time, which must double every gradient in both libraries, and after `zero_grad` a third time,
# which must give the single gradient again.
#
# The reference runs on the CPU even when there is a GPU. The tape computes with Python floats,
# that is with the CPU's arithmetic, and the GPU's float64 `sin`, `exp` and powers round
# differently in the last bits; through thirty operations those differences grow to about
# $10^{-9}$ (on an H100, autograd on the GPU against autograd on the CPU), which would say
# nothing about differentiation. When a GPU is there, the cell prints that comparison too.

# %% active="ipynb"
# import torch
#
# device = default_device()
# gen = torch.Generator().manual_seed(0)
# worst_reverse = worst_forward = worst_second = worst_zero = 0.0
# cpu_vs_gpu = None  # autograd on the GPU against autograd on the CPU, when there is a GPU
# shared = 0
#
#
# def rel_err(ours, ref):
#     return max(abs(float(a) - b) / max(1.0, abs(b)) for a, b in zip(ours, ref))
#
#
# for seed in range(200):
#     f = random_expression(5, 30, seed=seed)
#     used = [k for _, i, j in f.program for k in (i, j) if k is not None and k >= 5]
#     shared += len(used) != len(set(used))  # an intermediate value feeds two later steps
#     xs = (torch.rand(5, generator=gen, dtype=torch.float64) * 4 - 2).tolist()
#
#     t_x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)  # the tape's arithmetic is the CPU's
#     t_y = f(list(t_x.unbind()))
#     t_y.backward(retain_graph=True)
#     ref = t_x.grad.tolist()
#     t_y.backward()  # a second pass accumulates
#     ref_twice = t_x.grad.tolist()
#     if device.type == "cuda":
#         g_x = torch.tensor(xs, dtype=torch.float64, device=device, requires_grad=True)
#         f(list(g_x.unbind())).backward()
#         cpu_vs_gpu = max(cpu_vs_gpu or 0.0, rel_err(g_x.grad.tolist(), ref))
#
#     tape = Tape()
#     leaves = [tape.var(x) for x in xs]
#     out = f(leaves)
#     out.backward()
#     once = [v.grad or 0.0 for v in leaves]  # None: an input the expression does not use
#     out.backward()
#     twice = [v.grad or 0.0 for v in leaves]
#     tape.zero_grad()
#     out.backward()
#     again = [v.grad or 0.0 for v in leaves]
#
#     worst_reverse = max(worst_reverse, rel_err(once, ref))
#     worst_second = max(worst_second, rel_err(twice, ref_twice))
#     worst_zero = max(worst_zero, rel_err(again, ref))
#     worst_forward = max(worst_forward, rel_err(forward_gradient(f, xs)[1], ref))
# print(f"{shared} of 200 expressions use an intermediate value more than once")
# print(f"largest relative difference from autograd: reverse {worst_reverse:.1e}, "
#       f"forward {worst_forward:.1e}, second backward {worst_second:.1e}, "
#       f"after zero_grad {worst_zero:.1e}")
# if cpu_vs_gpu is not None:
#     print(f"for comparison, autograd on {device} against autograd on the CPU: {cpu_vs_gpu:.1e}")
# claim(
#     "the tape's gradients match torch.autograd in float64, with shared values and a second backward",
#     measured=f"{max(worst_reverse, worst_second, worst_zero):.1e}",
#     expected="<= 1e-12",
#     holds=max(worst_reverse, worst_second, worst_zero, worst_forward) <= 1e-12 and shared > 0,
# )

# %% [markdown]
# ## Demo 3: what a gradient costs
#
# The function below has $n$ inputs and does a fixed amount of work per input:
# $f(x) = \sum_i \tanh(x_i x_{i+1} + 0.5)\cos x_i + \log\left(1 + \sum_i x_i^2\right)$ (indices wrap
# around). We count the operations of one evaluation, of the reverse gradient (recording the tape,
# local derivatives and the backward sweep) and of the forward gradient ($n$ dual-number passes),
# for $n$ from 1 to 128.

# %% active="ipynb"
# def work(xs):
#     n = len(xs)
#     total, squares = 0.0, 0.0
#     for i in range(n):
#         total = total + tanh(xs[i] * xs[(i + 1) % n] + 0.5) * cos(xs[i])
#         squares = squares + xs[i] * xs[i]
#     return total + log(1.0 + squares)
#
#
# sizes = [1, 2, 4, 8, 16, 32, 64, 128]
# rows = []
# for n in sizes:
#     xs = [Counted(0.1 * ((7 * k) % 11) - 0.5) for k in range(n)]
#     evaluation = count_operations(lambda: work(xs))
#     reverse = count_operations(lambda: reverse_gradient(work, xs))
#     forward = count_operations(lambda: forward_gradient(work, xs))
#     rows.append((n, evaluation, reverse, forward))
#     print(f"n = {n:3d}: evaluation {evaluation:6,d} ops, reverse gradient {reverse:7,d} "
#           f"({reverse / evaluation:.2f}x), forward gradient {forward:9,d} ({forward / evaluation:,.1f}x)")
#
# # the two gradients agree with each other at the largest n
# _, g_rev = reverse_gradient(work, [float(x) for x in xs])
# _, g_fwd = forward_gradient(work, [float(x) for x in xs])
# agree = max(abs(a - b) for a, b in zip(g_rev, g_fwd))
# print(f"reverse and forward gradients at n = {n} differ by at most {agree:.1e}")
#
# rev_ratio = [r / e for _, e, r, _ in rows]
# fwd_ratio = [f / e for _, e, _, f in rows]
# slope = math.log(fwd_ratio[-1] / fwd_ratio[-2]) / math.log(sizes[-1] / sizes[-2])
#
# fig, ax = figures.subplots(
#     title=f"Reverse mode: {min(rev_ratio):.1f}-{max(rev_ratio):.1f}x one evaluation at any n; "
#     f"forward mode grows to {fwd_ratio[-1]:,.0f}x", width=7,
# )
# ax.plot(sizes, rev_ratio, marker="o", color=figures.color("reverse"),
#         label="reverse gradient (one sweep)")
# ax.plot(sizes, fwd_ratio, marker="s", color=figures.color("forward"),
#         label="forward gradient (n dual passes)")
# ax.plot(sizes, [fwd_ratio[0] * n for n in sizes], ls=":", color=figures.color("baseline"),
#         label="proportional to n")
# ax.set(xscale="log", yscale="log", xlabel="number of inputs n",
#        ylabel="cost (operations / one evaluation's)")
# ax.set_xticks(sizes, [str(n) for n in sizes])
# ax.legend()
# claim(
#     "the reverse gradient costs a small constant multiple of one evaluation, whatever n",
#     measured=f"{min(rev_ratio):.2f}-{max(rev_ratio):.2f}x for n = 1..{sizes[-1]}",
#     expected="<= 5x at every n",
#     paper="<= 5x (cheap gradient principle: Baur and Strassen 1983; Griewank and Walther 2008)",
#     holds=max(rev_ratio) <= 5 and agree < 1e-12,
# )
# claim(
#     "forward mode's cost grows in proportion to the number of inputs",
#     measured=f"{fwd_ratio[0]:.1f}x at n = 1, {fwd_ratio[-1]:,.0f}x at n = {sizes[-1]}; "
#     f"log-log slope {slope:.2f}",
#     expected="slope about 1 (0.9-1.1)",
#     holds=0.9 <= slope <= 1.1,
# )

# %% [markdown]
# The reverse sweep visits every recorded edge once, and a function of $n$ inputs that does
# $O(n)$ work records $O(n)$ edges, so the ratio to one evaluation cannot grow with $n$. Forward
# mode must repeat the whole computation once per input. A network's loss has millions of inputs
# (its weights) and one output: that asymmetry is why training uses the reverse sweep, under the
# name back-propagation. The price is memory, since the whole tape must be kept until the
# backward sweep; forward mode needs none.
#
# ## What the replica keeps and simplifies
#
# - **Kept**: Linnainmaa's scheme exactly: a straight-line record of elementary operations with
#   their local derivatives, adjoints accumulated in one backward pass.
# - **Simplified**: his thesis was after the rounding error of numerical algorithms, and its code
#   was FORTRAN; here the tape holds Python floats and differentiates one scalar output. Real
#   libraries record whole tensor operations (one matrix product instead of millions of scalar
#   multiplications) and free the tape after use; see the [back-propagation
#   page](../training/backprop.md) for the rules on matrices.
