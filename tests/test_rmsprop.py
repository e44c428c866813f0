"""The from-scratch RMSprop against torch.optim.RMSprop, every option."""

from __future__ import annotations

import copy
import itertools
import math

import pytest
import torch

from nutshell.training.rmsprop import RMSprop, hinton_rmsprop

# every combination of the options that change the update
OPTIONS = [
    {"centered": c, "momentum": m, "weight_decay": w, "maximize": x}
    for c, m, w, x in itertools.product([False, True], [0.0, 0.9], [0.0, 0.01], [False, True])
]


def make_params(dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 2), (5,), (6,)]
    return [torch.randn(s, generator=g, dtype=dtype).to(device).requires_grad_() for s in shapes]


def loss_of(params, step):
    """c gets a gradient every third step only (None otherwise), d a zero gradient, e none."""
    a, b, c, d, _ = params
    loss = (a.sin() * a).sum() + torch.tanh(a @ b).pow(2).sum() + (b * b).sum() * 0.1
    if step % 3 == 0:
        loss = loss + (c.cos() * c).sum()
    return loss + 0.0 * d.sum()


def run(opt, params, steps, start=0, scheduler=None):
    for step in range(start, start + steps):
        opt.zero_grad(set_to_none=True)
        loss_of(params, step).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def tol(dtype):
    if dtype == torch.float64:
        return {"rtol": 1e-12, "atol": 1e-12}
    return {"rtol": 1e-5, "atol": 1e-6}


def assert_same(ours, ref, dtype):
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q, **tol(dtype))


def compare_with_torch(options, dtype, foreach_modes=(False, True), steps=150):
    settings = {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, **options}
    ref = make_params(dtype)
    torch_opt = torch.optim.RMSprop(ref, **settings)
    torch_sched = torch.optim.lr_scheduler.MultiStepLR(torch_opt, [50, 100], gamma=0.3)
    run(torch_opt, ref, steps, scheduler=torch_sched)
    for foreach in foreach_modes:
        ours = make_params(dtype)
        opt = RMSprop(ours, foreach=foreach, **settings)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [50, 100], gamma=0.3)
        run(opt, ours, steps, scheduler=sched)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.01 * 0.09)
        assert_same(ours, ref, dtype)
        for p, q in zip(ours, ref):
            for key in ("square_avg", "grad_avg", "momentum_buffer"):
                assert (key in opt.state[p]) == (key in torch_opt.state[q]), key
                if key in opt.state[p]:
                    torch.testing.assert_close(
                        opt.state[p][key], torch_opt.state[q][key], **tol(dtype)
                    )
        assert len(opt.state[ours[4]]) == 0  # never had a gradient: no state
        assert (ours[0] - make_params(dtype)[0]).abs().max() > 1e-2  # it moved


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())
)
def test_matches_torch_rmsprop_with_a_scheduler(options):
    compare_with_torch(options, torch.float64)


@pytest.mark.parametrize(
    "options", [{}, {"centered": True, "momentum": 0.5, "weight_decay": 0.01, "maximize": True}]
)
def test_matches_torch_rmsprop_in_float32(options):
    compare_with_torch(options, torch.float32)


def test_defaults_match_torch():
    ours, ref = make_params(), make_params()
    opt = RMSprop(ours)
    torch_opt = torch.optim.RMSprop(ref)
    for key in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"):
        assert opt.defaults[key] == torch_opt.defaults[key], key
    run(opt, ours, 60)
    run(torch_opt, ref, 60)
    assert_same(ours, ref, torch.float64)


def test_first_step_has_size_lr_over_sqrt_one_minus_alpha():
    theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = RMSprop([theta], lr=0.01, alpha=0.99, eps=0.0)
    theta.grad = torch.tensor([1e-6, -3.0, 250.0], dtype=torch.float64)
    opt.step()
    # v = 0.01 g^2, so g / sqrt(v) = sign(g) / 0.1 whatever the size of g
    expected = -0.01 / 0.1 * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(theta.detach(), expected)


def test_options_changed_between_steps_like_torch():
    """A schedule on alpha and momentum, set in the group before each step."""
    ours, ref = make_params(), make_params()
    opt = RMSprop(ours, lr=0.01, momentum=0.5)
    torch_opt = torch.optim.RMSprop(ref, lr=0.01, momentum=0.5)
    for step in range(80):
        for o, params in ((opt, ours), (torch_opt, ref)):
            o.param_groups[0]["alpha"] = 0.9 if step < 40 else 0.99
            o.param_groups[0]["momentum"] = 0.5 if step < 30 else 0.8
            o.zero_grad()
            loss_of(params, step).backward()
            o.step()
    assert_same(ours, ref, torch.float64)


