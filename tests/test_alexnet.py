"""Tests for nutshell.history.alexnet: the network, epochs to an error, grouped convolutions."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nutshell.data import Dataset, generator
from nutshell.history.alexnet import (
    alexnet_convolutions,
    convnet,
    epochs_to_error,
    median,
    split_conv,
)

# --- the network ------------------------------------------------------------------------------


def test_convnet_shapes_and_parameter_count():
    net = convnet("tanh", channels=8)
    assert net(torch.zeros(3, 40)).shape == (3, 10)
    expected = (1 * 8 * 5 + 8) + 2 * (8 * 8 * 3 + 8) + (5 * 8 * 10 + 10)
    assert sum(p.numel() for p in net.parameters()) == expected
    assert sum(isinstance(m, nn.Tanh) for m in net) == 3
    assert not any(isinstance(m, nn.Dropout) for m in net)


def test_convnet_classifier_with_dropout():
    net = convnet("relu", channels=4, classifier=16, dropout=0.5, seed=1)
    drops = [m for m in net if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and all(d.p == 0.5 for d in drops)
    x = torch.randn(6, 40, generator=generator(0))
    net.eval()
    assert torch.equal(net(x), net(x))  # no dropout in eval mode
    net.train()
    assert not torch.equal(net(x), net(x))
    assert torch.equal(convnet(seed=3)[1].weight, convnet(seed=3)[1].weight)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"activation": "sigmoid"}, "activation"),
        ({"channels": 0}, "channels"),
        ({"classifier": 0}, "classifier"),
        ({"classifier": 8, "dropout": 1.0}, "dropout"),
        ({"classifier": 8, "dropout": -0.1}, "dropout"),
        ({"dropout": 0.5}, "classifier"),
    ],
)
def test_convnet_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        convnet(**kwargs)


# --- epochs to a training error ---------------------------------------------------------------


def _half_ones(n=64):
    """Labels half 0, half 1; a model that always says 0 is wrong on exactly half."""
    x = torch.randn(n, 40, generator=generator(0))
    y = torch.tensor([0, 1] * (n // 2))
    return Dataset("toy", x, y, x[:8], y[:8], 10)


def _always_zero():
    model = nn.Linear(40, 10)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
        model.bias[0] = 100.0
    return model


def test_running_error_is_the_mean_over_the_last_epoch_of_minibatches():
    data = _half_ones()
    # 4 steps per epoch; after the first full epoch the window holds every example once
    run = epochs_to_error(_always_zero, data, lr=1e-12, target=0.6, batch_size=16, device="cpu")
    assert run.epochs == 1.0 and not run.diverged
    assert [round(e, 4) for e, _ in run.curve] == [0.25, 0.5, 0.75, 1.0]
    assert run.curve[-1][1] == pytest.approx(0.5)
    never = epochs_to_error(
        _always_zero, data, lr=1e-12, target=0.4, batch_size=16, max_epochs=3, device="cpu"
    )
    assert math.isinf(never.epochs) and len(never.curve) == 12
    # at every epoch boundary the window holds exactly one epoch: every example once
    assert [never.curve[i][1] for i in (3, 7, 11)] == pytest.approx([0.5, 0.5, 0.5])


def test_epochs_to_error_learns_an_easy_task_and_is_deterministic():
    g = generator(1)
    x = torch.randn(200, 40, generator=g)
    y = (x[:, 0] > 0).long()
    data = Dataset("easy", x, y, x[:20], y[:20], 10)

    def make():
        torch.manual_seed(0)
        return nn.Linear(40, 10)

    a = epochs_to_error(make, data, lr=0.1, target=0.1, batch_size=20)
    b = epochs_to_error(make, data, lr=0.1, target=0.1, batch_size=20)
    assert 1.0 <= a.epochs < 20
    assert a.curve[-1][1] <= 0.1
    assert a.epochs == b.epochs and a.curve == b.curve


def test_epochs_to_error_reports_divergence():
    data = _half_ones()

    def exploding():
        model = nn.Linear(40, 10)
        with torch.no_grad():
            model.weight.fill_(1e38)
        return model

    run = epochs_to_error(exploding, data, lr=1e30, batch_size=16, max_epochs=2)
    assert run.diverged and math.isinf(run.epochs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"lr": 0.0}, "learning rate"),
        ({"lr": 0.1, "target": 1.0}, "target"),
        ({"lr": 0.1, "max_epochs": 0}, "max_epochs"),
        ({"lr": 0.1, "momentum": 1.0}, "momentum"),
    ],
)
def test_epochs_to_error_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        epochs_to_error(_always_zero, _half_ones(), **kwargs)


def test_median():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([1.0, math.inf, 2.0]) == 2.0
    with pytest.raises(ValueError, match="values"):
        median([])


# --- grouped convolutions ---------------------------------------------------------------------


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("dims", [1, 2])
def test_split_conv_equals_grouped_convolution(groups, dims):
    torch.manual_seed(groups)
    conv_type = nn.Conv1d if dims == 1 else nn.Conv2d
    conv = conv_type(8, 12, 3, stride=2, padding=1, dilation=1, groups=groups).double()
    shape = (3, 8, 11) if dims == 1 else (3, 8, 11, 9)
    x = torch.randn(*shape, generator=generator(groups), dtype=torch.float64)
    assert torch.allclose(split_conv(x, conv), conv(x), atol=1e-12)
    assert torch.allclose(split_conv(x, conv), conv(x), atol=1e-12)  # a second call


def test_split_conv_without_bias_and_with_dilation():
    conv = nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2, bias=False).double()
    x = torch.randn(2, 4, 7, 7, generator=generator(3), dtype=torch.float64)
    assert torch.allclose(split_conv(x, conv), conv(x), atol=1e-12)


def test_split_conv_halves_see_only_their_own_channels():
    conv = nn.Conv1d(4, 4, 1, groups=2, bias=False)
    x = torch.randn(1, 4, 5, generator=generator(4))
    y = split_conv(x, conv)
    x2 = x.clone()
    x2[:, 2:] = 0.0  # silence the second GPU's input
    y2 = split_conv(x2, conv)
    assert torch.equal(y[:, :2], y2[:, :2])  # the first GPU's output is unchanged
    assert not torch.equal(y[:, 2:], y2[:, 2:])


def test_split_conv_rejects_bad_arguments():
    with pytest.raises(ValueError, match="conv"):
        split_conv(torch.zeros(1, 4, 5), nn.Linear(4, 4))
    with pytest.raises(ValueError, match="conv"):
        split_conv(torch.zeros(1, 4, 5), nn.Conv1d(4, 4, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(ValueError, match="x must"):
        split_conv(torch.zeros(1, 3, 5), nn.Conv1d(4, 4, 3, groups=2))
    with pytest.raises(ValueError, match="x must"):
        split_conv(torch.zeros(1, 4, 5, 5), nn.Conv1d(4, 4, 3, groups=2))


def test_alexnet_convolutions_halve_the_grouped_layers():
    split, single = alexnet_convolutions(2), alexnet_convolutions(1)
    for i, (a, b) in enumerate(zip(split, single)):
        k = a.kernel_size[0] * a.kernel_size[1]
        assert a.weight.numel() == k * a.out_channels * a.in_channels // a.groups
        if i in (1, 3, 4):
            assert a.groups == 2 and a.weight.numel() * 2 == b.weight.numel()
        else:
            assert a.groups == 1 and a.weight.numel() == b.weight.numel()
    assert [c.out_channels for c in split] == [96, 256, 384, 384, 256]
    with pytest.raises(ValueError, match="groups"):
        alexnet_convolutions(3)
