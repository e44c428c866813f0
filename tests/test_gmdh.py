"""GMDH's least-squares unit against torch.linalg.lstsq and numpy; the growth rules."""

import itertools

import numpy as np
import pytest
import torch

from nutshell.data import generator
from nutshell.history.gmdh import (
    fit_unit,
    gmdh,
    linear_predict,
    linear_regression,
    polynomial_target,
    quadratic_features,
)


def random_inputs(n=50, batch=(), seed=0, dtype=torch.float64):
    g = generator(seed)
    u = torch.randn(*batch, n, generator=g, dtype=dtype)
    v = torch.randn(*batch, n, generator=g, dtype=dtype)
    y = torch.randn(n, generator=g, dtype=dtype)
    return u, v, y


@pytest.mark.parametrize("seed", range(3))
def test_fit_unit_matches_torch_lstsq_and_numpy(seed):
    u, v, y = random_inputs(40, seed=seed)
    a = quadratic_features(u, v)
    ours = fit_unit(u, v, y)
    ref_torch = torch.linalg.lstsq(a, y.unsqueeze(1)).solution.squeeze(1)
    ref_numpy = np.linalg.lstsq(a.numpy(), y.numpy(), rcond=None)[0]
    torch.testing.assert_close(ours, ref_torch, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours.numpy(), ref_numpy, rtol=1e-9, atol=1e-10)


def test_fit_unit_batched_equals_one_by_one():
    u, v, y = random_inputs(30, batch=(7,), seed=3)
    batched = fit_unit(u, v, y)
    for i in range(7):
        torch.testing.assert_close(batched[i], fit_unit(u[i], v[i], y), rtol=1e-12, atol=1e-12)


def test_fit_unit_recovers_an_exact_quadratic():
    u, v, _ = random_inputs(20, seed=4)
    a = torch.tensor([0.5, -1.0, 2.0, 0.25, -0.75, 1.5], dtype=torch.float64)
    y = quadratic_features(u, v) @ a
    torch.testing.assert_close(fit_unit(u, v, y), a, rtol=1e-9, atol=1e-9)


def test_fit_unit_float32_input_and_second_call():
    u, v, y = random_inputs(25, seed=5, dtype=torch.float32)
    first, second = fit_unit(u, v, y), fit_unit(u, v, y)
    assert first.dtype == torch.float64
    assert torch.equal(first, second)
    ref = np.linalg.lstsq(
        quadratic_features(u.double(), v.double()).numpy(), y.double().numpy(), rcond=None
    )[0]
    np.testing.assert_allclose(first.numpy(), ref, rtol=1e-8, atol=1e-9)


def test_fit_unit_same_input_twice_gives_least_squares_min_norm():
    # u == v makes A^T A singular; the answer is numpy's minimum-norm least-squares solution
    u, _, y = random_inputs(30, seed=6)
    ours = fit_unit(u, u, y)
    a = quadratic_features(u, u).numpy()
    ref = np.linalg.lstsq(a, y.numpy(), rcond=None)[0]
    np.testing.assert_allclose(a @ ours.numpy(), a @ ref, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-6, atol=1e-8)


def test_linear_regression_matches_lstsq():
    g = generator(7)
    x = torch.randn(60, 4, generator=g, dtype=torch.float64)
    y = torch.randn(60, generator=g, dtype=torch.float64)
    coef = linear_regression(x, y)
    a = torch.cat([torch.ones(60, 1, dtype=torch.float64), x], 1)
    torch.testing.assert_close(coef, torch.linalg.lstsq(a, y.unsqueeze(1)).solution.squeeze(1))
    torch.testing.assert_close(linear_predict(coef, x), a @ coef)


@pytest.fixture(scope="module")
def grown():
    tr, se = polynomial_target(400, seed=0), polynomial_target(200, seed=1)
    return tr, se, gmdh(*tr, *se, max_layers=6, width=8)


