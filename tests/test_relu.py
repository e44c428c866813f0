"""ReLU and its derivative from scratch, against torch.relu and autograd."""

from __future__ import annotations

import pytest
import torch

from nutshell.data import generator
from nutshell.training.backprop import MLP, RELU
from nutshell.training.relu import relu, relu_derivative

SPECIAL = [0.0, -0.0, 1e-45, -1e-45, 5e-324, -5e-324, 1.0, -1.0, 1e38, -1e38, 1e300]
SPECIAL += [float("inf"), float("-inf"), float("nan")]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def inputs(dtype, device="cpu"):
    special = torch.tensor(SPECIAL, dtype=torch.float64).to(dtype)
    rand = torch.randn(5000, generator=generator(0), dtype=dtype) * 3
    return torch.cat([special, rand]).to(device)


def autograd_slope(x):
    xg = x.clone().requires_grad_()
    torch.relu(xg).sum().backward()
    return xg.grad


@pytest.fixture(autouse=True)
def _cpu_by_default(monkeypatch):
    # networks default to CUDA when there is one; these tests pass their device explicitly
    monkeypatch.setenv("NUTSHELL_DEVICE", "cpu")


def same_values(a, b):
    """Equal as ``==`` sees it (so -0.0 == 0.0), NaN in the same places, nothing else differs."""
    if a.is_floating_point():
        return torch.equal(a.isnan(), b.isnan()) and torch.equal(
            torch.nan_to_num(a), torch.nan_to_num(b)
        )
    return torch.equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_relu_matches_torch(dtype, device):
    x = inputs(dtype, device)
    out = relu(x)
    assert out.dtype == dtype and out.device == x.device
    assert same_values(out, torch.relu(x))
    nonzero = (out != 0) & ~out.isnan()
    assert torch.equal(out[nonzero].signbit(), torch.relu(x)[nonzero].signbit())


def test_negative_zero_stays_as_torch_keeps_it_on_the_cpu():
    x = torch.tensor([-0.0, 0.0])
    assert torch.equal(relu(x).signbit(), torch.relu(x).signbit())
    assert relu(x).signbit().tolist() == [True, False]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_derivative_matches_autograd_including_zero(dtype, device):
    x = inputs(dtype, device)
    slope = relu_derivative(x)
    assert slope.dtype == dtype
    assert torch.equal(slope, autograd_slope(x))
    zero = torch.zeros(3, dtype=dtype, device=device)
    assert torch.equal(relu_derivative(zero), torch.zeros_like(zero))
    assert torch.equal(relu_derivative(-zero), torch.zeros_like(zero))
    assert torch.equal(relu_derivative(zero), autograd_slope(zero))


def test_shapes_and_a_second_call():
    x = torch.randn(2, 3, 4, generator=generator(1))
    first, second = relu(x), relu(x)
    assert first.shape == x.shape and torch.equal(first, second)
    assert torch.equal(relu_derivative(x), relu_derivative(x))
    assert torch.equal(relu(x), x.clamp(min=0))
    scalar = torch.tensor(-2.5)
    assert relu(scalar).item() == 0.0 and relu_derivative(scalar).item() == 0.0
    assert relu(torch.empty(0)).shape == (0,)


def test_integer_inputs_like_torch():
    x = torch.tensor([-3, 0, 4])
    assert torch.equal(relu(x), torch.relu(x))


def test_inputs_are_not_modified():
    x = torch.tensor([-1.0, 2.0])
    relu(x)
    relu_derivative(x)
    assert torch.equal(x, torch.tensor([-1.0, 2.0]))


@pytest.mark.parametrize("fn", [relu, relu_derivative])
def test_non_tensor_input_raises(fn):
    with pytest.raises(ValueError, match="x must be a torch.Tensor"):
        fn([1.0, -1.0])


def test_backprop_activation_uses_these_functions():
    x = inputs(torch.float64)
    assert same_values(RELU(x), torch.relu(x))
    assert torch.equal(RELU.derivative(x, RELU(x)), autograd_slope(x))


def test_relu_network_gradients_match_autograd_when_units_sit_at_zero():
    # integer-valued weights and inputs make many pre-activations exactly 0
    g = generator(2)
    w1 = torch.randint(-2, 3, (4, 6), generator=g).double()
    w2 = torch.randint(-2, 3, (6, 3), generator=g).double()
    x = torch.randint(-2, 3, (16, 4), generator=g).double()
    y = torch.randint(0, 3, (16,), generator=g)
    net = MLP.from_weights([w1, w2], None, "relu")
    _, grads = net.gradients(x, y)
    assert (net._cache[1][0] == 0).sum() > 5
    a, b = w1.clone().requires_grad_(), w2.clone().requires_grad_()
    torch.nn.functional.cross_entropy(torch.relu(x @ a) @ b, y).backward()
    assert torch.allclose(grads[0][0], a.grad, rtol=0, atol=1e-15)
    assert torch.allclose(grads[1][0], b.grad, rtol=0, atol=1e-15)


def test_sigmoid_gradient_vanishes_relu_kaiming_does_not():
    """The page's depth experiment in miniature: random inputs, 8 hidden layers of 64."""
    g = generator(3)
    x = torch.randn(128, 32, generator=g)
    y = torch.randint(0, 10, (128,), generator=g)
    sizes = [32] + [64] * 8 + [10]
    ratios = {}
    for act, init in [("sigmoid", "xavier"), ("relu", "kaiming")]:
        _, grads = MLP(sizes, act, init=init, seed=1).gradients(x, y)
        ratios[act] = grads[-1][0].norm().item() / grads[0][0].norm().item()
    assert ratios["sigmoid"] > 100
    assert 0.1 < ratios["relu"] < 10