def test_two_instances_and_parameter_groups_are_independent():
    a, b = make_params(seed=1), make_params(seed=2)
    a_ref, b_ref = make_params(seed=1), make_params(seed=2)

    def groups(ps):
        return [
            {"params": ps[:2], "lr": 0.02, "centered": True},
            {"params": ps[2:], "alpha": 0.8, "momentum": 0.3},
        ]

    opt_a, ref_a = RMSprop(a, lr=0.005), torch.optim.RMSprop(a_ref, lr=0.005)
    opt_b, ref_b = RMSprop(groups(b), lr=0.01), torch.optim.RMSprop(groups(b_ref), lr=0.01)
    for step in range(100):
        for opt, params in ((opt_a, a), (opt_b, b), (ref_a, a_ref), (ref_b, b_ref)):
            opt.zero_grad()
            loss_of(params, step).backward()
            opt.step()
    assert_same(a, a_ref, torch.float64)
    assert_same(b, b_ref, torch.float64)
    assert len(RMSprop(a).state) == 0


def test_state_dict_round_trip():
    settings = {"lr": 0.01, "alpha": 0.95, "centered": True, "momentum": 0.5, "weight_decay": 1e-3}
    ours, ref = make_params(), make_params()
    opt = RMSprop(ours, **settings)
    run(opt, ours, 100)
    saved = copy.deepcopy(opt.state_dict())
    run(opt, ours, 7, start=100)  # steps the restored optimiser must not know about
    restored = make_params()
    run(RMSprop(restored, **settings), restored, 100)
    fresh = RMSprop(restored, lr=0.5, alpha=0.5)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["alpha"] == 0.95 and fresh.param_groups[0]["centered"]
    run(fresh, restored, 100, start=100)
    torch_opt = torch.optim.RMSprop(ref, **settings)
    run(torch_opt, ref, 200)
    assert_same(restored, ref, torch.float64)


def test_closure_returns_the_loss():
    params = make_params()
    opt = RMSprop(params)
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
    opt = RMSprop(ours, lr=0.01, centered=True, momentum=0.5, foreach=True)
    torch_opt = torch.optim.RMSprop(ref, lr=0.01, centered=True, momentum=0.5)
    for _ in range(20):
        for o, (x, y) in ((opt, ours), (torch_opt, ref)):
            o.zero_grad()
            ((x**2).sum() + (y**3).sum()).backward()
            o.step()
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q)


def test_hinton_rmsprop_is_the_lecture_rule():
    ours, ref = make_params(), make_params()
    opt = hinton_rmsprop(ours, lr=0.001)
    group = opt.param_groups[0]
    assert (group["alpha"], group["eps"], group["centered"], group["momentum"]) == (
        0.9,
        0.0,
        False,
        0.0,
    )
    torch_opt = torch.optim.RMSprop(ref, lr=0.001, alpha=0.9, eps=0.0)
    # d has a zero gradient from the first step: 0 / 0 in both; compare a, b, c only
    for step in range(50):
        for o, params in ((opt, ours), (torch_opt, ref)):
            o.zero_grad()
            loss_of(params, step).backward()
            o.step()
    assert_same(ours[:3], ref[:3], torch.float64)
    # the lecture's rule written out: v <- 0.9 v + 0.1 g^2, theta <- theta - lr g / sqrt(v)
    theta = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    opt = hinton_rmsprop([theta], lr=0.1)
    manual, v = 2.0, 0.0
    for _ in range(10):
        opt.zero_grad()
        (theta**2).sum().backward()
        g = 2 * manual
        v = 0.9 * v + 0.1 * g * g
        manual -= 0.1 * g / math.sqrt(v)
        opt.step()
        assert theta.item() == pytest.approx(manual, rel=1e-12)


def test_no_eps_turns_a_zero_gradient_into_nan_like_torch():
    for make in (lambda p: hinton_rmsprop(p), lambda p: torch.optim.RMSprop(p, alpha=0.9, eps=0)):
        w = torch.tensor([1.0, 0.0], requires_grad=True)
        opt = make([w])
        (w[0] ** 2).backward()
        opt.step()
        assert math.isnan(w[1].item()) and math.isfinite(w[0].item())


def test_sparse_gradients_are_rejected():
    emb = torch.nn.Embedding(5, 2, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(ValueError, match="sparse"):
        RMSprop(emb.parameters()).step()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": None}, "lr"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"eps": -1e-8}, "eps"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"momentum": -0.5}, "momentum"),
        ({"momentum": 1.0}, "momentum"),
    ],
)
def test_invalid_options_name_the_argument_and_range(kwargs, name):
    with pytest.raises(ValueError, match=rf"{name}.*expected a number in"):
        RMSprop([torch.zeros(2, requires_grad=True)], **kwargs)


def test_invalid_option_in_a_parameter_group():
    opt = RMSprop([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="alpha"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "alpha": 2.0})
    assert len(opt.param_groups) == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("options", [{}, {"centered": True, "momentum": 0.9, "weight_decay": 0.01}])
def test_matches_torch_on_cuda(options):
    ours, ref = make_params(device="cuda"), make_params(device="cuda")
    opt = RMSprop(ours, lr=0.01, **options)
    torch_opt = torch.optim.RMSprop(ref, lr=0.01, **options)
    run(opt, ours, 150)
    run(torch_opt, ref, 150)
    assert_same(ours, ref, torch.float64)
