"""Tests for nutshell.history.neocognitron (Fukushima 1980)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nutshell.history.neocognitron import (
    CLayer,
    Neocognitron,
    SLayer,
    patches,
    reinforce,
    representatives,
    s_convolution,
    shift,
)


def _rand(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ---- S-layer: the convolution --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    ("n", "c", "k", "size", "kernel", "padding"),
    [(1, 1, 1, 5, 1, 0), (3, 1, 4, 16, 5, 2), (2, 3, 5, 9, 3, 0), (2, 8, 12, 20, 12, 0)],
)
def test_s_convolution_matches_conv2d(dtype, n, c, k, size, kernel, padding):
    x = _rand(n, c, size, size, seed=1, dtype=dtype)
    w = _rand(k, c, kernel, kernel, seed=2, dtype=dtype)
    ours = s_convolution(x, w, padding)
    # float32 sums of c * kernel^2 products round differently in a different order
    tol = {} if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-6 * c * kernel**2)
    torch.testing.assert_close(ours, F.conv2d(x, w, padding=padding), **tol)
    torch.testing.assert_close(s_convolution(x, w, padding), ours, rtol=0, atol=0)  # again


def test_patches_hold_each_cells_window():
    x = _rand(1, 2, 6, 6, seed=3)
    windows = patches(x, 3, padding=1)
    assert windows.shape == (1, 2 * 9, 36)
    row, col = 4, 2  # cell at (4, 2) sees rows 3..5, columns 1..3 of the unpadded input
    torch.testing.assert_close(windows[0, :, row * 6 + col].reshape(2, 3, 3), x[0, :, 3:6, 1:4])


@pytest.mark.parametrize(
    ("x", "w", "padding", "match"),
    [
        ((1, 1, 5, 5), (2, 1, 3, 3), -1, "padding"),
        ((1, 2, 5, 5), (2, 1, 3, 3), 0, "channels"),
        ((1, 1, 5, 5), (2, 1, 7, 7), 0, "does not fit"),
        ((1, 1, 5, 5), (2, 1, 3, 2), 0, "square"),
        ((1, 5, 5), (2, 1, 3, 3), 0, "4-D"),
    ],
)
def test_s_convolution_invalid(x, w, padding, match):
    with pytest.raises(ValueError, match=match):
        s_convolution(torch.zeros(x), torch.zeros(w), padding)


# ---- S-layer: the S-cell and V-cell equations ----------------------------------------------


def _trained_layer(dtype=torch.float64):
    layer = SLayer(3, 4, 3, selectivity=1.5, rate=2.0, padding=1, seed=5).to(dtype)
    layer.a.copy_(_rand(4, 3, 3, 3, seed=6, dtype=dtype).abs())
    layer.b.copy_(torch.tensor([0.0, 1.0, 4.0, 30.0], dtype=dtype))
    return layer


def test_s_layer_matches_its_equation_cell_by_cell():
    layer = _trained_layer()
    x = _rand(2, 3, 5, 5, seed=7, dtype=torch.float64).abs()
    u = layer(x)
    assert u.shape == (2, 4, 5, 5)
    r = layer.selectivity
    padded = F.pad(x, (1, 1, 1, 1))
    c = layer.c[0]  # (planes below, 3, 3)
    for i in range(2):
        for row in range(5):
            for col in range(5):
                window = padded[i, :, row : row + 3, col : col + 3]
                v = torch.sqrt((c * window**2).sum())  # V-cell
                for k in range(4):
                    e = (layer.a[k] * window).sum()  # excitation
                    expected = r * torch.relu((1 + e) / (1 + r / (1 + r) * layer.b[k] * v) - 1)
                    torch.testing.assert_close(u[i, k, row, col], expected)


def test_s_layer_excitation_and_inhibition():
    layer = _trained_layer()
    x = _rand(2, 3, 6, 6, seed=8, dtype=torch.float64)
    torch.testing.assert_close(layer.excitation(x), s_convolution(x, layer.a, 1))
    # the V-cell sums c(nu) x^2 over every plane of the window
    torch.testing.assert_close(layer.inhibition(x), s_convolution(x * x, layer.c, 1).sqrt())
    assert layer.c.sum().item() == pytest.approx(1.0)  # c sums to one over planes and window
    assert (layer.c > 0).all()


def test_fresh_s_layer_is_unselective():
    layer = SLayer(1, 6, 5, padding=2, seed=0)
    assert (layer.b == 0).all() and (layer.a >= 0).all() and layer.a.max() <= 0.01
    u = layer(_rand(1, 1, 8, 8, seed=9).abs())
    assert (u > 0).all()  # every untrained cell answers any input a little
    assert list(layer.parameters()) == []  # nothing here is trained by gradients


def test_reinforced_plane_becomes_selective():
    layer = SLayer(1, 2, 4, selectivity=4.0, rate=10.0, seed=1)
    a = torch.zeros(1, 1, 4, 4)
    a[..., :, 1] = 1.0  # a vertical bar
    b = torch.zeros(1, 1, 4, 4)
    b[..., 1, :] = 1.0  # a horizontal bar (cosine with the vertical one: 0.25)
    first = reinforce(layer, a, "layer")
    for _ in range(20):
        assert reinforce(layer, a, "layer") == first  # the same cell keeps winning
    trained = first[0][0]
    response_a, response_b = layer(a)[0, trained, 0, 0], layer(b)[0, trained, 0, 0]
    assert response_a > 0.9  # its own pattern: close to 1
    assert response_b == 0  # a different pattern: silent
    assert layer(b)[0, 1 - trained, 0, 0] > 0  # the untrained plane still answers weakly


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(in_planes=0), "in_planes"),
        (dict(planes=0), "planes"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(selectivity=0.0), "selectivity"),
        (dict(rate=-1.0), "rate"),
        (dict(padding=-1), "padding"),
    ],
)
def test_s_layer_invalid(kwargs, match):
    args = dict(in_planes=1, planes=2, kernel_size=3) | kwargs
    with pytest.raises(ValueError, match=match):
        SLayer(args.pop("in_planes"), args.pop("planes"), args.pop("kernel_size"), **args)


# ---- C-layer: fixed pooling ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(2, 2, 0), (3, 1, 1), (3, 2, 1), (4, 2, 2), (5, 3, 0)]
)
def test_c_layer_matches_torch_pooling(dtype, kernel, stride, padding):
    x = _rand(2, 3, 11, 11, seed=10, dtype=dtype)  # negative values too: padding must not win
    ours_max = CLayer(kernel, stride, padding, "max")(x)
    torch.testing.assert_close(ours_max, F.max_pool2d(x, kernel, stride, padding))
    ours_mean = CLayer(kernel, stride, padding, "mean")(x)
    torch.testing.assert_close(
        ours_mean, F.avg_pool2d(x, kernel, stride, padding, count_include_pad=True)
    )
    torch.testing.assert_close(CLayer(kernel, stride, padding, "max")(x), ours_max)  # again


def test_c_layer_whole_map():
    x = _rand(2, 5, 7, 9, seed=11)
    torch.testing.assert_close(CLayer(None, mode="max")(x), F.adaptive_max_pool2d(x, 1)[..., 0, 0])
    torch.testing.assert_close(CLayer(None, mode="mean")(x), F.adaptive_avg_pool2d(x, 1)[..., 0, 0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(mode="sum"), "mode"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(stride=0), "stride"),
        (dict(kernel_size=3, padding=2), "padding"),
        (dict(padding=-1), "padding"),
    ],
)
def test_c_layer_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CLayer(**kwargs)


# ---- the competition and the reinforcement -------------------------------------------------


def test_representatives_column_competition():
    u = torch.zeros(3, 2, 2)
    u[0, 0, 0], u[1, 0, 0] = 0.5, 0.9  # plane 1 wins the column at (0, 0)
    u[0, 1, 1] = 0.3  # plane 0 wins (1, 1): its representative, though weaker than 0.5
    u[1, 1, 0] = 0.2  # plane 1 also wins (1, 0), but (0, 0) is its strongest
    assert sorted(representatives(u, "column")) == [(0, 1, 1), (1, 0, 0)]
    assert representatives(u, "layer") == [(1, 0, 0)]
    assert representatives(torch.zeros(3, 2, 2), "column") == []  # silent cells never win
    assert representatives(torch.zeros(3, 2, 2), "layer") == []


@pytest.mark.parametrize(
    ("u", "competition", "match"),
    [(torch.zeros(3, 2, 2), "global", "competition"), (torch.zeros(2, 2), "layer", "u must")],
)
def test_representatives_invalid(u, competition, match):
    with pytest.raises(ValueError, match=match):
        representatives(u, competition)


@pytest.mark.parametrize("competition", ["layer", "column"])
def test_reinforce_moves_only_the_winners(competition):
    layer = _trained_layer(torch.float32)
    x = _rand(1, 3, 6, 6, seed=12).abs()
    a0, b0 = layer.a.clone(), layer.b.clone()
    winners = representatives(layer(x)[0], competition)
    assert reinforce(layer, x, competition) == winners
    assert winners and (competition == "column" or len(winners) == 1)
    windows = F.pad(x, (1, 1, 1, 1))
    v = layer.inhibition(x)[0, 0]
    moved = {plane for plane, _, _ in winners}
    for k in range(4):
        if k not in moved:  # losers keep their weights exactly
            assert torch.equal(layer.a[k], a0[k]) and layer.b[k] == b0[k]
    for plane, row, col in winners:
        window = windows[0, :, row : row + 3, col : col + 3]
        # a <- a + q c(nu) u_C(n^ + nu);  b <- b + q v(n^)
        torch.testing.assert_close(layer.a[plane], a0[plane] + layer.rate * layer.c[0] * window)
        torch.testing.assert_close(layer.b[plane], b0[plane] + layer.rate * v[row, col])


def test_reinforce_silent_layer_changes_nothing():
    layer = _trained_layer(torch.float32)
    a0, b0 = layer.a.clone(), layer.b.clone()
    assert reinforce(layer, torch.zeros(1, 3, 5, 5)) == []  # no input: no cell fires
    assert torch.equal(layer.a, a0) and torch.equal(layer.b, b0)


def test_reinforce_invalid():
    with pytest.raises(ValueError, match="one pattern"):
        reinforce(_trained_layer(torch.float32), torch.zeros(2, 3, 5, 5))


# ---- the network and the shifts ------------------------------------------------------------


def test_shift_moves_the_image():
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 2, 3] = 1.0
    moved = shift(x, 1, -2)
    assert moved[0, 0, 3, 1] == 1.0 and moved.sum() == 1.0
    torch.testing.assert_close(shift(x, 1, -2), torch.roll(x, (1, -2), (2, 3)))  # inside
    assert shift(x, 0, 5).sum() == 0  # pushed out: zeros come in
    with pytest.raises(ValueError, match="shift"):
        shift(x, 6, 0)


def test_neocognitron_shapes_and_winner():
    net = Neocognitron(planes=(4, 5), seed=0)
    x = _rand(3, 1, 20, 20, seed=13).abs()
    out = net(x)
    assert out.shape == (3, 5)
    assert net.stage1(x).shape == (3, 4, 20, 20)
    winners = net.winner(torch.cat([x, torch.zeros(1, 1, 20, 20)]), batch_size=2)
    assert winners.tolist()[:3] == out.argmax(dim=1).tolist()
    assert winners[3] == -1  # a blank image drives no cell
    strided = Neocognitron(planes=(4, 5), stride=2)
    assert strided.stage1(x).shape == (3, 4, 10, 10) and strided(x).shape == (3, 5)


def test_self_organise_changes_only_s_layers():
    net = Neocognitron(planes=(4, 5), seed=0)
    x = _rand(12, 1, 20, 20, seed=14).abs()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.self_organise(x, first=6, epochs=1)
    after = net.state_dict()
    assert not torch.equal(before["s1.a"], after["s1.a"])
    assert not torch.equal(before["s2.b"], after["s2.b"])
    assert torch.equal(before["s1.c"], after["s1.c"])  # the V-cell window is fixed
    again = Neocognitron(planes=(4, 5), seed=0)
    again.self_organise(x, first=6, epochs=1)
    for key, value in again.state_dict().items():
        assert torch.equal(value, after[key])  # a second run gives the same network


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(stride=3), "stride"),
        (dict(planes=(8,)), "planes"),
        (dict(selectivity=(1.0, 0.0)), "selectivity"),
        (dict(rate=0.0), "rate"),
    ],
)
def test_neocognitron_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Neocognitron(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"), [(dict(first=0), "first"), (dict(epochs=0), "epochs")]
)
def test_self_organise_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Neocognitron().self_organise(torch.zeros(2, 1, 20, 20), **kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_s_and_c_layers_on_cuda_match_cpu():
    layer = _trained_layer(torch.float64)
    x = _rand(2, 3, 9, 9, seed=15, dtype=torch.float64).abs()
    torch.testing.assert_close(layer.to("cuda")(x.cuda()).cpu(), layer.to("cpu")(x))
    pool = CLayer(3, 2, 1, "max")
    torch.testing.assert_close(pool(x.cuda()).cpu(), pool(x))
    torch.testing.assert_close(
        s_convolution(x.cuda(), layer.a.cuda(), 1).cpu(), s_convolution(x, layer.a, 1)
    )
