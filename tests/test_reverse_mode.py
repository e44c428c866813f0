"""The scalar tape and the dual numbers against torch.autograd, in float64."""

import math

import pytest
import torch

from nutshell.history.reverse_mode import (
    Counted,
    Dual,
    Tape,
    Var,
    cos,
    count_operations,
    exp,
    forward_gradient,
    log,
    random_expression,
    reverse_gradient,
    sin,
    tanh,
)

TOL = dict(rtol=1e-12, atol=1e-12)


def inputs(n, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=g, dtype=torch.float64) * 4 - 2).tolist()


def autograd(f, xs, passes=1):
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    y = f(list(x.unbind()))
    for k in range(passes):
        y.backward(retain_graph=k < passes - 1)
    return y.item(), x.grad


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_match_autograd(seed):
    f = random_expression(4, 25, seed=seed)
    xs = inputs(4, seed)
    value, ref = autograd(f, xs)
    v_rev, g_rev = reverse_gradient(f, xs)
    v_fwd, g_fwd = forward_gradient(f, xs)
    assert v_rev == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert v_fwd == pytest.approx(value, rel=1e-12, abs=1e-12)
    torch.testing.assert_close(torch.tensor(g_rev, dtype=torch.float64), ref, **TOL)
    torch.testing.assert_close(torch.tensor(g_fwd, dtype=torch.float64), ref, **TOL)


@pytest.mark.parametrize("seed", range(10))
def test_second_backward_accumulates_like_retain_graph(seed):
    f = random_expression(3, 20, seed=100 + seed)
    xs = inputs(3, seed)
    _, once = autograd(f, xs)
    _, twice = autograd(f, xs, passes=2)
    tape = Tape()
    leaves = [tape.var(x) for x in xs]
    y = f(leaves)
    y.backward()
    first = torch.tensor([v.grad or 0.0 for v in leaves], dtype=torch.float64)
    y.backward()
    second = torch.tensor([v.grad or 0.0 for v in leaves], dtype=torch.float64)
    torch.testing.assert_close(first, once, **TOL)
    torch.testing.assert_close(second, twice, **TOL)
    # zero_grad: back to None, and the next backward gives the single gradient
    tape.zero_grad()
    assert all(v.grad is None for v in leaves)
    y.backward()
    torch.testing.assert_close(
        torch.tensor([v.grad or 0.0 for v in leaves], dtype=torch.float64), once, **TOL
    )


def test_shared_node_used_many_times():
    # y = h * h + sin(h) * h with h = x1 * x2 + x1: h feeds four edges
    def f(x):
        h = x[0] * x[1] + x[0]
        return h * h + sin(h) * h

    xs = [0.7, -1.3]
    _, ref = autograd(f, xs)
    tape = Tape()
    a, b = tape.var(xs[0]), tape.var(xs[1])
    y = f([a, b])
    y.backward()
    torch.testing.assert_close(torch.tensor([a.grad, b.grad], dtype=torch.float64), ref, **TOL)
    # the same leaf on both sides of an operation: d(x * x)/dx = 2x
    tape = Tape()
    x = tape.var(3.0)
    (x * x).backward()
    assert x.grad == 6.0


