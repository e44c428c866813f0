"""The from-scratch dropout against torch.nn.functional.dropout and torch.nn.Dropout."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell.training.dropout import Dropout, dropout, dropout_2012

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
RATES = [0.0, 1e-3, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1.0]


def _random_shape(gen: torch.Generator) -> tuple[int, ...]:
    ndim = int(torch.randint(1, 5, (1,), generator=gen))
    return tuple(int(s) for s in torch.randint(1, 9, (ndim,), generator=gen))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", RATES)
def test_bit_identical_to_f_dropout_on_random_shapes(dtype, p):
    gen = torch.Generator().manual_seed(int(p * 1000) + len(str(dtype)))
    for trial in range(5):
        x = torch.randn(_random_shape(gen), generator=gen).to(dtype)
        torch.manual_seed(trial)
        ref = F.dropout(x, p)
        torch.manual_seed(trial)
        ours = dropout(x, p)
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        assert torch.equal(ours, ref)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_second_call_differs_and_advances_the_rng_like_torch(p):
    x = torch.randn(40, 50, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.manual_seed(3)
    ref = [F.dropout(x, p) for _ in range(3)]
    ref_next = torch.rand(4)
    torch.manual_seed(3)
    ours = [dropout(x, p) for _ in range(3)]
    ours_next = torch.rand(4)
    for a, b in zip(ours, ref):
        assert torch.equal(a, b)
    # the global stream is left exactly where torch leaves it
    assert torch.equal(ours_next, ref_next)
    if 0.0 < p < 1.0:
        assert not torch.equal(ours[0], ours[1])


def test_generator_argument_matches_a_seeded_global_stream():
    x = torch.randn(100, 30)
    torch.manual_seed(11)
    ref = F.dropout(x, 0.4)
    ours = dropout(x, 0.4, generator=torch.Generator().manual_seed(11))
    assert torch.equal(ours, ref)
    # the generator's own state advances: a second call gives another mask
    gen = torch.Generator().manual_seed(11)
    assert not torch.equal(dropout(x, 0.4, generator=gen), dropout(x, 0.4, generator=gen))


@pytest.mark.parametrize("p", RATES)
def test_eval_mode_is_the_identity_and_draws_nothing(p):
    x = torch.randn(8, 9)
    torch.manual_seed(0)
    out = dropout(x, p, training=False)
    after = torch.rand(3)
    torch.manual_seed(0)
    ref = F.dropout(x, p, training=False)
    ref_after = torch.rand(3)
    assert out is x and torch.equal(out, ref)
    assert torch.equal(after, ref_after)


def test_p_one_gives_zeros_without_nan_and_p_zero_keeps_everything():
    x = torch.randn(50, 20, dtype=torch.float64)
    out = dropout(x, 1.0)
    assert torch.equal(out, torch.zeros_like(x)) and not out.isnan().any()
    assert dropout(x, 0.0) is x
    assert dropout(x, 0) is x  # an int p is accepted


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_matches_f_dropout(p, dtype):
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(16, 12, generator=gen, dtype=dtype)
    weight = torch.randn(16, 12, generator=gen, dtype=dtype)
    ours_x = x.clone().requires_grad_()
    ref_x = x.clone().requires_grad_()
    for inp, fn in ((ours_x, dropout), (ref_x, F.dropout)):
        torch.manual_seed(9)
        (fn(inp, p) * weight).sum().backward()
        torch.manual_seed(9)
        (fn(inp, p).sin() * weight).sum().backward()  # a second backward accumulates
    assert torch.equal(ours_x.grad, ref_x.grad)


def test_double_backward_through_dropout():
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    torch.manual_seed(2)
    assert torch.autograd.gradcheck(
        lambda t: dropout(t, 0.3, generator=torch.Generator().manual_seed(4)), (x,)
    )


def test_empty_input():
    x = torch.empty(0, 5)
    torch.manual_seed(0)
    ref = F.dropout(x, 0.5)
    ref_after = torch.rand(2)
    torch.manual_seed(0)
    ours = dropout(x, 0.5)
    assert ours.shape == ref.shape and torch.equal(torch.rand(2), ref_after)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_module_train_and_eval_match_nn_dropout(p):
    x = torch.randn(32, 10)
    ours, ref = Dropout(p), nn.Dropout(p)
    for mode in (True, False, True):
        ours.train(mode)
        ref.train(mode)
        torch.manual_seed(4)
        a = ours(x)
        torch.manual_seed(4)
        b = ref(x)
        assert torch.equal(a, b)
    ours.eval()
    assert ours(x) is x
    assert "p=" in repr(ours) and str(p) in repr(ours)


def test_module_inside_a_network_matches_torch():
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(7, 20), nn.ReLU(), nn.Dropout(0.5), nn.Linear(20, 3))
    ours = nn.Sequential(nn.Linear(7, 20), nn.ReLU(), Dropout(0.5), nn.Linear(20, 3))
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(25, 7)
    grads = []
    for net in (ours, ref):
        torch.manual_seed(1)
        net(x).pow(2).sum().backward()
        grads.append([p.grad for p in net.parameters()])
    for a, b in zip(*grads):
        assert torch.equal(a, b)


def test_inverted_and_2012_forms_agree_in_expectation():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(200, dtype=torch.float64, generator=gen) + 0.5
    p, n = 0.4, 20_000
    many = x.expand(n, -1)  # n independent masks in one call
    inverted = dropout(many, p, generator=gen).mean(0)
    original = dropout_2012(many, p, generator=gen).mean(0)
    # mean of n masks: standard error sqrt(p/(1-p)/n) x for inverted, sqrt(p(1-p)/n) x for 2012
    assert (inverted - dropout(x, p, training=False)).abs().max() < 5 * (
        p / (1 - p) / n
    ) ** 0.5 * x.max()
    assert (original - dropout_2012(x, p, training=False)).abs().max() < 5 * (
        p * (1 - p) / n
    ) ** 0.5 * x.max()
    # and the 2012 form trains with the same mask, unscaled: same zeros, ratio 1 - p
    torch.manual_seed(6)
    a = dropout(x, p)
    torch.manual_seed(6)
    b = dropout_2012(x, p)
    torch.testing.assert_close(b, a * (1 - p))


def test_2012_form_edge_cases():
    x = torch.randn(10, 3)
    assert torch.equal(dropout_2012(x, 1.0), torch.zeros_like(x))
    assert torch.equal(dropout_2012(x, 1.0, training=False), torch.zeros_like(x))
    assert dropout_2012(x, 0.0) is x
    assert torch.equal(dropout_2012(x, 0.0, training=False), x)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf"), "0.5", None, True])
@pytest.mark.parametrize("fn", [dropout, dropout_2012, lambda x, p: Dropout(p)(x)])
def test_invalid_p_raises_value_error_naming_p(fn, bad):
    with pytest.raises(ValueError, match=r"p: .*\[0, 1\]"):
        fn(torch.ones(3), bad)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_on_cuda_keeps_the_rate_and_expectation(p):
    x = torch.ones(1000, 1000, device="cuda")
    out = dropout(x, p)
    assert out.device.type == "cuda" and not out.isnan().any()
    kept = (out != 0).float().mean().item()
    assert abs(kept - (1 - p)) < 0.01
    if p < 1:
        assert abs(out.mean().item() - 1.0) < 0.01
    assert torch.equal(Dropout(p).eval()(x), x)
