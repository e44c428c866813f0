"""The from-scratch SGD against torch.optim.SGD, and the page's helpers."""

from __future__ import annotations

import pytest
import torch

from nutshell.training.sgd import SGD, descend, minibatch_error, per_example_gradients, saddle

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _loss(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    out = x
    for w in params:
        out = torch.tanh(out @ w)
    return out.pow(2).sum() + sum(w.sin().sum() for w in params)


def _pair(shapes, dtype, device, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ours = [torch.randn(s, generator=gen, dtype=dtype).to(device).requires_grad_() for s in shapes]
    ref = [p.detach().clone().requires_grad_() for p in ours]
    return ours, ref


def _run(opt_ours, opt_ref, ours, ref, x, steps, skip=None):
    for _ in range(steps):
        for params, opt in ((ours, opt_ours), (ref, opt_ref)):
            opt.zero_grad()
            _loss(params, x).backward()
            if skip is not None:
                params[skip].grad = None  # a parameter with no gradient this step
            opt.step()


@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0.05},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.02, "maximize": True},
        {"lr": 0.03, "weight_decay": 0.05, "maximize": True},
        {"lr": 0.0},
    ],
)
def test_matches_torch_over_many_steps(device, dtype, options, foreach):
    ours, ref = _pair([(7, 5), (5, 5), (5, 3)], dtype, device)
    x = torch.randn(11, 7, generator=torch.Generator().manual_seed(1), dtype=dtype).to(device)
    opt_ours = SGD(ours, **options, foreach=foreach)
    opt_ref = torch.optim.SGD(ref, **options, foreach=foreach)
    _run(opt_ours, opt_ref, ours, ref, x, steps=200)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    if options["lr"] == 0.0:
        start, _ = _pair([(7, 5), (5, 5), (5, 3)], dtype, device)
        for a, b in zip(ours, start):
            assert torch.equal(a, b)


@pytest.mark.parametrize("seed", range(5))
def test_random_shapes_and_options(seed):
    gen = torch.Generator().manual_seed(seed)
    shapes = [
        tuple(
            torch.randint(
                1, 6, (int(torch.randint(1, 4, (1,), generator=gen)),), generator=gen
            ).tolist()
        )
        for _ in range(4)
    ]
    lr = float(torch.rand(1, generator=gen)) * 0.1
    wd = float(torch.rand(1, generator=gen)) * 0.1
    ours, ref = _pair(shapes, torch.float64, "cpu", seed)
    opt_o, opt_r = SGD(ours, lr=lr, weight_decay=wd), torch.optim.SGD(ref, lr=lr, weight_decay=wd)
    for _ in range(50):
        for params, opt in ((ours, opt_o), (ref, opt_r)):
            opt.zero_grad()
            sum((p**3).sum() * 0.01 + p.cos().sum() for p in params).backward()
            opt.step()
    for a, b in zip(ours, ref):
        assert torch.equal(a, b)


def test_missing_and_zero_gradients():
    ours, ref = _pair([(4, 4), (4, 4), (4, 4)], torch.float64, "cpu")
    x = torch.randn(3, 4, dtype=torch.float64)
    opt_o, opt_r = (
        SGD(ours, lr=0.1, weight_decay=0.2),
        torch.optim.SGD(ref, lr=0.1, weight_decay=0.2),
    )
    _run(opt_o, opt_r, ours, ref, x, steps=20, skip=1)
    for a, b in zip(ours, ref):
        assert torch.equal(a, b)
    # a zero gradient with weight decay still shrinks the weights, exactly as torch does
    for params, opt in ((ours, opt_o), (ref, opt_r)):
        for p in params:
            p.grad = torch.zeros_like(p)
        opt.step()
    for a, b in zip(ours, ref):
        assert torch.equal(a, b)
    # all gradients missing: nothing moves
    before = [p.detach().clone() for p in ours]
    opt_o.zero_grad()
    opt_o.step()
    assert all(torch.equal(a, b) for a, b in zip(ours, before))