@pytest.mark.parametrize(
    ("name", "fn", "ref", "x"),
    [
        ("exp", exp, torch.exp, 0.3),
        ("log", log, torch.log, 1.7),
        ("sin", sin, torch.sin, -0.4),
        ("cos", cos, torch.cos, 2.1),
        ("tanh", tanh, torch.tanh, 0.9),
        ("pow", lambda v: v**2.5, lambda v: v**2.5, 1.3),
        ("neg", lambda v: -v, lambda v: -v, 1.1),
        ("rdiv", lambda v: 2.0 / v, lambda v: 2.0 / v, 0.6),
        ("rsub", lambda v: 2.0 - v, lambda v: 2.0 - v, 0.6),
        ("div", lambda v: v / 3.0, lambda v: v / 3.0, 0.6),
    ],
)
def test_each_operation(name, fn, ref, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ref(t).backward()
    tape = Tape()
    v = tape.var(x)
    out = fn(v)
    out.backward()
    assert out.value == pytest.approx(ref(torch.tensor(x, dtype=torch.float64)).item(), rel=1e-14)
    assert v.grad == pytest.approx(t.grad.item(), rel=1e-13, abs=1e-15)
    d = fn(Dual(x, 1.0))
    assert d.tangent == pytest.approx(t.grad.item(), rel=1e-13, abs=1e-15)


def test_grad_semantics():
    tape = Tape()
    x, unused = tape.var(2.0), tape.var(5.0)
    h = x * 3.0
    assert x.grad is None and h.grad is None
    y = h + 1.0
    y.backward()
    assert x.grad == 3.0
    assert unused.grad is None  # never reached, as in PyTorch
    assert h.grad is None  # only leaves accumulate
    # gradient() leaves grad alone
    assert tape.gradient(y, [x, unused]) == [3.0, 0.0]
    assert x.grad == 3.0
    # a later leaf is outside the earlier output's reach
    late = tape.var(1.0)
    y.backward()
    assert x.grad == 6.0 and late.grad is None


def test_trace_lists_every_operation():
    tape = Tape()
    a, b = tape.var(1.5), tape.var(-2.0)
    y = a * b + sin(a)
    text = tape.trace(y)
    assert len(tape) == 5 and len(text.splitlines()) == 6
    for op in ("input", "mul", "sin", "add"):
        assert op in text


def test_counted_counts_each_operation():
    x = Counted(2.0)
    assert count_operations(lambda: x * x + 1.0) == 2
    assert count_operations(lambda: exp(x) / x - sin(x)) == 4
    assert count_operations(lambda: float(x) * 2.0) == 0
    assert float(x * 3.0) == 6.0


def test_reverse_cost_is_flat_and_forward_grows():
    def f(xs):
        total = 0.0
        for v in xs:
            total = total + sin(v) * v
        return total

    ratios = []
    for n in (4, 32):
        xs = [Counted(0.1 * k) for k in range(n)]
        e = count_operations(lambda xs=xs: f(xs))
        r = count_operations(lambda xs=xs: reverse_gradient(f, xs))
        fw = count_operations(lambda xs=xs: forward_gradient(f, xs))
        ratios.append((r / e, fw / e))
    assert ratios[0][0] == pytest.approx(ratios[1][0], rel=0.1)
    assert ratios[1][0] < 5
    assert ratios[1][1] / ratios[0][1] == pytest.approx(8, rel=0.1)


def test_works_with_torch_tensors_too():
    f = random_expression(3, 10, seed=3)
    xs = inputs(3, 3)
    assert f(list(torch.tensor(xs, dtype=torch.float64).unbind())).item() == pytest.approx(f(xs))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Tape().var(float("nan")), "finite"),
        (lambda: Tape().var("1.0"), "real number"),
        (lambda: Tape().var(True), "real number"),
        (lambda: Tape().var(1.0) + float("inf"), "finite"),
        (lambda: Tape().var(1.0) / 0.0, "division by zero"),
        (lambda: Tape().var(-1.0).log(), "positive"),
        (lambda: Tape().var(-1.0) ** 0.5, "integer exponent"),
        (lambda: Tape().var(0.0) ** 0.5, "not finite"),
        (lambda: Tape().var(1.0) + Tape().var(2.0), "different tapes"),
        (lambda: Tape().backward(1.0), "output must be a Var"),
        (lambda: Tape().backward(Tape().var(1.0)), "different tape"),
        (lambda: Dual(1.0, 1.0) / 0.0, "division by zero"),
        (lambda: Dual(-1.0, 1.0).log(), "positive"),
        (lambda: reverse_gradient(lambda x: x[0], []), "at least one"),
        (lambda: forward_gradient(lambda x: x[0], [1.0, float("nan")]), "xs\\[1\\]"),
        (lambda: random_expression(0, 5), "n_inputs"),
        (lambda: random_expression(2, 0), "n_ops"),
        (lambda: random_expression(2, 3)([1.0]), "2 inputs"),
    ],
)
def test_invalid_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_gradient_rejects_foreign_inputs():
    tape, other = Tape(), Tape()
    x = tape.var(1.0)
    with pytest.raises(ValueError, match="inputs"):
        tape.gradient(x * 2.0, [other.var(1.0)])
    assert isinstance(x * 2.0, Var)


def test_constant_function_has_zero_gradient():
    value, grads = reverse_gradient(lambda xs: 4.0, [1.0, 2.0])
    assert value == 4.0 and grads == [0.0, 0.0]
    assert math.isfinite(forward_gradient(lambda xs: xs[0] * 0.0, [1.0])[1][0])
