"""The from-scratch Momentum and Nesterov against torch.optim.SGD, and Sutskever's form."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from nutshell.training.momentum import (
    Momentum,
    Nesterov,
    sutskever_momentum,
    sutskever_schedule,
)

OPTIONS = [
    {},
    {"weight_decay": 0.01},
    {"weight_decay": 0.05, "maximize": True},
    {"dampening": 0.3},
    {"dampening": 0.5, "weight_decay": 0.01, "maximize": True},
]


def make_params(dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 2), (5,), (6,)]
    return [torch.randn(s, generator=g, dtype=dtype).to(device).requires_grad_() for s in shapes]


def loss_of(params, step, maximize=False):
    """c gets a gradient every third step only (None otherwise), d a zero gradient, e none."""
    a, b, c, d, _ = params
    loss = (a.sin() * a).sum() + torch.tanh(a @ b).pow(2).sum() + (b * b).sum() * 0.1
    if step % 3 == 0:
        loss = loss + (c.cos() * c).sum()
    loss = loss + 0.0 * d.sum()
    return -loss if maximize else loss


def run(opt, params, steps, start=0, scheduler=None, maximize=False):
    for step in range(start, start + steps):
        opt.zero_grad(set_to_none=True)
        loss_of(params, step, maximize).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def tol(dtype):
    return (
        {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-6}
    )


def assert_same(ours, ref, dtype):
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q, **tol(dtype))


def compare_with_torch(cls, options, dtype, foreach_modes=(False, True), steps=200):
    """Run ours (with and without foreach) and torch.optim.SGD, with a scheduler, and compare."""
    nesterov = cls is Nesterov
    maximize = options.get("maximize", False)
    ref = make_params(dtype)
    torch_opt = torch.optim.SGD(ref, lr=0.03, momentum=0.9, nesterov=nesterov, **options)
    torch_sched = torch.optim.lr_scheduler.MultiStepLR(torch_opt, [70, 140], gamma=0.3)
    run(torch_opt, ref, steps, scheduler=torch_sched, maximize=maximize)
    for foreach in foreach_modes:
        ours = make_params(dtype)
        opt = cls(ours, lr=0.03, momentum=0.9, foreach=foreach, **options)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [70, 140], gamma=0.3)
        run(opt, ours, steps, scheduler=sched, maximize=maximize)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.03 * 0.09)
        assert_same(ours, ref, dtype)
        # the same state: a buffer for every parameter that ever had a gradient, none for e
        for p, q in zip(ours, ref):
            assert ("momentum_buffer" in opt.state[p]) == ("momentum_buffer" in torch_opt.state[q])
            if "momentum_buffer" in opt.state[p]:
                torch.testing.assert_close(
                    opt.state[p]["momentum_buffer"],
                    torch_opt.state[q]["momentum_buffer"],
                    **tol(dtype),
                )
        assert "momentum_buffer" not in opt.state[ours[4]]
        # the parameters really moved
        assert (ours[0] - make_params(dtype)[0]).abs().max() > 1e-2


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("cls", [Momentum, Nesterov])
def test_matches_torch_sgd_with_a_scheduler(cls, options):
    if cls is Nesterov and options.get("dampening", 0) != 0:
        with pytest.raises(ValueError, match="dampening"):
            cls(make_params(), lr=0.1, **options)
        return
    compare_with_torch(cls, options, torch.float64)


@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.01, "maximize": True}])
@pytest.mark.parametrize("cls", [Momentum, Nesterov])
def test_matches_torch_sgd_in_float32(cls, options):
    compare_with_torch(cls, options, torch.float32)


def test_first_step_is_undamped_like_torch():
    (p,) = [torch.ones(3, requires_grad=True)]
    opt = Momentum([p], lr=1.0, momentum=0.9, dampening=0.5)
    p.grad = torch.full((3,), 2.0)
    opt.step()
    # b = g on the first step (no 1 - dampening factor): theta = 1 - 2
    assert torch.equal(p.detach(), torch.full((3,), -1.0))
    p.grad = torch.full((3,), 2.0)
    opt.step()
    # b = 0.9 * 2 + 0.5 * 2 = 2.8
    torch.testing.assert_close(p.detach(), torch.full((3,), -3.8))


def test_zero_momentum_is_plain_sgd_without_state():
    ours, ref = make_params(), make_params()
    opt = Momentum(ours, lr=0.05, momentum=0.0, weight_decay=0.01)
    run(opt, ours, 50)
    run(torch.optim.SGD(ref, lr=0.05, weight_decay=0.01), ref, 50)
    assert_same(ours, ref, torch.float64)
    assert all(len(opt.state[p]) == 0 for p in ours)


@pytest.mark.parametrize("cls", [Momentum, Nesterov])
def test_momentum_changed_between_steps_like_torch(cls):
    """A momentum schedule sets group['momentum'] before each step."""
    ours, ref = make_params(), make_params()
    opt = cls(ours, lr=0.02, momentum=0.5)
    torch_opt = torch.optim.SGD(ref, lr=0.02, momentum=0.5, nesterov=cls is Nesterov)
    for step in range(120):
        mu = sutskever_schedule(step, mu_max=0.95, every=10)
        for o, params in ((opt, ours), (torch_opt, ref)):
            o.param_groups[0]["momentum"] = mu
            o.zero_grad()
            loss_of(params, step).backward()
            o.step()
    assert_same(ours, ref, torch.float64)


def test_two_instances_and_parameter_groups_are_independent():
    a, b = make_params(seed=1), make_params(seed=2)
    a_ref, b_ref = make_params(seed=1), make_params(seed=2)
    opt_a = Nesterov(a, lr=0.02, momentum=0.9)
    opt_b = Momentum([{"params": b[:2], "lr": 0.05}, {"params": b[2:], "momentum": 0.5}], lr=0.01)
    ref_a = torch.optim.SGD(a_ref, lr=0.02, momentum=0.9, nesterov=True)
    ref_b = torch.optim.SGD(
        [{"params": b_ref[:2], "lr": 0.05}, {"params": b_ref[2:], "momentum": 0.5}],
        lr=0.01,
        momentum=0.9,
    )
    for step in range(100):
        for opt, params in ((opt_a, a), (opt_b, b), (ref_a, a_ref), (ref_b, b_ref)):
            opt.zero_grad()
            loss_of(params, step).backward()
            opt.step()
    assert_same(a, a_ref, torch.float64)
    assert_same(b, b_ref, torch.float64)
    # a fresh optimiser on the same parameters starts with an empty state
    assert len(Nesterov(a, lr=0.02).state) == 0


@pytest.mark.parametrize("cls", [Momentum, Nesterov])
def test_state_dict_round_trip(cls):
    ours, ref = make_params(), make_params()
    opt = cls(ours, lr=0.03, momentum=0.9, weight_decay=1e-3)
    torch_opt = torch.optim.SGD(
        ref, lr=0.03, momentum=0.9, weight_decay=1e-3, nesterov=cls is Nesterov
    )
    run(opt, ours, 100)
    saved = copy.deepcopy(opt.state_dict())
    run(opt, ours, 7, start=100)  # steps that the restored optimiser must forget
    # restore: parameters back to step 100 by replaying, a new optimiser loads the saved state
    restored = make_params()
    replay = cls(restored, lr=0.03, momentum=0.9, weight_decay=1e-3)
    run(replay, restored, 100)
    fresh = cls(restored, lr=0.5, momentum=0.1, weight_decay=0.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.03 and fresh.param_groups[0]["momentum"] == 0.9
    run(fresh, restored, 100, start=100)
    run(torch_opt, ref, 200)
    assert_same(restored, ref, torch.float64)


def test_closure_returns_the_loss():
    params = make_params()
    opt = Nesterov(params, lr=0.01, momentum=0.9)

    seen = []

    def closure():
        opt.zero_grad()
        loss = loss_of(params, 0)
        loss.backward()
        seen.append(loss)
        return loss

    before = params[0].detach().clone()
    assert opt.step(closure) is seen[0]
    assert not torch.equal(params[0], before)


def test_mixed_dtypes_in_one_group_with_foreach():
    ours = [
        torch.randn(3, dtype=torch.float32, requires_grad=True),
        torch.randn(4, dtype=torch.float64, requires_grad=True),
    ]
    ref = [p.detach().clone().requires_grad_() for p in ours]
    opt = Nesterov(ours, lr=0.1, momentum=0.9, foreach=True)
    torch_opt = torch.optim.SGD(ref, lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(20):
        for o, (x, y) in ((opt, ours), (torch_opt, ref)):
            o.zero_grad()
            ((x**2).sum() + (y**3).sum()).backward()
            o.step()
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q)


def test_sparse_gradients_are_rejected():
    emb = torch.nn.Embedding(5, 2, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(ValueError, match="sparse"):
        Momentum(emb.parameters(), lr=0.1).step()


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (Momentum, {"lr": -1.0}, "lr"),
        (Momentum, {"lr": float("nan")}, "lr"),
        (Momentum, {"lr": "fast"}, "lr"),
        (Momentum, {"momentum": -0.1}, "momentum"),
        (Momentum, {"momentum": 1.0}, "momentum"),
        (Momentum, {"dampening": -0.5}, "dampening"),
        (Momentum, {"dampening": 1.5}, "dampening"),
        (Momentum, {"weight_decay": -1e-4}, "weight_decay"),
        (Nesterov, {"momentum": 0.0}, "momentum"),
        (Nesterov, {"momentum": 0.9, "dampening": 0.1}, "dampening"),
        (Nesterov, {"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_invalid_options_name_the_argument_and_range(cls, kwargs, name):
    with pytest.raises(ValueError, match=name) as info:
        cls([torch.zeros(2, requires_grad=True)], **kwargs)
    assert "expected" in str(info.value) or "requires" in str(info.value)


def test_invalid_option_in_a_parameter_group():
    with pytest.raises(ValueError, match=r"lr.*\[0, inf\)"):
        Momentum([{"params": [torch.zeros(2, requires_grad=True)], "lr": -0.1}], lr=0.1)
    opt = Nesterov([torch.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="dampening"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "dampening": 0.2})


# --- Sutskever et al.'s formulation -----------------------------------------------------

CURV = torch.tensor([1.0, 30.0, 100.0], dtype=torch.float64)


def quadratic(theta):
    return 0.5 * (CURV * theta**2).sum() + theta.prod()


def pytorch_path(nesterov, lrs, mu):
    theta = torch.tensor([-2.0, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lrs[0], momentum=mu, nesterov=nesterov)
    path = [theta.detach().clone()]
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        quadratic(theta).backward()
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sutskever_equals_pytorch_under_a_constant_learning_rate(nesterov):
    lrs, mu = [0.004] * 200, 0.9
    thetas, vs = sutskever_momentum(
        torch.func.grad(quadratic),
        torch.tensor([-2.0, 1.0, 0.5], dtype=torch.float64),
        lrs,
        mu,
        nesterov=nesterov,
    )
    assert thetas.shape == (201, 3) and vs.shape == (201, 3)
    theirs = thetas + mu * vs if nesterov else thetas
    torch.testing.assert_close(pytorch_path(nesterov, lrs, mu), theirs, rtol=0, atol=1e-12)
    # Nesterov's parameter is the look-ahead point, not theta itself
    if nesterov:
        assert (pytorch_path(nesterov, lrs, mu) - thetas).abs().max() > 1e-4


@pytest.mark.parametrize("nesterov", [False, True])
def test_sutskever_differs_from_pytorch_after_a_learning_rate_change(nesterov):
    lrs, mu = [0.004] * 25 + [0.0004] * 75, 0.9
    thetas, vs = sutskever_momentum(
        torch.func.grad(quadratic),
        torch.tensor([-2.0, 1.0, 0.5], dtype=torch.float64),
        lrs,
        mu,
        nesterov=nesterov,
    )
    theirs = thetas + mu * vs if nesterov else thetas
    ours = pytorch_path(nesterov, lrs, mu)
    assert (ours[:26] - theirs[:26]).abs().max() < 1e-12  # identical before the change
    assert (ours - theirs).abs().max() > 1e-3


def test_sutskever_momentum_checks_arguments_and_leaves_theta_alone():
    theta = torch.ones(2)
    with pytest.raises(ValueError, match="momentum"):
        sutskever_momentum(lambda t: t, theta, [0.1], 1.0)
    with pytest.raises(ValueError, match="lr"):
        sutskever_momentum(lambda t: t, theta, [0.1, -0.1], 0.5)
    sutskever_momentum(lambda t: t, theta, [0.1] * 3, 0.5)
    assert torch.equal(theta, torch.ones(2))


def test_sutskever_schedule():
    assert sutskever_schedule(0) == 0.5
    assert sutskever_schedule(249) == 0.5
    assert sutskever_schedule(250) == 0.75
    assert sutskever_schedule(500) == pytest.approx(1 - 1 / 6)
    assert sutskever_schedule(750) == pytest.approx(0.875)
    assert sutskever_schedule(10**6, mu_max=0.99) == 0.99
    assert sutskever_schedule(20, every=10) == pytest.approx(1 - 1 / 6)
    # the closed form of the paper's formula
    for t in range(0, 5000, 37):
        assert sutskever_schedule(t, mu_max=0.999) == pytest.approx(
            min(1 - 1 / (2 * (t // 250 + 1)), 0.999)
        )
    assert all(sutskever_schedule(t) <= sutskever_schedule(t + 1) for t in range(0, 3000, 7))
    for kwargs, name in (
        ({"t": -1}, "t"),
        ({"t": 1, "mu_max": 1.0}, "mu_max"),
        ({"t": 1, "every": 0}, "every"),
    ):
        with pytest.raises(ValueError, match=name):
            sutskever_schedule(**kwargs)
    assert math.isfinite(sutskever_schedule(10**9))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("cls", [Momentum, Nesterov])
def test_matches_torch_on_cuda(cls):
    ours, ref = make_params(device="cuda"), make_params(device="cuda")
    opt = cls(ours, lr=0.03, momentum=0.9, weight_decay=0.01)
    torch_opt = torch.optim.SGD(
        ref, lr=0.03, momentum=0.9, weight_decay=0.01, nesterov=cls is Nesterov
    )
    run(opt, ours, 200)
    run(torch_opt, ref, 200)
    assert_same(ours, ref, torch.float64)


@pytest.mark.parametrize("cls", [Momentum, Nesterov])
@pytest.mark.parametrize("foreach", [False, True])
def test_gradients_are_left_untouched(cls, foreach):
    # torch.optim.SGD's foreach Nesterov adds the momentum into p.grad in place; ours never
    # writes to p.grad, so a gradient reused for several steps stays what autograd computed
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(50, generator=gen).requires_grad_()
    g = torch.randn(50, generator=gen)
    p.grad = g.clone()
    opt = cls([p], lr=1e-3, momentum=0.9, foreach=foreach)
    before = p.detach().clone()
    for _ in range(5):
        opt.step()
    assert torch.equal(p.grad, g)
    assert not torch.equal(p.detach(), before)