def test_layers_follow_the_selection_rule(grown):
    (x_tr, y_tr), (x_se, y_se), net = grown
    assert 1 <= net.depth <= 6
    best = net.constant_error
    h_tr, h_se = x_tr, x_se
    for layer in net.layers:
        k = h_tr.shape[1]
        assert len(layer.candidate_errors) == k * (k + 1) // 2
        assert layer.width <= 8
        # kept units are the best candidates, sorted, and each improves by tol = 3%
        assert torch.all(layer.select_error[:-1] <= layer.select_error[1:])
        assert torch.all(layer.select_error < 0.97 * best)
        kept = layer.select_error
        torch.testing.assert_close(kept, layer.candidate_errors.sort().values[: layer.width])
        # the recorded selection errors are those of the units applied to the selection set
        out_se = layer.forward(h_se)
        torch.testing.assert_close(((out_se - y_se[:, None]) ** 2).mean(0), kept)
        # each unit's coefficients are the least-squares fit on the training set
        for i, (p, q) in enumerate(layer.pairs.tolist()):
            torch.testing.assert_close(layer.coef[i], fit_unit(h_tr[:, p], h_tr[:, q], y_tr))
        best = kept[0].item()
        h_tr, h_se = layer.forward(h_tr), out_se
    if net.depth < 6:
        assert net.rejected_error >= 0.97 * best
        assert "did not improve" in net.stop_reason


def test_predict_is_the_best_last_unit(grown):
    _, (x_se, y_se), net = grown
    pred = net.predict(x_se)
    mse = ((pred - y_se) ** 2).mean().item()
    assert mse == pytest.approx(net.select_errors[-1], rel=1e-10)
    assert set(net.used_inputs()) <= set(range(10))
    assert net.used_units()[-1] == [0]


def test_max_layers_limits_depth():
    tr, se = polynomial_target(300, seed=3), polynomial_target(150, seed=4)
    net = gmdh(*tr, *se, max_layers=1)
    assert net.depth == 1 and "max_layers" in net.stop_reason


def test_pure_noise_grows_nothing():
    g = generator(8)
    x = torch.randn(300, 4, generator=g, dtype=torch.float64)
    y = torch.randn(300, generator=g, dtype=torch.float64)
    net = gmdh(x[:200], y[:200], x[200:], y[200:], tol=0.05)
    assert net.depth == 0
    assert torch.all(net.predict(x) == y[:200].mean())


def test_pairs_cover_every_combination(grown):
    _, _, net = grown
    first = net.layers[0]
    all_pairs = list(itertools.combinations_with_replacement(range(10), 2))
    assert len(first.candidate_errors) == len(all_pairs)
    assert all(tuple(p) in all_pairs for p in first.pairs.tolist())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fit_unit(torch.zeros(10), torch.zeros(9), torch.zeros(10)), "same shape"),
        (lambda: fit_unit(torch.zeros(5), torch.zeros(5), torch.zeros(5)), "at least 6"),
        (lambda: fit_unit(torch.zeros(10), torch.zeros(10), torch.zeros(8)), "y must"),
        (
            lambda: gmdh(
                torch.zeros(10, 3), torch.zeros(10), torch.zeros(5, 3), torch.zeros(5), max_layers=0
            ),
            "max_layers",
        ),
        (
            lambda: gmdh(
                torch.zeros(10, 3), torch.zeros(10), torch.zeros(5, 3), torch.zeros(5), width=1
            ),
            "width",
        ),
        (
            lambda: gmdh(
                torch.zeros(10, 3), torch.zeros(10), torch.zeros(5, 3), torch.zeros(5), tol=1.0
            ),
            "tol",
        ),
        (
            lambda: gmdh(torch.zeros(10, 1), torch.zeros(10), torch.zeros(5, 1), torch.zeros(5)),
            "x_train",
        ),
        (
            lambda: gmdh(torch.zeros(10, 3), torch.zeros(9), torch.zeros(5, 3), torch.zeros(5)),
            "y_train",
        ),
        (
            lambda: gmdh(torch.zeros(10, 3), torch.zeros(10), torch.zeros(5, 2), torch.zeros(5)),
            "x_select",
        ),
        (
            lambda: gmdh(torch.zeros(4, 3), torch.zeros(4), torch.zeros(5, 3), torch.zeros(5)),
            "at least 6",
        ),
        (lambda: polynomial_target(0), "n must"),
        (lambda: polynomial_target(5, noise=-1.0), "noise"),
    ],
)
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    tr, se = polynomial_target(300, seed=5), polynomial_target(150, seed=6)
    cpu = gmdh(*tr, *se)
    gpu = gmdh(
        *polynomial_target(300, seed=5, device="cuda"),
        *polynomial_target(150, seed=6, device="cuda"),
    )
    assert gpu.widths == cpu.widths
    x = polynomial_target(100, seed=7)[0]
    torch.testing.assert_close(gpu.predict(x.cuda()).cpu(), cpu.predict(x), rtol=1e-7, atol=1e-8)
