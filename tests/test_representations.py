"""Tests for nutshell.history.representations (Rumelhart, Hinton & Williams 1986)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell.history.representations import (
    SideBySide,
    encoder_task,
    mirror_weights,
    sigmoid_net,
    solved,
    squared_error,
    symmetry_task,
    train,
)

# ---- the network ---------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(8, 3, 8), (6, 2, 1), (4, 5, 3, 2)])
def test_sigmoid_net_shapes(sizes):
    net = sigmoid_net(sizes, seed=1)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == list(zip(sizes, sizes[1:]))
    assert sum(isinstance(m, nn.Sigmoid) for m in net) == len(sizes) - 1
    out = net(torch.rand(7, sizes[0]))
    assert out.shape == (7, sizes[-1])
    assert ((out > 0) & (out < 1)).all()


@pytest.mark.parametrize("init_range", [0.3, 0.05, 2.0])
def test_sigmoid_net_init_range(init_range):
    net = sigmoid_net((30, 20, 10), init_range=init_range, seed=3)
    values = torch.cat([p.detach().flatten() for p in net.parameters()])
    assert values.abs().max() <= init_range
    # uniform on [-r, r]: the draws fill the range (not, say, PyTorch's default init)
    assert values.max() > 0.9 * init_range and values.min() < -0.9 * init_range
    assert abs(values.mean().item()) < 0.1 * init_range


def test_sigmoid_net_seeded():
    a, b, c = (
        sigmoid_net((6, 2, 1), seed=4),
        sigmoid_net((6, 2, 1), seed=4),
        sigmoid_net((6, 2, 1), seed=5),
    )
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(sizes=(8,)), "sizes"),
        (dict(sizes=(8, 0, 8)), "sizes"),
        (dict(sizes=(8, 2.5, 8)), "sizes"),
        (dict(sizes=(8, 3, 8), init_range=0.0), "init_range"),
        (dict(sizes=(8, 3, 8), init_range=-0.3), "init_range"),
        (dict(sizes=(8, 3, 8), seed=-1), "seed"),
    ],
)
def test_sigmoid_net_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sigmoid_net(**kwargs)


# ---- the error -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_squared_error_matches_torch(dtype):
    g = torch.Generator().manual_seed(0)
    y = torch.rand(64, 3, generator=g, dtype=dtype, requires_grad=True)
    d = torch.rand(64, 3, generator=g, dtype=dtype)
    ours = squared_error(y, d)
    ref = 0.5 * F.mse_loss(y, d, reduction="sum")
    torch.testing.assert_close(ours, ref)
    (grad,) = torch.autograd.grad(ours, y)
    torch.testing.assert_close(grad, (y - d).detach())  # dE/dy = y - d


def test_squared_error_invalid():
    with pytest.raises(ValueError, match="shape"):
        squared_error(torch.zeros(4, 1), torch.zeros(4))


# ---- the tasks -----------------------------------------------------------------------------


def test_encoder_task():
    x, d = encoder_task(8)
    assert torch.equal(x, torch.eye(8)) and torch.equal(d, torch.eye(8))
    d[0, 0] = 5.0  # targets are a copy, not a view of the inputs
    assert x[0, 0] == 1.0


def test_symmetry_task():
    x, d = symmetry_task(6)
    assert x.shape == (64, 6) and d.shape == (64, 1)
    assert len({tuple(row.tolist()) for row in x}) == 64  # every binary vector once
    palindromes = [row for row, t in zip(x.tolist(), d[:, 0].tolist(), strict=True) if t == 1]
    assert len(palindromes) == 8
    assert all(row == row[::-1] for row in palindromes)
    x4, d4 = symmetry_task(4)
    assert int(d4.sum()) == 4  # 2^(n/2) palindromes


@pytest.mark.parametrize(
    ("task", "n"), [(encoder_task, 1), (encoder_task, 2.0), (symmetry_task, 1), (symmetry_task, 17)]
)
def test_tasks_invalid(task, n):
    with pytest.raises(ValueError, match="n must"):
        task(n)


# ---- the solved criterion ------------------------------------------------------------------


def test_solved_criterion():
    d = torch.tensor([[0.0], [1.0]])
    assert solved(torch.tensor([[0.49], [0.51]]), d)
    assert not solved(torch.tensor([[0.5], [0.9]]), d)  # exactly one half is not solved
    assert not solved(torch.tensor([[0.1], [0.4]]), d)
    assert solved(torch.tensor([[0.05], [0.95]]), d, margin=0.1)
    assert not solved(torch.tensor([[0.05], [0.85]]), d, margin=0.1)
    assert isinstance(solved(d, d), bool)


@pytest.mark.parametrize("margin", [0.0, -0.1, 1.5])
def test_solved_invalid_margin(margin):
    with pytest.raises(ValueError, match="margin"):
        solved(torch.zeros(2, 1), torch.zeros(2, 1), margin)


def test_solved_invalid_shape():
    with pytest.raises(ValueError, match="shape"):
        solved(torch.zeros(2, 1), torch.zeros(2))


# ---- training: fit with full-batch sweeps is the paper's momentum rule ---------------------


def _paper_rule(net, x, d, lr, momentum, sweeps):
    """Delta w(t) = -lr dE/dw(t) + momentum Delta w(t-1), written out by hand."""
    params = list(net.parameters())
    delta = [torch.zeros_like(p) for p in params]
    for _ in range(sweeps):
        grads = torch.autograd.grad(squared_error(net(x), d), params)
        with torch.no_grad():
            for p, g, dw in zip(params, grads, delta, strict=True):
                dw.mul_(momentum).add_(g, alpha=-lr)
                p.add_(dw)
    return net


def test_side_by_side_is_each_net():
    nets = [sigmoid_net((5, 3, 2), seed=s).double() for s in range(4)]
    stack = SideBySide(nets)
    x = torch.rand(7, 5, dtype=torch.float64)
    out = stack(x)
    assert out.shape == (4, 7, 2)
    for r, net in enumerate(nets):
        torch.testing.assert_close(out[r], net(x), rtol=0, atol=1e-14)
        copy = stack.member(r)
        torch.testing.assert_close(copy(x), net(x), rtol=0, atol=1e-14)
        assert all(not p.requires_grad or p.grad is None for p in copy.parameters())
    before = nets[0](x).detach().clone()
    with torch.no_grad():
        stack.weights[0].add_(1.0)  # the stack holds copies: the nets are not touched
    torch.testing.assert_close(nets[0](x), before, rtol=0, atol=0)
    assert not torch.equal(stack.member(0)[0].weight, nets[0][0].weight)


@pytest.mark.parametrize("nets", [[], [nn.Sequential(nn.Sigmoid())]])
def test_side_by_side_needs_nets(nets):
    with pytest.raises(ValueError, match="nets"):
        SideBySide(nets)


def test_side_by_side_needs_one_shape():
    with pytest.raises(ValueError, match="same shape"):
        SideBySide([sigmoid_net((6, 2, 1)), sigmoid_net((6, 3, 1))])


@pytest.mark.parametrize(("lr", "momentum"), [(0.1, 0.9), (0.3, 0.0), (0.05, 0.5)])
def test_train_is_the_paper_rule_for_every_net(lr, momentum):
    x, d = (t.double() for t in symmetry_task(6))
    nets = [sigmoid_net((6, 2, 1), seed=s).double() for s in range(3)]
    runs = train(nets, (x, d), lr=lr, momentum=momentum, max_sweeps=25, margin=1e-9, device="cpu")
    assert len(runs) == 3
    for seed, run in enumerate(runs):
        ref = _paper_rule(sigmoid_net((6, 2, 1), seed=seed).double(), x, d, lr, momentum, 25)
        assert run.sweeps is None and len(run.error) == 25
        for p, q in zip(run.model.parameters(), ref.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=0, atol=1e-12)
        torch.testing.assert_close(run.error[-1], squared_error(ref(x), d).item())
    # the nets passed in are not modified
    torch.testing.assert_close(nets[0][0].weight, sigmoid_net((6, 2, 1), seed=0)[0].weight.double())


def test_train_side_by_side_equals_alone():
    x, d = (t.double() for t in encoder_task(4))
    together = train(
        [sigmoid_net((4, 2, 4), seed=s).double() for s in (0, 1)],
        (x, d),
        max_sweeps=3000,
        device="cpu",
    )
    for seed, run in zip((0, 1), together, strict=True):
        (alone,) = train(
            [sigmoid_net((4, 2, 4), seed=seed).double()], (x, d), max_sweeps=3000, device="cpu"
        )
        assert run.sweeps == alone.sweeps
        torch.testing.assert_close(run.error, alone.error, rtol=0, atol=1e-12)
        for p, q in zip(run.model.parameters(), alone.model.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=0, atol=1e-12)


def test_train_counts_sweeps_to_first_solution():
    x, d = (t.double() for t in encoder_task(4))
    (run,) = train([sigmoid_net((4, 2, 4), seed=0).double()], (x, d), max_sweeps=3000, device="cpu")
    assert run.sweeps is not None and run.sweeps == len(run.error)
    assert solved(run.model(x), d)
    before = _paper_rule(sigmoid_net((4, 2, 4), seed=0).double(), x, d, 0.1, 0.9, run.sweeps - 1)
    assert not solved(before(x), d)  # one sweep earlier it was not solved yet
    # a second call from the same seed gives the same run
    (again,) = train(
        [sigmoid_net((4, 2, 4), seed=0).double()], (x, d), max_sweeps=3000, device="cpu"
    )
    assert again.sweeps == run.sweeps and again.error == run.error


def test_train_gives_up_after_max_sweeps():
    x, d = symmetry_task(6)
    (run,) = train([sigmoid_net((6, 2, 1), seed=0)], (x, d), max_sweeps=7, device="cpu")
    assert run.sweeps is None and len(run.error) == 7


def test_train_already_solved():
    x = torch.eye(2)
    net = sigmoid_net((2, 2), seed=0)
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2) * 20 - 10)
        net[0].bias.zero_()
    (run,) = train([net], (x, x), device="cpu")
    assert run.sweeps == 0 and run.error == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(lr=0.0), "learning rate"),
        (dict(lr=-1.0), "learning rate"),
        (dict(momentum=1.0), "momentum"),
        (dict(momentum=-0.1), "momentum"),
        (dict(max_sweeps=0), "max_sweeps"),
        (dict(max_sweeps=10.5), "max_sweeps"),
        (dict(margin=0.0), "margin"),
    ],
)
def test_train_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train([sigmoid_net((4, 2, 4))], encoder_task(4), device="cpu", **kwargs)


def test_train_invalid_nets():
    with pytest.raises(ValueError, match="nets"):
        train([], encoder_task(4), device="cpu")


# ---- mirror weights ------------------------------------------------------------------------


def test_mirror_weights_of_the_paper_solution():
    w = torch.tensor([[-1.0, -2.0, 4.0, -4.0, 2.0, 1.0], [3.0, 6.0, -12.0, 12.0, -6.0, -3.0]])
    asymmetry, ratio = mirror_weights(w)
    assert asymmetry == 0.0
    assert ratio == pytest.approx([1.0, 2.0, 4.0])
    asymmetry, _ = mirror_weights(w + torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 1.2]))
    assert asymmetry == pytest.approx(1.2 / 12.0)  # |w_1 + w_6| / max |w| over the matrix


@pytest.mark.parametrize("shape", [(6,), (2, 5), (2, 0)])
def test_mirror_weights_invalid(shape):
    with pytest.raises(ValueError, match="weight"):
        mirror_weights(torch.ones(shape))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_train_on_cuda_matches_cpu():
    x, d = (t.double() for t in symmetry_task(6))
    nets = [sigmoid_net((6, 2, 1), seed=s).double() for s in range(3)]
    cpu = train(nets, (x, d), max_sweeps=50, margin=1e-9, device="cpu")
    gpu = train(nets, (x, d), max_sweeps=50, margin=1e-9, device="cuda")
    for a, b in zip(cpu, gpu, strict=True):
        for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
            torch.testing.assert_close(p, q.cpu(), rtol=0, atol=1e-9)
