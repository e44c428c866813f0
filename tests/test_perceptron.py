"""The perceptron rule, the delta rule and the margin against independent references."""

import math
import warnings

import pytest
import torch
from sklearn.linear_model import Perceptron as SkPerceptron

from nutshell.data import generator
from nutshell.history.perceptron import (
    delta_rule,
    gate,
    max_margin,
    perceptron,
    separable,
    two_layer,
)


def overlapping(n=50, seed=0):
    g = generator(seed)
    y = torch.where(torch.rand(n, generator=g, dtype=torch.float64) < 0.5, 1.0, -1.0)
    x = y[:, None] * 0.5 + torch.randn(n, 3, generator=g, dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("data", ["separable", "overlapping"])
def test_perceptron_matches_sklearn(data):
    x, y = separable(40, 0.05, seed=3) if data == "separable" else overlapping()
    epochs = 7
    ours = perceptron(x, y, epochs=epochs)
    # sklearn runs all epochs; after convergence it makes no further updates
    sk = SkPerceptron(max_iter=epochs, tol=None, shuffle=False, eta0=1.0, alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when it did not converge
        sk.fit(x.numpy(), y.numpy())
    assert not ours.cycled
    torch.testing.assert_close(ours.weights, torch.from_numpy(sk.coef_[0]), rtol=0, atol=1e-12)
    assert ours.bias.item() == pytest.approx(sk.intercept_[0], abs=1e-12)


def test_perceptron_update_by_hand():
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    run = perceptron(x, y, epochs=1, lr=0.5)
    # first example: 0 <= 0 is a mistake -> w = 0.5 * (1, 2), b = 0.5
    # second: -1 * (w . (-1, 0.5) + 0.5) = -(-0.5 + 0.5 + 0.5) = -0.5 <= 0 -> mistake
    w = 0.5 * x[0] - 0.5 * x[1]
    torch.testing.assert_close(run.weights, w, rtol=0, atol=0)
    assert run.bias.item() == 0.0
    assert run.mistakes_per_epoch == [2]


def test_gates_and_xor():
    for name in ("AND", "OR"):
        run = perceptron(*gate(name))
        assert run.converged and not run.cycled
        assert torch.equal(run.predict(gate(name)[0]), gate(name)[1])
    run = perceptron(*gate("XOR"), epochs=1000)
    assert run.cycled and not run.converged and run.mistakes_per_epoch[-1] > 0
    assert max_margin(*gate("XOR")) is None


def test_lr_only_rescales_from_zero():
    x, y = separable(30, 0.1, seed=1)
    a, b = perceptron(x, y, lr=1.0), perceptron(x, y, lr=0.25)
    assert a.mistakes == b.mistakes and a.epochs == b.epochs
    torch.testing.assert_close(a.weights * 0.25, b.weights, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_mistakes_within_novikoff_bound(seed):
    x, y = separable(50, 0.03, seed=seed)
    run, bound = perceptron(x, y, epochs=5000), max_margin(x, y)
    assert run.converged
    assert run.mistakes <= bound.bound
    # the returned direction really separates with the stated margin
    u = torch.tensor(bound.direction, dtype=torch.float64)
    z = torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], 1)
    assert u.norm().item() == pytest.approx(1.0)
    assert (y * (z @ u)).min().item() == pytest.approx(bound.margin, abs=1e-12)


def test_max_margin_known_case():
    # 1-D points +1 at x=1 and -1 at x=-1: augmented z = (1, 1), (-1, 1); best u = (1, 0)
    x = torch.tensor([[1.0], [-1.0]])
    y = torch.tensor([1.0, -1.0])
    bound = max_margin(x, y)
    assert bound.margin == pytest.approx(1.0, abs=1e-6)
    assert bound.radius == pytest.approx(math.sqrt(2))
    assert bound.direction == pytest.approx((1.0, 0.0), abs=1e-6)


def test_max_margin_beats_random_directions():
    x, y = separable(20, 0.1, seed=7)
    bound = max_margin(x, y)
    z = torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], 1)
    u = torch.randn(200_000, 3, generator=generator(0), dtype=torch.float64)
    u = u / u.norm(dim=1, keepdim=True)
    best_random = (y[:, None] * (z @ u.T)).min(0).values.max().item()
    assert best_random <= bound.margin + 1e-9
    assert best_random > bound.margin - 0.02  # the brute force gets close to the optimum


