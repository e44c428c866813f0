"""SVM page: the kernel settings, the learning-curve helper, bad input."""

import numpy as np
import pytest
import torch

from nutshell.history.svm1995 import (
    PAPER_USPS_ERROR,
    LearningCurve,
    digit_mlp,
    epochs_for,
    learning_curve,
    polynomial_svm,
)


def test_polynomial_svm_uses_the_papers_kernel_form():
    svm = polynomial_svm(3, C=2.0)
    assert (svm.kernel, svm.degree, svm.coef0, svm.C, svm.gamma) == ("poly", 3, 1.0, 2.0, "scale")


def test_polynomial_kernel_values():
    """The fitted machine's decision function uses K(u, v) = (gamma u.v + 1)^d."""
    from sklearn.metrics.pairwise import polynomial_kernel

    rng = np.random.default_rng(0)
    x = rng.random((40, 5))
    y = (x[:, 0] + x[:, 1] > 1).astype(int)
    svm = polynomial_svm(2).fit(x, y)
    gamma = 1 / (x.shape[1] * x.var())
    kernel = polynomial_kernel(x, svm.support_vectors_, degree=2, gamma=gamma, coef0=1.0)
    manual = kernel @ svm.dual_coef_[0] + svm.intercept_[0]
    np.testing.assert_allclose(svm.decision_function(x), manual, rtol=1e-8, atol=1e-8)


def test_degree_one_is_a_linear_machine():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 2))
    y = (x @ np.array([1.0, -2.0]) > 0.3).astype(int)
    svm = polynomial_svm(1, C=100.0).fit(x, y)
    assert (svm.predict(x) == y).mean() >= 0.95


def test_paper_table():
    assert list(PAPER_USPS_ERROR) == list(range(1, 8))
    assert PAPER_USPS_ERROR[1] == 12.0
    assert max(v for d, v in PAPER_USPS_ERROR.items() if d >= 2) < 5


def test_learning_curve_nested_subsets_and_order():
    x = torch.arange(100.0).reshape(50, 2)
    y = torch.arange(50)
    seen = []

    def record(xs, ys):
        assert len(xs) == len(ys)
        torch.testing.assert_close(xs[:, 0], 2.0 * ys)  # rows stay paired with their labels
        seen.append(set(ys.tolist()))
        return 1.0 / len(ys)

    curve = learning_curve(record, x, y, [5, 10, 50], seed=3)
    assert isinstance(curve, LearningCurve)
    assert curve.sizes == [5, 10, 50]
    assert curve.errors == [0.2, 0.1, 0.02]
    assert len(curve.seconds) == 3 and all(t >= 0 for t in curve.seconds)
    assert seen[0] < seen[1] < seen[2] and seen[2] == set(range(50))
    # the same seed draws the same subsets, another seed others
    again = []
    learning_curve(lambda xs, ys: again.append(set(ys.tolist())) or 0.0, x, y, [5], seed=3)
    other = []
    learning_curve(lambda xs, ys: other.append(set(ys.tolist())) or 0.0, x, y, [5], seed=4)
    assert again[0] == seen[0] and other[0] != seen[0]


def test_learning_curve_invalid_arguments():
    x, y = torch.zeros(10, 2), torch.zeros(10)
    f = lambda xs, ys: 0.0  # noqa: E731
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(f, x, y, [])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(f, x, y, [5, 5])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(f, x, y, [5, 3])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(f, x, y, [0, 5])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(f, x, y, [5, 11])
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(f, x, y, [2.5])
    with pytest.raises(ValueError, match="differ in length"):
        learning_curve(f, x, torch.zeros(9), [5])


def test_polynomial_svm_invalid_arguments():
    for bad in (0, 21, 2.0, True):
        with pytest.raises(ValueError, match="degree"):
            polynomial_svm(bad)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="C must be"):
            polynomial_svm(2, C=bad)


def test_mlp_and_epochs_for():
    net = digit_mlp()
    assert net(torch.zeros(3, 256)).shape == (3, 10)
    assert sum(p.numel() for p in net.parameters()) == 256 * 256 + 256 + 256 * 10 + 10
    assert epochs_for(2000, 4000, 32) == 16  # 125 steps per pass
    assert epochs_for(2000, 250, 32) == 250  # 8 steps per pass
    assert epochs_for(1, 10, 32) == 1
    with pytest.raises(ValueError, match="steps"):
        epochs_for(0, 10, 32)
    with pytest.raises(ValueError, match="batch_size"):
        epochs_for(10, 10, 0)
