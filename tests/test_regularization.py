"""The from-scratch L1 and L2 penalties against autograd and torch.optim's weight_decay."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell.training.regularization import (
    add_penalty_gradients,
    l1_gradient,
    l1_penalty,
    l2_gradient,
    l2_penalty,
    penalized,
    weights,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _params(dtype=torch.float64, device="cpu", seed=0, zeros=True):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(5, 4), (4,), (3, 2, 2), (1,)]
    params = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
    if zeros:
        params[0][0, :2] = 0.0  # exact zeros: the subgradient case
    return [p.to(device).requires_grad_() for p in params]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("strength", [0.0, 1e-4, 0.3, 2.0])
def test_penalties_and_gradients_match_autograd(device, dtype, strength):
    params = _params(dtype, device)
    flat = torch.cat([p.flatten() for p in params])
    torch.testing.assert_close(l1_penalty(params, strength), strength * flat.abs().sum())
    torch.testing.assert_close(l2_penalty(params, strength), strength * 0.5 * flat.pow(2).sum())
    for penalty, gradient in ((l1_penalty, l1_gradient), (l2_penalty, l2_gradient)):
        auto = torch.autograd.grad(penalty(params, strength), params, allow_unused=True)
        auto = [torch.zeros_like(p) if g is None else g for g, p in zip(auto, params)]
        ours = gradient(params, strength)
        for a, b in zip(ours, auto):
            assert a.dtype == b.dtype and a.device == b.device
            torch.testing.assert_close(a, b, rtol=1e-12 if dtype == torch.float64 else 1e-6, atol=0)


def test_l1_gradient_at_zero_is_zero_like_autograd():
    w = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(l1_penalty([w], 0.5), [w])
    assert torch.equal(auto, torch.zeros(4, dtype=torch.float64))
    assert torch.equal(l1_gradient([w], 0.5)[0], auto)


def test_add_penalty_gradients_equals_backpropagating_the_penalized_loss():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    twin = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    twin.load_state_dict(net.state_dict())
    with torch.no_grad():
        net[0].weight[0, 0] = 0.0
        twin[0].weight[0, 0] = 0.0
    x = torch.randn(10, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (10,))
    loss = penalized(F.cross_entropy, weights(net), l1=0.01, l2=0.2)
    for _ in range(2):  # a second backward accumulates in both
        loss(net(x), y).backward()
        F.cross_entropy(twin(x), y).backward()
        add_penalty_gradients(weights(twin), l1=0.01, l2=0.2)
    for a, b in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-13, atol=1e-15)


def test_add_penalty_gradients_creates_missing_grads():
    w = torch.tensor([1.5, -2.0, 0.0], requires_grad=True)
    add_penalty_gradients([w], l1=0.1, l2=0.5)
    torch.testing.assert_close(w.grad, torch.tensor([0.1 + 0.75, -0.1 - 1.0, 0.0]))


def _train(net, opt, x, y, steps, loss_fn):
    for i in range(steps):
        idx = slice((i * 16) % 64, (i * 16) % 64 + 16)
        opt.zero_grad()
        loss_fn(net(x[idx]), y[idx]).backward()
        opt.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("decay", [1e-3, 0.05, 0.5])
def test_l2_penalty_gives_the_trajectory_of_sgd_weight_decay(device, decay):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 10, generator=gen, dtype=torch.float64).to(device)
    y = torch.randint(0, 4, (64,), generator=gen).to(device)
    torch.manual_seed(2)
    a = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 4)).double().to(device)
    b = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 4)).double().to(device)
    b.load_state_dict(a.state_dict())
    start = [p.detach().clone() for p in a.parameters()]
    _train(
        a, torch.optim.SGD(a.parameters(), lr=0.1, weight_decay=decay), x, y, 300, F.cross_entropy
    )
    _train(
        b,
        torch.optim.SGD(b.parameters(), lr=0.1),
        x,
        y,
        300,
        penalized(F.cross_entropy, b.parameters(), l2=decay),
    )
    moved = max((p - s).abs().max().item() for p, s in zip(a.parameters(), start))
    assert moved > 0.05  # the trajectory went somewhere
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_the_identity_fails_without_the_half():
    # a check that the test above can fail: lambda * ||w||^2 (no 1/2) is twice the decay
    w1 = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(0.1 * w1.pow(2).sum(), [w1])
    assert not torch.allclose(g, l2_gradient([w1], 0.1)[0])
    assert torch.allclose(g, l2_gradient([w1], 0.2)[0])


def test_penalized_with_zero_strength_is_the_plain_loss():
    out, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    w = [torch.randn(3, 3, requires_grad=True)]
    assert torch.equal(penalized(F.cross_entropy, w)(out, y), F.cross_entropy(out, y))


def test_weights_skips_biases():
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Conv1d(1, 2, 3), nn.Linear(5, 2))
    shapes = [tuple(p.shape) for p in weights(net)]
    assert shapes == [(5, 4), (2, 1, 3), (2, 5)]


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf"), "0.1", None, True])
def test_invalid_strength_raises_value_error(bad):
    w = [torch.ones(2)]
    for fn in (l1_penalty, l2_penalty, l1_gradient, l2_gradient):
        with pytest.raises(ValueError, match="strength"):
            fn(w, bad)
    for name in ("l1", "l2"):
        with pytest.raises(ValueError, match=name):
            penalized(F.cross_entropy, w, **{name: bad})
        with pytest.raises(ValueError, match=name):
            add_penalty_gradients(w, **{name: bad})


def test_empty_or_exhausted_params_raise_value_error():
    net = nn.Linear(3, 2)
    params = net.parameters()
    l2_penalty(params)  # consumes the generator
    with pytest.raises(ValueError, match="params"):
        l2_penalty(params)
    with pytest.raises(ValueError, match="params"):
        penalized(F.cross_entropy, [], l2=0.1)
    with pytest.raises(ValueError, match="params"):
        l1_penalty([1.0, 2.0])
