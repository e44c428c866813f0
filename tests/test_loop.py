"""The one training loop: devices, seeds, history, divergence, checkpoints and resume."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell import checkpoint
from nutshell.data import generator
from nutshell.training.loop import History, accuracy, evaluate, fit


def _data(n=96, seed=0):
    gen = generator(seed)
    x = torch.randn(n, 5, generator=gen)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return x, y


def _model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 2))


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def test_fit_learns_and_records_history():
    x, y = _data()
    model = _model()
    hist = fit(model, (x, y), epochs=20, lr=0.5, batch_size=16, test=(x, y), device="cpu")
    assert hist.epochs == 20 and hist.steps == 20 * 6
    assert len(hist.loss) == len(hist.accuracy) == len(hist.test_accuracy) == 20
    assert len(hist.step_loss) == hist.steps
    assert hist.loss[-1] < hist.loss[0]
    assert hist.test_accuracy[-1] > 0.9
    assert evaluate(model, (x, y))[1] == pytest.approx(hist.test_accuracy[-1])


def test_fit_is_reproducible_with_a_seed():
    x, y = _data()
    runs = []
    for _ in range(2):
        model = _model(dropout=0.3)
        fit(model, (x, y), epochs=3, lr=0.1, batch_size=10, seed=7, device="cpu")
        runs.append(_params(model))
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    other = _model(dropout=0.3)
    fit(other, (x, y), epochs=3, lr=0.1, batch_size=10, seed=8, device="cpu")
    assert not all(torch.equal(a, b) for a, b in zip(runs[0], _params(other)))


def test_callback_and_max_steps_stop_training():
    x, y = _data()
    seen = []
    hist = fit(
        _model(),
        (x, y),
        epochs=50,
        batch_size=16,
        device="cpu",
        callback=lambda step, model, loss: seen.append(step) or step == 9,
    )
    assert hist.steps == 9 and seen == list(range(1, 10))
    hist = fit(_model(), (x, y), epochs=50, batch_size=16, device="cpu", max_steps=13)
    assert hist.steps == 13 and hist.epochs == 3


def test_divergence_names_the_step():
    x = torch.randn(64, 5, generator=generator(0))
    y = x.sum(1, keepdim=True)
    model = nn.Linear(5, 1)  # lr 10 on a quadratic loss: every step overshoots, then overflow
    with pytest.raises(FloatingPointError, match=r"at step \d+ \(epoch \d+, batch \d+\)"):
        fit(model, (x, y), epochs=100, lr=10.0, loss_fn=F.mse_loss, batch_size=16, device="cpu")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": -1}, "epochs must be an int >= 0"),
        ({"epochs": 1.5}, "epochs must be an int >= 0"),
        ({"epochs": 1, "batch_size": 0}, "batch_size must be an int >= 1"),
        ({"epochs": 1, "max_steps": 0}, "max_steps must be None or an int >= 1"),
        ({"epochs": 1, "device": "tpu"}, "device='tpu'"),
    ],
)
def test_invalid_arguments(kwargs, match):
    x, y = _data()
    with pytest.raises(ValueError, match=match):
        fit(_model(), (x, y), **kwargs)


def test_mismatched_data():
    x, y = _data()
    with pytest.raises(ValueError, match="differ in length: 96 vs 95"):
        fit(_model(), (x, y[:-1]), epochs=1)


@pytest.mark.parametrize("stop_after", [1, 2, 4])
def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path, stop_after):
    x, y = _data()
    options = dict(epochs=5, lr=0.2, batch_size=16, seed=3, device="cpu")

    def make():
        model = _model(dropout=0.5)
        opt = lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9)  # noqa: E731
        sched = lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)  # noqa: E731
        return model, opt, sched

    model, opt, sched = make()
    full = fit(model, (x, y), optimizer=opt, scheduler=sched, **options)
    expected = _params(model)

    path = tmp_path / "run.pt"
    model, opt, sched = make()
    fit(
        model,
        (x, y),
        optimizer=opt,
        scheduler=sched,
        checkpoint_path=path,
        **dict(options, epochs=stop_after),
    )
    # a fresh process would rebuild the model from scratch: do the same
    model, opt, sched = make()
    torch.manual_seed(12345)  # whatever the global generator holds, resume restores it
    resumed = fit(model, (x, y), optimizer=opt, scheduler=sched, checkpoint_path=path, **options)
    assert all(torch.equal(a, b) for a, b in zip(expected, _params(model)))
    assert resumed.step_loss == full.step_loss
    assert resumed.epochs == 5


def test_checkpoints_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    checkpoint.save({"a": torch.ones(2)}, path)

    def crash(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save({"a": torch.zeros(2)}, path)
    monkeypatch.undo()
    assert torch.equal(checkpoint.load(path)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind


def test_checkpoints_load_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"f": math.sqrt}, path)  # a pickled function: refused by weights_only=True
    with pytest.raises(Exception, match="[Ww]eights only"):
        checkpoint.load(path)


def test_history_round_trip_and_accuracy():
    h = History(loss=[1.0], accuracy=[0.5], step_loss=[1.0, 0.9], epochs=1, steps=2)
    assert History.from_dict(h.to_dict()) == h
    scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(scores, torch.tensor([1, 0, 0])) == pytest.approx(2 / 3)


def test_regression_targets_have_no_accuracy():
    x = torch.randn(32, 5, generator=generator(0))
    y = x.sum(1, keepdim=True)
    model = nn.Linear(5, 1)
    hist = fit(model, (x, y), epochs=2, loss_fn=F.mse_loss, test=(x, y), device="cpu")
    assert math.isnan(hist.accuracy[0]) and math.isnan(hist.test_accuracy[0])
