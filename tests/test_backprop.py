"""The article's back-propagation rules against PyTorch's autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nutshell.data import generator
from nutshell.training.backprop import (
    ACTIVATIONS,
    MLP,
    RuleNetwork,
    cross_entropy,
    relative_error,
    squared_error,
)
from nutshell.training.loop import fit

TORCH_FN = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


@pytest.fixture(autouse=True)
def _cpu_by_default(monkeypatch):
    # networks default to CUDA when there is one; these tests pass their device explicitly
    monkeypatch.setenv("NUTSHELL_DEVICE", "cpu")


def reference(net: MLP, x, target, error):
    """Autograd through F.linear and torch's activations, written independently of the module."""
    ws = [w.detach().clone().requires_grad_() for w in net.weights]
    bs = [None if b is None else b.detach().clone().requires_grad_() for b in net.biases]
    a = x
    for i, (w, b) in enumerate(zip(ws, bs)):
        a = F.linear(a, w.T, b)
        if i < len(ws) - 1:
            a = TORCH_FN[net.hidden.name](a)
    loss = F.cross_entropy(a, target) if error == "cross_entropy" else F.mse_loss(a, target)
    loss.backward()
    return loss.detach(), [(w.grad, None if b is None else b.grad) for w, b in zip(ws, bs)]


