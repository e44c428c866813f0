"""Tests for nutshell.history.gpu_era: deformations, the committee, throughput."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell.data import generator
from nutshell.history.gpu_era import (
    Deform,
    committee,
    deform,
    error_rate,
    gaussian_matrix,
    mlp,
    training_throughput,
)

ZERO = dict(alpha=0.0, rotate=0.0, scale=0.0, shear=0.0)


def _images(n=5, c=1, h=12, w=10, seed=0, dtype=torch.float32):
    return torch.rand(n, c, h, w, generator=generator(seed), dtype=dtype)


# --- the smoothing matrix ---------------------------------------------------------------------


def test_gaussian_matrix_is_the_zero_padded_gaussian_convolution():
    n, sigma = 15, 2.0
    g = gaussian_matrix(n, sigma)
    u = torch.randn(n, generator=generator(1), dtype=torch.float64)
    radius = n - 1
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    conv = F.conv1d(u.view(1, 1, n), kernel.view(1, 1, -1), padding=radius).view(n)
    assert torch.allclose(g @ u, conv, atol=1e-12)
    assert torch.allclose(g, g.T)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_matrix(5, 0.0)


# --- deform -----------------------------------------------------------------------------------


def test_deform_keeps_shape_dtype_and_device():
    for dtype in (torch.float32, torch.float64):
        x = _images(n=3, c=2, h=9, w=11, dtype=dtype)
        y = deform(x, generator=generator(0))
        assert y.shape == x.shape and y.dtype == dtype and y.device == x.device
        assert torch.isfinite(y).all()


def test_deform_is_deterministic_with_a_generator():
    x = _images()
    a = deform(x, generator=generator(7))
    b = deform(x, generator=generator(7))
    c = deform(x, generator=generator(8))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    g = generator(7)
    first, second = deform(x, generator=g), deform(x, generator=g)
    assert torch.equal(first, a) and not torch.allclose(first, second)  # the generator advances


def test_deform_with_zero_strength_is_the_identity():
    for dtype in (torch.float32, torch.float64):
        x = _images(dtype=dtype)
        assert torch.allclose(deform(x, **ZERO, generator=generator(0)), x, atol=1e-5)
    # a tiny elastic field moves pixels by a tiny amount: continuous in the strength
    x = _images(dtype=torch.float64)
    small = deform(x, alpha=1e-4, rotate=0.0, scale=0.0, shear=0.0, generator=generator(0))
    assert (small - x).abs().max() < 1e-3


def test_affine_deformations_keep_the_centre_pixel():
    # without the elastic field, q = c + A (p - c): the centre maps to itself
    x = _images(n=6, h=9, w=9, dtype=torch.float64)
    for kwargs in ({"rotate": 30.0}, {"scale": 0.3}, {"shear": 0.4}):
        strengths = {**ZERO, **kwargs}
        y = deform(x, **strengths, generator=generator(2))
        assert not torch.allclose(y, x)
        assert torch.allclose(y[:, :, 4, 4], x[:, :, 4, 4], atol=1e-12)


def test_pure_elastic_field_with_huge_sigma_is_a_uniform_shift():
    # a very smooth field moves every pixel by (almost) the same vector
    x = torch.zeros(1, 1, 20, 20, dtype=torch.float64)
    x[0, 0, 8:12, 8:12] = 1.0
    y = deform(x, alpha=3.0, sigma=500.0, rotate=0.0, scale=0.0, shear=0.0, generator=generator(5))
    assert not torch.allclose(y, x)
    mass = y.sum()
    assert torch.allclose(mass, x.sum(), rtol=1e-6)  # an interior blob keeps its ink


def test_deform_shifts_mass_but_keeps_it_roughly():
    # an ink blob in the centre keeps most of its ink under moderate deformations
    x = torch.zeros(4, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    y = deform(x, generator=generator(3))
    assert not torch.allclose(x, y)
    assert torch.allclose(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), rtol=0.35)


@pytest.mark.parametrize(
    "images, kwargs, name",
    [
        (torch.rand(3, 8, 8), {}, "images"),
        (torch.randint(0, 2, (2, 1, 8, 8)), {}, "images"),
        (torch.rand(2, 1, 1, 8), {}, "2x2"),
        (torch.rand(2, 1, 8, 8), {"alpha": -1.0}, "alpha"),
        (torch.rand(2, 1, 8, 8), {"sigma": 0.0}, "sigma"),
        (torch.rand(2, 1, 8, 8), {"rotate": 200.0}, "rotate"),
        (torch.rand(2, 1, 8, 8), {"rotate": -1.0}, "rotate"),
        (torch.rand(2, 1, 8, 8), {"scale": 1.0}, "scale"),
        (torch.rand(2, 1, 8, 8), {"shear": -0.1}, "shear"),
        (torch.rand(2, 1, 8, 8), {"alpha": float("nan")}, "alpha"),
    ],
)
def test_deform_rejects_bad_arguments(images, kwargs, name):
    with pytest.raises(ValueError, match=name):
        deform(images, **kwargs)


def test_deform_layer_acts_only_while_training_and_checks_early():
    layer = Deform(seed=3, sigma=4.0)
    x = _images(n=2, h=16, w=16)
    y = layer(x)
    assert not torch.allclose(y, x)
    assert torch.equal(y, deform(x, sigma=4.0, generator=generator(3)))
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="alpha"):
        Deform(alpha=-2.0)


# --- committee --------------------------------------------------------------------------------


def _nets(k, seed=0):
    torch.manual_seed(seed)
    return [nn.Sequential(nn.Linear(6, 5), nn.Dropout(0.5), nn.Linear(5, 4)) for _ in range(k)]


def test_committee_averages_softmax_probabilities_in_eval_mode():
    x = torch.randn(10, 6, generator=generator(0))
    nets = _nets(3)
    probs = committee(nets, x)
    manual = sum(F.softmax(n.eval()(x), dim=1) for n in nets) / 3
    assert torch.allclose(probs, manual, atol=1e-7)
    assert torch.allclose(probs.sum(dim=1), torch.ones(10))
    assert torch.allclose(committee(list(reversed(nets)), x), probs, atol=1e-7)
    assert torch.allclose(committee(nets[:1], x), F.softmax(nets[0](x), dim=1))


def test_committee_restores_training_mode_and_rejects_empty():
    nets = _nets(2)
    nets[0].train()
    nets[1].eval()
    committee(nets, torch.randn(3, 6))
    assert nets[0].training and not nets[1].training
    with pytest.raises(ValueError, match="models"):
        committee([], torch.randn(3, 6))


def test_committee_fixes_errors_of_a_minority():
    # three "networks" that output fixed scores: two right, one wrong on each example
    y = torch.tensor([0, 1, 2])

    class Fixed(nn.Module):
        def __init__(self, wrong):
            super().__init__()
            self.wrong = wrong

        def forward(self, x):
            scores = F.one_hot(y, 3).float() * 4
            scores[self.wrong] = F.one_hot((y[self.wrong] + 1) % 3, 3).float() * 4
            return scores

    members = [Fixed(0), Fixed(1), Fixed(2)]
    x = torch.zeros(3, 1)
    assert [error_rate(committee([m], x), y) for m in members] == pytest.approx([1 / 3] * 3)
    assert error_rate(committee(members, x), y) == 0.0


# --- the networks and throughput --------------------------------------------------------------


def test_mlp_shape_and_bad_hidden():
    net = mlp([7, 5], seed=1)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == 784 * 7 + 7 + 7 * 5 + 5 + 5 * 10 + 10
    with pytest.raises(ValueError, match="hidden"):
        mlp([7, 0])


def test_training_throughput_counts_examples_and_checks_arguments():
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    rate = training_throughput(lambda: mlp([8]), x, y, device="cpu", batch_size=16, steps=3)
    assert rate > 0 and math.isfinite(rate)
    for kwargs, name in (
        ({"steps": 0}, "steps"),
        ({"warmup": -1}, "warmup"),
        ({"batch_size": 65}, "batch_size"),
    ):
        with pytest.raises(ValueError, match=name):
            training_throughput(lambda: mlp([8]), x, y, device="cpu", **kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_deform_matches_across_devices():
    x = _images()
    cpu = deform(x, generator=generator(4))
    cuda = deform(x.cuda(), generator=generator(4))
    assert torch.allclose(cpu, cuda.cpu(), atol=1e-5)
