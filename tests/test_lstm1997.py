"""The from-scratch LSTM against torch.nn.LSTM; the adding problem; bad input."""

import pytest
import torch
from torch import nn

from nutshell.history.lstm1997 import (
    LSTM,
    AddingNet,
    LSTMCell,
    adding_problem,
    input_gradient_norms,
    mse,
)


def _pair(input_size=3, hidden=5, seed=0):
    torch.manual_seed(seed)
    reference = nn.LSTM(input_size, hidden, batch_first=True).double()
    return reference, LSTM.from_torch(reference)


def _grads(output, inputs):
    return torch.autograd.grad(output, inputs)


@pytest.mark.parametrize("batch,steps", [(1, 1), (2, 7), (5, 30)])
def test_outputs_and_all_gradients_match_nn_lstm(batch, steps):
    reference, ours = _pair()
    gen = torch.Generator().manual_seed(batch * 100 + steps)
    x = torch.randn(batch, steps, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    h0 = torch.randn(batch, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    c0 = torch.randn(batch, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    out_r, (h_r, c_r) = reference(x, (h0[None], c0[None]))
    out_o, (h_o, c_o) = ours(x, (h0, c0))
    torch.testing.assert_close(out_o, out_r, rtol=0, atol=1e-13)
    torch.testing.assert_close(h_o, h_r[0], rtol=0, atol=1e-13)
    torch.testing.assert_close(c_o, c_r[0], rtol=0, atol=1e-13)
    # a loss that touches every output and the final cell state
    weights = torch.randn(out_r.shape, dtype=torch.float64, generator=gen)
    loss_r = (out_r * weights).sum() + c_r.square().sum()
    loss_o = (out_o * weights).sum() + c_o.square().sum()
    g_r = _grads(loss_r, [x, h0, c0, *reference.parameters()])
    g_o = _grads(loss_o, [x, h0, c0, *ours.parameters()])
    assert len(g_r) == len(g_o) == 7
    for a, b in zip(g_o, g_r):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_second_call_carries_the_state_and_accumulates_gradients():
    reference, ours = _pair(seed=1)
    x = torch.randn(3, 10, 3, dtype=torch.float64)
    first, second = x[:, :4], x[:, 4:]
    for model in (reference, ours):
        model.zero_grad()
    out_r1, state_r = reference(first)
    out_r2, _ = reference(second, state_r)
    out_o1, state_o = ours(first)
    out_o2, _ = ours(second, state_o)
    # two calls with the state carried over equal one call on the whole sequence
    whole, _ = ours(x)
    torch.testing.assert_close(torch.cat([out_o1, out_o2], dim=1), whole, rtol=0, atol=1e-14)
    torch.testing.assert_close(out_o2, out_r2, rtol=0, atol=1e-13)
    # backward twice without zeroing: gradients accumulate identically, to twice one pass
    for model in (reference, ours):
        model.zero_grad()
        model(x)[0].sum().backward()
    once = [p.grad.clone() for p in ours.parameters()]
    for model in (reference, ours):
        model(x)[0].sum().backward()
    for p_o, p_r, g in zip(ours.parameters(), reference.parameters(), once):
        assert g.abs().sum() > 0
        torch.testing.assert_close(p_o.grad, p_r.grad, rtol=0, atol=1e-12)
        torch.testing.assert_close(p_o.grad, 2 * g, rtol=0, atol=1e-12)


def test_cell_step_matches_nn_lstmcell_float32():
    torch.manual_seed(2)
    reference = nn.LSTMCell(4, 6)
    ours = LSTMCell(4, 6)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ours, name).copy_(getattr(reference, name))
    x = torch.randn(8, 4)
    state = (torch.randn(8, 6), torch.randn(8, 6))
    for a, b in zip(ours(x, state), reference(x, state)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # no state: zeros, as in PyTorch
    for a, b in zip(ours(x), reference(x)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_1997_cell_equals_nn_lstm_with_forget_gate_held_open():
    """Without a forget gate, c_t = c_{t-1} + i g: an nn.LSTM whose forget gate is sigma(50) = 1."""
    torch.manual_seed(3)
    reference = nn.LSTM(2, 4, batch_first=True).double()
    ours = LSTM(2, 4, forget_gate=False).double()
    rows = {"i": slice(0, 4), "f": slice(4, 8), "g": slice(8, 12), "o": slice(12, 16)}
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            ref = getattr(reference, f"{name}_l0")
            ref[rows["f"]] = 0.0
            if name == "bias_ih":
                ref[rows["f"]] = 50.0  # sigma(50) == 1.0 in float64
            mine = getattr(ours.cell, name)
            assert mine.shape[0] == 12  # three gates, no forget rows
            mine.copy_(torch.cat([ref[rows["i"]], ref[rows["g"]], ref[rows["o"]]]))
    x = torch.randn(2, 15, 2, dtype=torch.float64, requires_grad=True)
    out_r, (_, c_r) = reference(x)
    out_o, (_, c_o) = ours(x)
    torch.testing.assert_close(out_o, out_r, rtol=0, atol=1e-13)
    torch.testing.assert_close(c_o, c_r[0], rtol=0, atol=1e-13)
    torch.testing.assert_close(
        _grads(out_o.sum(), [x])[0], _grads(out_r.sum(), [x])[0], rtol=0, atol=1e-12
    )
    gates = ours.cell.gates(x[:, 0].detach())
    assert torch.equal(gates["f"], torch.ones(2, 4, dtype=torch.float64))


def test_gates_are_in_range_and_consistent_with_forward():
    torch.manual_seed(4)
    cell = LSTMCell(3, 5).double()
    x = torch.randn(6, 3, dtype=torch.float64)
    state = (torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64))
    gate = cell.gates(x, state)
    for name in "ifo":
        assert ((gate[name] > 0) & (gate[name] < 1)).all()
    assert (gate["g"].abs() < 1).all()
    h, c = cell(x, state)
    torch.testing.assert_close(c, gate["f"] * state[1] + gate["i"] * gate["g"])
    torch.testing.assert_close(h, gate["o"] * torch.tanh(c))


def test_adding_problem_targets_and_markers():
    x, y = adding_problem(500, 20, seed=5)
    assert x.shape == (500, 20, 2) and y.shape == (500,)
    assert x.dtype == y.dtype == torch.float32
    markers = x[:, :, 1]
    assert torch.equal(markers.sum(dim=1), torch.full((500,), 2.0))
    assert torch.equal(markers[:, :10].sum(dim=1), torch.ones(500))  # one marker per half
    assert x[:, :, 0].abs().max() <= 1
    torch.testing.assert_close(y, (x[:, :, 0] * markers).sum(dim=1))
    again, y_again = adding_problem(500, 20, seed=5)
    assert torch.equal(again, x) and torch.equal(y_again, y)
    assert not torch.equal(adding_problem(500, 20, seed=6)[0], x)
    # the target's variance is 2/3 (two independent U[-1, 1] values)
    _, big = adding_problem(20_000, 10, seed=7)
    assert abs(big.var().item() - 2 / 3) < 0.03


@pytest.mark.parametrize("kind", AddingNet.KINDS)
def test_adding_net_shapes_and_gradient_norms(kind):
    torch.manual_seed(6)
    model = AddingNet(kind, hidden=8)
    x, y = adding_problem(4, 12, seed=8)
    out = model(x)
    assert out.shape == (4,)
    assert mse(out, y).item() >= 0
    norms = input_gradient_norms(model.eval(), x)
    assert norms.shape == (12,) and (norms > 0).all()
    assert not model.training  # the mode is restored


def test_scratch_and_torch_adding_nets_agree():
    torch.manual_seed(7)
    torch_net = AddingNet("lstm", hidden=6)
    scratch = AddingNet("scratch", hidden=6)
    scratch.recurrent = LSTM.from_torch(torch_net.recurrent)
    scratch.readout.load_state_dict(torch_net.readout.state_dict())
    x, _ = adding_problem(5, 9, seed=9)
    torch.testing.assert_close(scratch(x), torch_net(x), rtol=1e-5, atol=1e-6)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="hidden_size"):
        LSTMCell(3, 0)
    with pytest.raises(ValueError, match="input_size"):
        LSTMCell(2.5, 4)
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match="x must have shape"):
        cell(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="x must have shape"):
        LSTM(3, 4)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="at least one time step"):
        LSTM(3, 4)(torch.zeros(2, 0, 3))
    with pytest.raises(ValueError, match="lstm must be"):
        LSTM.from_torch(nn.LSTM(3, 4, num_layers=2))
    with pytest.raises(ValueError, match="n must be"):
        adding_problem(0)
    with pytest.raises(ValueError, match="length must be"):
        adding_problem(10, length=1)
    with pytest.raises(ValueError, match="kind must be"):
        AddingNet("gru")
    with pytest.raises(ValueError, match="hidden must be"):
        AddingNet("rnn", hidden=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_nn_lstm():
    reference, ours = _pair(seed=10)
    reference, ours = reference.cuda(), ours.cuda()
    x = torch.randn(4, 20, 3, dtype=torch.float64, device="cuda", requires_grad=True)
    out_r, _ = reference(x)
    out_o, _ = ours(x)
    torch.testing.assert_close(out_o, out_r, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(
        _grads(out_o.sum(), [x])[0], _grads(out_r.sum(), [x])[0], rtol=1e-9, atol=1e-9
    )