@pytest.mark.parametrize("activation", ["linear", "sigmoid"])
def test_delta_rule_matches_autograd_sgd(activation):
    x, y = overlapping(20, seed=2)
    t = y if activation == "linear" else (y > 0).double()
    ours = delta_rule(x, t, epochs=3, lr=0.05, activation=activation)
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.05)
    f = (lambda a: a) if activation == "linear" else torch.sigmoid
    for _ in range(3):
        for xi, ti in zip(x, t):
            loss = 0.5 * (ti - f(xi @ w + b)) ** 2
            opt.zero_grad()
            loss.backward()
            opt.step()
    torch.testing.assert_close(ours.weights, w.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(ours.bias, b.detach(), rtol=0, atol=1e-12)
    # the recorded loss is that of the final weights
    final = (0.5 * (t - f(x @ w + b)) ** 2).mean().item()
    assert ours.loss[-1] == pytest.approx(final, rel=1e-12)
    assert len(ours.snapshots) == 3


def test_second_call_is_identical_and_inputs_untouched():
    x, y = overlapping(30, seed=4)
    x0, y0 = x.clone(), y.clone()
    a, b = perceptron(x, y, epochs=5), perceptron(x, y, epochs=5)
    assert torch.equal(a.weights, b.weights) and a.mistakes == b.mistakes
    c, d = delta_rule(x, y, epochs=2), delta_rule(x, y, epochs=2)
    assert torch.equal(c.weights, d.weights)
    assert torch.equal(x, x0) and torch.equal(y, y0)


def test_float32_inputs():
    x, y = gate("OR")
    run = perceptron(x, y)
    assert run.weights.dtype == torch.float32 and run.converged


def test_two_layer_shapes_and_seed():
    a, b = two_layer(2, seed=3), two_layer(2, seed=3)
    x = torch.rand(5, 2)
    assert a(x).shape == (5,)
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: perceptron(*gate("AND"), epochs=0), "epochs"),
        (lambda: perceptron(*gate("AND"), lr=-1.0), "learning rate"),
        (lambda: perceptron(*gate("AND"), lr=float("nan")), "learning rate"),
        (lambda: perceptron(gate("AND")[0], (gate("AND")[1] > 0).float()), "-1 and \\+1"),
        (lambda: perceptron(torch.zeros(4), gate("AND")[1]), "x must be a 2-D"),
        (lambda: perceptron(gate("AND")[0], torch.ones(3)), "y must be a 1-D"),
        (lambda: perceptron(torch.zeros(4, 2, dtype=torch.long), gate("AND")[1]), "floating"),
        (lambda: max_margin(gate("AND")[0], torch.zeros(4)), "-1 and \\+1"),
        (lambda: delta_rule(*gate("AND"), activation="relu"), "activation"),
        (lambda: delta_rule(*gate("AND"), lr=0.0), "learning rate"),
        (lambda: gate("NAND"), "name"),
        (lambda: separable(1, 0.1), "n must"),
        (lambda: separable(10, 0.7), "margin"),
        (lambda: two_layer(0), "hidden"),
    ],
)
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    x, y = separable(40, 0.05, seed=2)
    cpu = perceptron(x, y)
    gpu = perceptron(x.cuda(), y.cuda())
    assert gpu.weights.device.type == "cuda"
    torch.testing.assert_close(gpu.weights.cpu(), cpu.weights)
    assert gpu.mistakes == cpu.mistakes
    d_cpu, d_gpu = delta_rule(x, y, epochs=2), delta_rule(x.cuda(), y.cuda(), epochs=2)
    torch.testing.assert_close(d_gpu.weights.cpu(), d_cpu.weights)