def random_case(seed: int, dtype=torch.float64, device="cpu"):
    g = generator(seed)
    depth = int(torch.randint(1, 8, (), generator=g))
    sizes = torch.randint(1, 20, (depth + 1,), generator=g).tolist()
    batch = int(torch.randint(1, 40, (), generator=g))
    act = ["tanh", "sigmoid", "relu"][seed % 3]
    error = ["cross_entropy", "squared_error"][(seed // 3) % 2]
    init = ["torch", "xavier", "kaiming"][seed % 3 - 1]
    net = MLP(sizes, act, bias=seed % 4 != 0, init=init, seed=seed, dtype=dtype, device=device)
    x = torch.randn(batch, sizes[0], generator=g, dtype=dtype).to(device)
    if error == "cross_entropy":
        target = torch.randint(0, sizes[-1], (batch,), generator=g).to(device)
    else:
        target = torch.randn(batch, sizes[-1], generator=g, dtype=dtype).to(device)
    return net, x, target, error


def assert_close(loss, grads, ref_loss, ref_grads, tol):
    assert relative_error(loss, ref_loss) < tol
    assert len(grads) == len(ref_grads)
    for (gw, gb), (rw, rb) in zip(grads, ref_grads):
        assert gw.shape == rw.shape
        assert relative_error(gw, rw) < tol
        assert (gb is None) == (rb is None)
        if gb is not None:
            assert relative_error(gb, rb) < tol


@pytest.mark.parametrize("seed", range(24))
def test_gradients_match_autograd_float64(seed):
    net, x, target, error = random_case(seed)
    loss, grads = net.gradients(x, target, error)
    assert_close(loss, grads, *reference(net, x, target, error), tol=1e-10)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_gradients_match_autograd_float32(act):
    g = generator(5)
    net = MLP([20, 30, 30, 5], act, seed=5)
    x = torch.randn(64, 20, generator=g)
    y = torch.randint(0, 5, (64,), generator=g)
    loss, grads = net.gradients(x, y)
    assert_close(loss, grads, *reference(net, x, y, "cross_entropy"), tol=1e-5)


def test_sigmoid_output_layer():
    g = generator(3)
    net = MLP([4, 6, 3], "tanh", output="sigmoid", dtype=torch.float64)
    x = torch.randn(10, 4, generator=g, dtype=torch.float64)
    t = torch.rand(10, 3, generator=g, dtype=torch.float64)
    loss, grads = net.gradients(x, t, "squared_error")
    ws = [w.clone().requires_grad_() for w in net.weights]
    bs = [b.clone().requires_grad_() for b in net.biases]
    out = torch.sigmoid(F.linear(torch.tanh(F.linear(x, ws[0].T, bs[0])), ws[1].T, bs[1]))
    F.mse_loss(out, t).backward()
    assert relative_error(grads[0][0], ws[0].grad) < 1e-12
    assert relative_error(grads[1][1], bs[1].grad) < 1e-12


def test_second_pass_is_identical():
    net, x, target, error = random_case(7)
    loss1, first = net.gradients(x, target, error)
    loss2, second = net.gradients(x, target, error)
    again = net.backward(net.forward(x) * 0 + 1)  # another error: different gradients
    third = net.backward(net.forward(x) * 0 + 1)
    assert torch.equal(loss1, loss2)
    for (a, b), (c, d) in zip(first, second):
        assert torch.equal(a, c)
        assert (b is None and d is None) or torch.equal(b, d)
    for (a, _), (c, _) in zip(again, third):
        assert torch.equal(a, c)
    assert not torch.equal(first[-1][0], again[-1][0])


def test_relu_derivative_at_zero_is_autograds():
    w = torch.tensor([[1.0, -1.0, 0.0]], dtype=torch.float64)
    net = MLP.from_weights([w, torch.ones(3, 1, dtype=torch.float64)], None, "relu")
    x = torch.tensor([[0.0], [2.0], [-1.0]], dtype=torch.float64)  # z hits exactly 0
    _, grads = net.gradients(x, torch.zeros(3, 1, dtype=torch.float64), "squared_error")
    _, ref = reference(net, x, torch.zeros(3, 1, dtype=torch.float64), "squared_error")
    assert torch.equal(grads[0][0], ref[0][0])
    assert torch.equal(grads[1][0], ref[1][0])


def test_article_shapes_in_the_log():
    lines = []
    net = MLP([3, 5, 2], "tanh")
    x = torch.rand(128, 3, generator=generator(0))
    _, grads = net.gradients(x, torch.zeros(128, dtype=torch.int64), log=lines.append)
    assert "input 128x3 @ weights 3x5" in lines[0] and "= 128x5" in lines[0]
    assert any("weights^T 2x5 = 128x5" in line for line in lines)
    assert [tuple(g.shape) for g, _ in grads] == [(3, 5), (5, 2)]
    assert [tuple(b.shape) for _, b in grads] == [(5,), (2,)]


def test_wrong_input_shape_names_layer_and_shapes():
    net = MLP([3, 5, 2])
    with pytest.raises(ValueError, match=r"layer 1: .*128x4.*3x5"):
        net.forward(torch.zeros(128, 4))
    with pytest.raises(ValueError, match="x must be a matrix"):
        net.forward(torch.zeros(3))
    with pytest.raises(ValueError, match="float64"):
        net.forward(torch.zeros(2, 3, dtype=torch.float64))


def test_wrong_weight_shapes_name_the_layer():
    with pytest.raises(ValueError, match=r"layer 2: weights of shape 4x2 .* 3x5"):
        MLP.from_weights([torch.zeros(3, 5), torch.zeros(4, 2)])
    with pytest.raises(ValueError, match=r"layer 1: bias of shape 4"):
        MLP.from_weights([torch.zeros(3, 5)], [torch.zeros(4)])
    net = MLP([3, 5, 2])
    net.weights[1] = torch.zeros(4, 2)  # broken after construction: caught in forward
    with pytest.raises(ValueError, match=r"layer 2: .*128x5.*4x2"):
        net.forward(torch.zeros(128, 3))


def test_backward_errors():
    net = MLP([3, 5, 2])
    with pytest.raises(RuntimeError, match="forward"):
        net.backward(torch.zeros(4, 2))
    net.forward(torch.zeros(4, 3))
    with pytest.raises(ValueError, match=r"error has shape 4x3 .* 4x2"):
        net.backward(torch.zeros(4, 3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sizes": [3]}, "sizes"),
        ({"sizes": [3, 0]}, "sizes"),
        ({"sizes": [3, 2.5]}, "sizes"),
        ({"sizes": [3, 2], "activation": "softplus"}, "activation"),
        ({"sizes": [3, 2], "output": "gelu"}, "output"),
        ({"sizes": [3, 2], "init": "orthogonal"}, "init"),
        ({"sizes": [3, 2], "dtype": torch.int64}, "dtype"),
        ({"sizes": [3, 2], "device": "tpu"}, "device"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_invalid_error_function_arguments():
    net = MLP([3, 2])
    x = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="error must be one of"):
        net.gradients(x, torch.zeros(4, dtype=torch.int64), "hinge")
    with pytest.raises(ValueError, match="labels"):
        cross_entropy(torch.zeros(4, 2), torch.zeros(5, dtype=torch.int64))
    with pytest.raises(ValueError, match="int64"):
        cross_entropy(torch.zeros(4, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="targets"):
        squared_error(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(torch.zeros(2), torch.zeros(3))


def test_error_functions_match_torch():
    g = generator(11)
    z = torch.randn(9, 4, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (9,), generator=g)
    loss, err = cross_entropy(z.detach(), y)
    ref = F.cross_entropy(z, y)
    ref.backward()
    assert relative_error(loss, ref.detach()) < 1e-14
    assert relative_error(err, z.grad) < 1e-14
    t = torch.randn(9, 4, generator=g, dtype=torch.float64)
    z.grad = None
    loss, err = squared_error(z.detach(), t)
    ref = F.mse_loss(z, t)
    ref.backward()
    assert relative_error(loss, ref.detach()) < 1e-14
    assert relative_error(err, z.grad) < 1e-14


def test_to_torch_computes_the_same_function():
    net = MLP([6, 7, 3], "sigmoid", dtype=torch.float64, seed=2)
    x = torch.randn(5, 6, generator=generator(2), dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(net.to_torch()(x), net.forward(x), rtol=0, atol=1e-14)


def test_activation_derivatives_match_autograd():
    z = torch.linspace(-6, 6, 101, dtype=torch.float64).requires_grad_()
    for name in ("tanh", "sigmoid", "relu"):
        f = ACTIVATIONS[name]
        z.grad = None
        a = f(z)
        a.sum().backward()
        assert torch.allclose(f.derivative(z.detach(), a.detach()), z.grad, rtol=0, atol=1e-15)


def test_rule_network_trains_like_autograd():
    g = generator(4)
    x = torch.randn(96, 8, generator=g)
    y = torch.randint(0, 3, (96,), generator=g)
    start = MLP([8, 16, 3], "tanh", seed=4)
    rules = RuleNetwork(
        MLP.from_weights([w.clone() for w in start.weights], [b.clone() for b in start.biases])
    )
    ref = start.to_torch()
    h1 = fit(rules, (x, y), epochs=2, batch_size=16, lr=0.2, device="cpu", progress=False)
    h2 = fit(ref, (x, y), epochs=2, batch_size=16, lr=0.2, device="cpu", progress=False)
    assert h1.steps == h2.steps == 12
    assert max(abs(a - b) for a, b in zip(h1.step_loss, h2.step_loss)) < 1e-5
    assert h1.step_loss[-1] < h1.step_loss[0]
    assert torch.allclose(rules.weights[0], ref[0].weight.T, atol=1e-5)
    with pytest.raises(ValueError, match="net must be an MLP"):
        RuleNetwork(ref)


def test_rule_network_gradients_are_the_rules():
    net = MLP([5, 4, 2], "relu", dtype=torch.float64, bias=False)
    x = torch.randn(7, 5, generator=generator(9), dtype=torch.float64)
    y = torch.randint(0, 2, (7,), generator=generator(10))
    _, grads = net.gradients(x, y)
    module = RuleNetwork(net)
    F.cross_entropy(module(x), y).backward()
    for (gw, _), p in zip(grads, module.weights):  # the error comes from F.cross_entropy
        assert relative_error(gw, p.grad) < 1e-14
    assert len(module.biases) == 0


def _bench():
    from nutshell.bench import backprop

    return backprop


def test_benchmark_runs_in_a_tiny_configuration():
    result = _bench().run("cpu", sizes=(8, 6, 3), batch=4, rounds=1, min_run_time=0.01)
    assert set(result) >= {"manual_s", "autograd_s", "ratio", "device"}
    assert result["manual_s"] > 0 and result["autograd_s"] > 0
    assert result["ratio"] == pytest.approx(result["manual_s"] / result["autograd_s"])
    with pytest.raises(ValueError, match="batch"):
        _bench().run("cpu", batch=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gradients_on_cuda_match_cpu():
    for seed in range(6):
        net, x, target, error = random_case(seed, device="cuda")
        loss, grads = net.gradients(x, target, error)
        cpu = MLP.from_weights(
            [w.cpu() for w in net.weights],
            [None if b is None else b.cpu() for b in net.biases],
            net.hidden,
        )
        ref_loss, ref = reference(cpu, x.cpu(), target.cpu(), error)
        assert_close(
            loss.cpu(),
            [(w.cpu(), None if b is None else b.cpu()) for w, b in grads],
            ref_loss,
            ref,
            tol=1e-10,
        )
        assert grads[0][0].device.type == "cuda"