def test_param_groups_and_two_optimizers_on_the_same_parameters():
    ours, ref = _pair([(3, 3), (3, 3)], torch.float64, "cpu")
    groups_o = [{"params": [ours[0]], "lr": 0.1}, {"params": [ours[1]], "weight_decay": 0.3}]
    groups_r = [{"params": [ref[0]], "lr": 0.1}, {"params": [ref[1]], "weight_decay": 0.3}]
    opt_o, opt_r = SGD(groups_o, lr=0.01), torch.optim.SGD(groups_r, lr=0.01)
    # a second optimizer over the same parameters, stepping after the first one
    opt_o2, opt_r2 = SGD(ours, lr=0.05, maximize=True), torch.optim.SGD(ref, lr=0.05, maximize=True)
    x = torch.randn(5, 3, dtype=torch.float64)
    for _ in range(30):
        for params, opts in ((ours, (opt_o, opt_o2)), (ref, (opt_r, opt_r2))):
            for opt in opts:
                opts[0].zero_grad()
                _loss(params, x).backward()
                opt.step()
    for a, b in zip(ours, ref):
        assert torch.equal(a, b)


def test_closure_returns_the_loss_and_state_dict_round_trips():
    w = torch.ones(3, requires_grad=True)
    opt = SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 3.0
    assert torch.equal(w.detach(), torch.zeros(3))
    state = opt.state_dict()
    other = SGD([torch.ones(3, requires_grad=True)], lr=0.1)
    other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.5


def test_works_with_a_scheduler():
    ours, ref = _pair([(4, 4)], torch.float64, "cpu")
    opt_o, opt_r = SGD(ours, lr=0.1), torch.optim.SGD(ref, lr=0.1)
    sch_o = torch.optim.lr_scheduler.StepLR(opt_o, step_size=5, gamma=0.5)
    sch_r = torch.optim.lr_scheduler.StepLR(opt_r, step_size=5, gamma=0.5)
    x = torch.randn(2, 4, dtype=torch.float64)
    for _ in range(20):
        _run(opt_o, opt_r, ours, ref, x, steps=1)
        sch_o.step()
        sch_r.step()
    assert torch.equal(ours[0], ref[0])
    assert opt_o.param_groups[0]["lr"] == opt_r.param_groups[0]["lr"] == 0.1 * 0.5**4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -0.1}, r"Invalid lr: -0.1 \(expected a number in \[0, inf\)\)"),
        ({"lr": float("nan")}, "Invalid lr: nan"),
        ({"lr": "0.1"}, "Invalid lr: '0.1'"),
        ({"lr": 0.1, "weight_decay": -1.0}, "Invalid weight_decay: -1.0"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD([torch.zeros(2, requires_grad=True)], **kwargs)


def test_bad_param_groups():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid lr: -2"):
        SGD([{"params": [p], "lr": -2}], lr=0.1)
    with pytest.raises(ValueError, match="Invalid weight_decay: -0.5"):
        SGD([{"params": [p], "weight_decay": -0.5}], lr=0.1)
    with pytest.raises(ValueError, match="'params' key"):
        SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    q = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [q]}, {"params": [q]}], lr=0.1)


def test_per_example_gradients_match_autograd():
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(6, generator=gen, dtype=torch.float64)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(5, generator=gen, dtype=torch.float64)

    def loss(t, xi, yi):
        return (torch.tanh(xi @ t[:3]) * t[3:].sum() - yi) ** 2

    grads = per_example_gradients(loss, theta, x, y)
    for i in range(5):
        t = theta.clone().requires_grad_()
        loss(t, x[i], y[i]).backward()
        torch.testing.assert_close(grads[i], t.grad)


def test_minibatch_error_is_exact_for_full_coverage_and_validates():
    grads = torch.randn(8, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    # the expected squared error of a mean of b draws with replacement is tr(Sigma) / b
    sigma = ((grads - grads.mean(0)) ** 2).sum(1).mean().item()
    err = minibatch_error(grads, 4, draws=200_000, gen=torch.Generator().manual_seed(1))
    assert err == pytest.approx(sigma / 4, rel=0.02)
    with pytest.raises(ValueError, match="batch"):
        minibatch_error(grads, 0, draws=10, gen=torch.Generator())


def test_saddle_and_descend():
    assert saddle(torch.tensor([0.0, 0.0])).item() == 0.0
    assert saddle(torch.tensor([0.0, 1.0])).item() == pytest.approx(-0.25)
    path = descend((1.0, 0.5), steps=200)
    assert path.shape == (201, 2)
    torch.testing.assert_close(
        path[-1], torch.tensor([0.0, 1.0], dtype=torch.float64), atol=1e-6, rtol=0
    )
    with pytest.raises(ValueError, match="steps"):
        descend((1.0, 0.5), steps=0)
    with pytest.raises(ValueError, match="noise"):
        descend((1.0, 0.5), steps=5, noise=-1.0)
