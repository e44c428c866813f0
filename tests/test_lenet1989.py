"""LeNet 1989: the parameter count, the H2 connection table, shapes, the loss, bad input."""

import pytest
import torch
import torch.nn.functional as F

from nutshell.history.lenet1989 import CONNECTIONS, LeNet1989, paper_loss, scale_pixels


def _net(seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return LeNet1989().to(dtype)


def test_exactly_9760_parameters_layer_by_layer():
    net = _net()
    sizes = {name: p.numel() for name, p in net.named_parameters()}
    assert sizes["h1_weight"] + sizes["h1_bias"] == 1068  # the paper's H1
    assert sizes["h2_weight"] + sizes["h2_bias"] == 2592  # the paper's H2
    assert sizes["h3_weight"] + sizes["h3_bias"] == 5790
    assert sizes["out_weight"] + sizes["out_bias"] == 310
    assert sum(sizes.values()) == 9760
    assert list(net.buffers()) and not any(b.requires_grad for b in net.buffers())


def test_connection_table_each_h2_map_reads_8_of_12():
    table = torch.tensor(CONNECTIONS)
    assert table.shape == (12, 8)
    for row in table:
        assert len(set(row.tolist())) == 8
    # every H1 map feeds exactly 8 of the 12 H2 maps
    assert torch.bincount(table.flatten(), minlength=12).tolist() == [8] * 12
    assert torch.equal(_net().connections, table)


def test_h2_depends_only_on_connected_h1_maps():
    """The gradient of H2 map m with respect to H1 map k is zero exactly when k is not in S_m."""
    net = _net(dtype=torch.float64)
    h1 = torch.randn(2, 12, 12, 12, dtype=torch.float64, requires_grad=True)
    bank = net.h2_kernels()
    for m, row in enumerate(net.connections.tolist()):
        (grad,) = torch.autograd.grad(F.conv2d(h1, bank[m : m + 1], stride=2).sum(), h1)
        touched = grad.abs().sum(dim=(0, 2, 3)) > 0
        assert touched.nonzero().squeeze(1).tolist() == sorted(row)


def test_h2_bank_matches_a_convolution_per_map():
    """The bank of 12x12 kernels equals convolving each H2 map with its own 8 H1 maps."""
    net = _net(dtype=torch.float64)
    h1 = torch.randn(3, 12, 12, 12, dtype=torch.float64)
    fast = F.conv2d(h1, net.h2_kernels(), stride=2)
    slow = torch.cat(
        [
            F.conv2d(h1[:, row], net.h2_weight[m : m + 1], stride=2)
            for m, row in enumerate(net.connections.tolist())
        ],
        dim=1,
    )
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12)


def test_unconnected_kernels_get_no_gradient_and_stay_zero():
    net = _net()
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    paper_loss(net(x), torch.tensor([0, 1, 2, 3])).backward()
    assert net.h2_weight.grad.shape == (12, 8, 5, 5)
    assert net.h2_weight.grad.abs().sum() > 0
    bank = net.h2_kernels().detach()
    mask = torch.zeros(12, 12, dtype=torch.bool)
    mask[torch.arange(12).repeat_interleave(8), net.connections.flatten()] = True
    assert bank[~mask].abs().max() == 0
    assert bank[mask].abs().min() > 0


@pytest.mark.parametrize("batch", [1, 5])
def test_forward_shapes_range_and_second_call(batch):
    net = _net()
    x = torch.rand(batch, 1, 16, 16) * 2 - 1
    out = net(x)
    assert out.shape == (batch, 10)
    assert out.abs().max() < 1
    torch.testing.assert_close(net(x), out)  # a second call gives the same answer


def test_paper_loss_matches_mse_against_pm1_targets():
    torch.manual_seed(1)
    out = torch.tanh(torch.randn(6, 10, dtype=torch.float64))
    labels = torch.randint(0, 10, (6,))
    targets = -torch.ones(6, 10, dtype=torch.float64)
    targets[torch.arange(6), labels] = 1
    torch.testing.assert_close(paper_loss(out, labels), F.mse_loss(out, targets))


def test_scale_pixels():
    x = torch.tensor([0.0, 0.25, 1.0])
    torch.testing.assert_close(scale_pixels(x), torch.tensor([-1.0, -0.5, 1.0]))


def test_invalid_arguments():
    net = _net()
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(1, 16, 16))
    with pytest.raises(ValueError, match="connections"):
        LeNet1989(connections=[[0] * 8] * 12)  # repeated maps
    with pytest.raises(ValueError, match="connections"):
        LeNet1989(connections=[list(range(8))] * 11)  # 11 rows
    with pytest.raises(ValueError, match="connections"):
        LeNet1989(connections=[list(range(5, 13))] * 12)  # map 12 does not exist
    with pytest.raises(ValueError, match="connections"):
        LeNet1989(connections=torch.zeros(12, 8))  # floats
    with pytest.raises(ValueError, match="labels"):
        paper_loss(torch.zeros(2, 10), torch.tensor([0, 10]))
    with pytest.raises(ValueError, match="outputs"):
        paper_loss(torch.zeros(2, 10), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="x must hold pixels"):
        scale_pixels(torch.tensor([2.0]))


def test_custom_connection_table_is_used():
    table = [[(m + j) % 12 for j in range(8)] for m in range(12)]
    torch.manual_seed(0)
    net = LeNet1989(connections=table)
    assert net.connections.tolist() == table
    assert sum(p.numel() for p in net.parameters()) == 9760


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    net = _net()
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    expected = net(x)
    torch.testing.assert_close(net.to("cuda")(x.to("cuda")).cpu(), expected, rtol=1e-4, atol=1e-5)
