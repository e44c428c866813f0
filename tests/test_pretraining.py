"""Tests for nutshell.history.pretraining: networks, gradient norms, pretraining, PCA."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell.data import generator
from nutshell.history.pretraining import (
    deep_net,
    gradient_norms,
    pca_reconstruct,
    pretrain_layerwise,
    reconstruction_loss,
    squared_error,
    unroll,
    weight_gradient_norms,
)


def _data(n=64, d=12, seed=0, dtype=torch.float32):
    g = generator(seed)
    return torch.rand(n, d, generator=g, dtype=dtype), torch.randint(0, 3, (n,), generator=g)


# --- deep_net ---------------------------------------------------------------------------------


def test_deep_net_structure_and_sizes():
    net = deep_net([7, 5], inputs=12, classes=3, activation="tanh")
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)] == [
        (12, 7),
        (7, 5),
        (5, 3),
    ]
    assert net(torch.zeros(4, 12)).shape == (4, 3)


def test_deep_net_default_init_is_pytorch_standard_and_xavier_is_normalised():
    default = deep_net([40, 30], inputs=20)
    for layer in (m for m in default if isinstance(m, nn.Linear)):
        assert layer.weight.abs().max() <= 1 / math.sqrt(layer.in_features) + 1e-7
    xavier = deep_net([40, 30], inputs=20, init="xavier")
    for layer in (m for m in xavier if isinstance(m, nn.Linear)):
        bound = math.sqrt(6 / (layer.in_features + layer.out_features))
        assert layer.weight.abs().max() <= bound + 1e-7
        assert layer.weight.abs().max() > 0.8 * bound  # uses the range, not a tiny scale
        assert torch.all(layer.bias == 0)


def test_deep_net_seed_is_deterministic():
    a, b, c = (
        deep_net([8], inputs=4, seed=3),
        deep_net([8], inputs=4, seed=3),
        deep_net([8], inputs=4, seed=4),
    )
    assert torch.equal(a[0].weight, b[0].weight)
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(widths=[], inputs=4), "widths"),
        (dict(widths=[3, 0], inputs=4), "widths"),
        (dict(widths=[3], inputs=0), "inputs"),
        (dict(widths=[3], inputs=4, classes=0), "classes"),
        (dict(widths=[3], inputs=4, activation="softplus"), "activation"),
        (dict(widths=[3], inputs=4, init="he"), "init"),
    ],
)
def test_deep_net_rejects_bad_arguments(kwargs, name):
    widths = kwargs.pop("widths")
    with pytest.raises(ValueError, match=name):
        deep_net(widths, **kwargs)


# --- gradient norms ---------------------------------------------------------------------------


def test_gradient_norms_match_autograd_and_do_not_accumulate():
    x, y = _data(dtype=torch.float64)
    net = deep_net([9, 6], inputs=12, classes=3).double()
    norms = gradient_norms(net, x, y)
    ref = deep_net([9, 6], inputs=12, classes=3).double()
    weights = [m.weight for m in ref if isinstance(m, nn.Linear)]
    grads = torch.autograd.grad(F.cross_entropy(ref(x), y), weights)
    assert norms == pytest.approx([g.norm().item() for g in grads], rel=1e-12)
    assert gradient_norms(net, x, y) == pytest.approx(norms, rel=1e-12)  # second call
    assert weight_gradient_norms(net) == pytest.approx(norms, rel=1e-12)


def test_gradient_norms_zero_gradient():
    net = deep_net([4], inputs=3, classes=2)
    for p in net.parameters():
        nn.init.zeros_(p)
    norms = gradient_norms(net, torch.zeros(5, 3), torch.zeros(5, dtype=torch.long))
    assert norms[0] == 0.0  # zero input: the first weight matrix gets no gradient


def test_sigmoid_gradient_vanishes_more_than_tanh_with_xavier():
    x, y = _data(n=128, d=32)
    ratios = {}
    for act, init in (("sigmoid", "default"), ("tanh", "xavier")):
        norms = gradient_norms(deep_net([64] * 5, inputs=32, activation=act, init=init), x, y)
        ratios[act] = norms[-1] / norms[0]
    assert ratios["sigmoid"] > 100 * ratios["tanh"]


def test_weight_gradient_norms_rejects_missing_gradients():
    with pytest.raises(ValueError, match="backward"):
        weight_gradient_norms(deep_net([3], inputs=2))
    with pytest.raises(ValueError, match="nn.Linear"):
        weight_gradient_norms(nn.Sequential(nn.ReLU()))


# --- reconstruction loss ----------------------------------------------------------------------


def test_reconstruction_loss_matches_the_formula():
    g = generator(1)
    logits = torch.randn(6, 5, generator=g, dtype=torch.float64)
    target = torch.rand(6, 5, generator=g, dtype=torch.float64)
    p = torch.sigmoid(logits)
    manual = -(target * p.log() + (1 - target) * (1 - p).log()).sum() / 6
    assert reconstruction_loss(logits, target).item() == pytest.approx(manual.item(), rel=1e-12)
    ref = F.binary_cross_entropy(p, target, reduction="sum") / 6
    assert reconstruction_loss(logits, target).item() == pytest.approx(ref.item(), rel=1e-10)
    with pytest.raises(ValueError, match="shape"):
        reconstruction_loss(logits, target[:, :4])


# --- layer-wise pretraining -------------------------------------------------------------------


def test_pretraining_lowers_each_layers_reconstruction_loss_and_keeps_output_layer():
    x, _ = _data(n=200, d=12)
    net = deep_net([8, 4], inputs=12, classes=3, seed=0)
    before = [m.weight.clone() for m in net if isinstance(m, nn.Linear)]
    result = pretrain_layerwise(net, x, epochs=2, lr=1e-2, batch_size=20, device="cpu")
    after = [m.weight for m in net if isinstance(m, nn.Linear)]
    assert not torch.equal(before[0], after[0]) and not torch.equal(before[1], after[1])
    assert torch.equal(before[2], after[2])  # the output layer is not pretrained
    assert len(result.decoders) == 2 and len(result.losses) == 2
    assert [d.out_features for d in result.decoders] == [12, 8]
    # the trained first autoencoder reconstructs better than it did with its initial weights
    fresh = deep_net([8, 4], inputs=12, classes=3, seed=0)
    torch.manual_seed(0)
    initial_decoder = nn.Linear(8, 12)
    with torch.no_grad():
        initial = reconstruction_loss(initial_decoder(torch.sigmoid(fresh[0](x))), x).item()
        trained = reconstruction_loss(result.decoders[0](torch.sigmoid(net[0](x))), x).item()
    assert trained < initial


def test_pretraining_is_deterministic():
    x, _ = _data(n=100, d=12)
    a, b = deep_net([6, 3], inputs=12), deep_net([6, 3], inputs=12)
    ra = pretrain_layerwise(a, x, epochs=1, batch_size=25, seed=5)
    rb = pretrain_layerwise(b, x, epochs=1, batch_size=25, seed=5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert ra.losses == rb.losses


@pytest.mark.parametrize(
    "net, x, kwargs, name",
    [
        (deep_net([4], inputs=6, activation="relu"), torch.rand(10, 6), {}, "net"),
        (nn.Linear(6, 2), torch.rand(10, 6), {}, "net"),
        (deep_net([4], inputs=6), torch.rand(10, 5), {}, "x"),
        (deep_net([4], inputs=6), torch.rand(10, 6) * 2, {}, "x"),
        (deep_net([4], inputs=6), -torch.rand(10, 6), {}, "x"),
        (deep_net([4], inputs=6), torch.rand(10, 6), {"epochs": 0}, "epochs"),
        (deep_net([4], inputs=6), torch.rand(10, 6), {"lr": -1.0}, "learning rate"),
    ],
)
def test_pretraining_rejects_bad_arguments(net, x, kwargs, name):
    with pytest.raises(ValueError, match=name):
        pretrain_layerwise(net, x, **kwargs)


# --- unrolling and PCA ------------------------------------------------------------------------


def test_unroll_composes_encoders_and_reversed_decoders_as_copies():
    x, _ = _data(n=10, d=12, dtype=torch.float64)
    net = deep_net([8, 4], inputs=12, classes=3).double()
    decoders = [nn.Linear(8, 12).double(), nn.Linear(4, 8).double()]
    for linear_code in (True, False):
        ae = unroll(net, decoders, linear_code=linear_code)
        h1 = torch.sigmoid(net[0](x))
        code = net[2](h1) if linear_code else torch.sigmoid(net[2](h1))
        manual = decoders[0](torch.sigmoid(decoders[1](code)))
        assert torch.allclose(ae(x), manual, atol=1e-12)
    with torch.no_grad():
        ae[0].weight.add_(1.0)
    assert not torch.equal(ae[0].weight, net[0].weight)  # a copy, not the net's layer
    fresh = unroll(net, seed=1)
    assert fresh(x).shape == x.shape
    assert torch.equal(unroll(net, seed=1)[-1].weight, fresh[-1].weight)


def test_unroll_rejects_mismatched_decoders():
    net = deep_net([8, 4], inputs=12)
    with pytest.raises(ValueError, match="decoders"):
        unroll(net, [nn.Linear(8, 12)])
    with pytest.raises(ValueError, match="decoders"):
        unroll(net, [nn.Linear(8, 12), nn.Linear(4, 9)])
    with pytest.raises(ValueError, match="net"):
        unroll(deep_net([8], inputs=12, activation="tanh"))


def test_pca_reconstruct_matches_scikit_learn():
    from sklearn.decomposition import PCA

    g = generator(2)
    train = torch.randn(80, 10, generator=g, dtype=torch.float64) @ torch.randn(
        10, 10, generator=g, dtype=torch.float64
    )
    test = torch.randn(20, 10, generator=g, dtype=torch.float64)
    for k in (1, 3, 7):
        pca = PCA(n_components=k, svd_solver="full").fit(train.numpy())
        ref = pca.inverse_transform(pca.transform(test.numpy()))
        assert torch.allclose(pca_reconstruct(train, test, k), torch.from_numpy(ref), atol=1e-10)
    assert torch.allclose(pca_reconstruct(train, test, 10), test, atol=1e-10)  # all components


def test_pca_and_squared_error_reject_bad_arguments():
    a = torch.rand(10, 4)
    for k in (0, 5, 2.0):
        with pytest.raises(ValueError, match="k must"):
            pca_reconstruct(a, a, k)
    with pytest.raises(ValueError, match="train and x"):
        pca_reconstruct(a, torch.rand(3, 5), 2)
    with pytest.raises(ValueError, match="shape"):
        squared_error(a, a[:, :3])


def test_squared_error_is_the_mean_per_image_sum():
    a = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    b = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    assert squared_error(a, b) == pytest.approx((4 + 9) / 2)
    assert squared_error(a, a) == 0.0
