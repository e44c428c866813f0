"""Data-parallel fit under torchrun (2 CPU processes, gloo on 127.0.0.1) and bf16 autocast."""

from __future__ import annotations

import contextlib
import json
import math
import os
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell import distributed
from nutshell.bench.data_parallel import train
from nutshell.distributed import Context, LaunchError, launch
from nutshell.training.loop import autocast, fit

JOB = "nutshell.bench.data_parallel"
# 1,000 examples in global batches of 63: 15 full batches, each split 32 + 31 between two
# ranks, and a last batch of 55 (28 + 27): the uneven shards test the loss weighting.
OPTIONS = {"epochs": 3, "batch_size": 63, "examples": 1000, "lr": 0.05, "momentum": 0.9}
TIMEOUT = 240


def _args(out, **options) -> list[str]:
    merged = {**OPTIONS, **options}
    args = ["--out", str(out)]
    for key, value in merged.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def _load(folder):
    """(trained parameters, result) of a one-batch-size run of the job."""
    params = torch.load(folder / f"params-{OPTIONS['batch_size']}.pt", weights_only=True)
    result = json.loads((folder / "result.json").read_text())
    (run,) = result["runs"]
    return params, {**result, **run}


def _max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.fixture(scope="module")
def single():
    """The job in this process: the reference the distributed runs must reproduce."""
    model, history, _ = train(**OPTIONS)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, history


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Two gloo processes, checkpointing every epoch, never interrupted."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    ckpt = folder / "ckpt"
    launch(JOB, _args(folder / "out", checkpoint=ckpt / "run.pt"), nproc=2, timeout=TIMEOUT)
    return folder, ckpt


def test_two_processes_train_what_one_process_trains(single, uninterrupted):
    params, history = single
    folder, _ = uninterrupted
    dist_params, result = _load(folder / "out")
    assert result["processes"] == 2
    assert _max_difference(params, dist_params) < 1e-5
    # the parameters moved: equality is not two untouched initialisations
    assert _max_difference(params, train(**{**OPTIONS, "epochs": 0})[0].state_dict()) > 0.1
    # metrics are reduced over ranks to the single-process values
    dist_history = result["history"]
    assert dist_history["steps"] == history.steps == 3 * 16
    for key in ("loss", "test_loss", "test_accuracy", "accuracy"):
        assert dist_history[key] == pytest.approx(getattr(history, key), abs=1e-5), key
    assert dist_history["step_loss"] == pytest.approx(history.step_loss, abs=1e-5)


def test_a_last_batch_smaller_than_the_processes_leaves_a_rank_empty_and_still_agrees(tmp_path):
    # 127 examples in batches of 63: the last batch has 1 example, so rank 1 gets none
    options = {**OPTIONS, "epochs": 2, "examples": 127}
    model, history, _ = train(**options)
    launch(JOB, _args(tmp_path, **options), nproc=2, timeout=TIMEOUT)
    params = torch.load(tmp_path / "params-63.pt", weights_only=True)
    result = json.loads((tmp_path / "result.json").read_text())["runs"][0]["history"]
    assert history.steps == result["steps"] == 2 * 3
    assert _max_difference(model.state_dict(), params) < 1e-5
    assert result["step_loss"] == pytest.approx(history.step_loss, abs=1e-5)


def test_only_rank_zero_writes_one_checkpoint(uninterrupted):
    _, ckpt = uninterrupted
    assert sorted(os.listdir(ckpt)) == ["run.pt"]  # no second copy, no leftover temporary file
    state = torch.load(ckpt / "run.pt", weights_only=True)
    assert state["history"]["epochs"] == 3
    assert len(state["rngs"]) == 2  # each rank's random state, for an exact resume


def test_a_crashed_rank_fails_the_run_and_a_resumed_run_ends_where_the_uninterrupted_did(
    tmp_path, uninterrupted
):
    ckpt = tmp_path / "ckpt" / "run.pt"
    # rank 1 raises in epoch 3 (step 40 of 48): torchrun must stop rank 0 and exit non-zero
    started = time.perf_counter()
    with pytest.raises(LaunchError) as failure:
        launch(
            JOB,
            _args(tmp_path / "out", checkpoint=ckpt, crash_rank=1, crash_step=40),
            nproc=2,
            timeout=TIMEOUT,
        )
    assert time.perf_counter() - started < TIMEOUT
    message = str(failure.value)
    assert failure.value.returncode not in (0, None)
    assert "rank 1 of 2 failed in epoch 3" in message and "simulated crash at step 40" in message
    assert not (tmp_path / "out").exists()  # rank 0 never finished
    state = torch.load(ckpt, weights_only=True)
    assert state["history"]["epochs"] == 2  # the last complete epoch
    assert sorted(os.listdir(ckpt.parent)) == ["run.pt"]

    launch(JOB, _args(tmp_path / "out", checkpoint=ckpt), nproc=2, timeout=TIMEOUT)
    resumed, result = _load(tmp_path / "out")
    expected, expected_result = _load(uninterrupted[0] / "out")
    assert _max_difference(resumed, expected) == 0.0
    assert result["history"] == expected_result["history"]


def test_a_global_batch_smaller_than_the_processes_is_refused(tmp_path):
    with pytest.raises(LaunchError, match=r"batch_size=1 is the global batch.*\(2\)"):
        launch(JOB, _args(tmp_path, batch_size=1, epochs=1), nproc=2, timeout=TIMEOUT)


def test_launch_kills_a_run_that_outlives_its_timeout():
    started = time.perf_counter()
    with pytest.raises(LaunchError, match="did not finish within 3 s"):
        launch("timeit", ["-n", "1", "import time; time.sleep(60)"], nproc=2, timeout=3)
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"nproc": 0}, "nproc must be an int >= 1"), ({"timeout": 0}, "timeout must be > 0")],
)
def test_launch_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        launch(JOB, **kwargs)


def test_one_process_context_is_the_identity(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    ctx = distributed.setup("cpu")
    assert (ctx.rank, ctx.world_size, ctx.distributed, ctx.is_main) == (0, 1, False, True)
    batch = torch.arange(7)
    assert torch.equal(ctx.shard(batch), batch)
    assert ctx.sum([1.5, 2]) == [1.5, 2.0]
    assert ctx.gather("x") == ["x"]


def test_shards_cover_the_batch_once_and_differ_by_at_most_one():
    batch = torch.randperm(55)
    shards = [Context(rank=r, world_size=3).shard(batch) for r in range(3)]
    assert [len(s) for s in shards] == [19, 18, 18]
    assert torch.equal(torch.cat(shards), batch)


def test_inconsistent_torchrun_variables_are_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "5")
    with pytest.raises(ValueError, match=r"RANK=5 must be in \[0, WORLD_SIZE=2\)"):
        distributed.setup("cpu")
    monkeypatch.setenv("RANK", "one")
    with pytest.raises(ValueError, match="RANK='one' must be an integer"):
        distributed.setup("cpu")


def test_failure_messages_name_the_rank():
    ours = "noise\nnutshell: rank 1 of 2 failed in epoch 1, batch 2: RuntimeError: boom\n"
    assert (
        distributed._why(ours)
        == "nutshell: rank 1 of 2 failed in epoch 1, batch 2: RuntimeError: boom"
    )
    theirs = "[rank0]: Traceback\n[rank0]:   File x\n[rank0]: ValueError: bad\n"
    assert distributed._why(theirs) == "rank 0: ValueError: bad"


# ---- mixed precision ------------------------------------------------------------------------


def _digits_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def _bf16_run(device):
    from nutshell.data import digits

    data = digits(device="cpu")
    dtypes = []
    model = _digits_mlp()
    model[0].register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
    hist = fit(model, data, epochs=8, lr=0.1, batch_size=32, device=device, precision="bf16")
    reference = _digits_mlp()
    ref = fit(reference, data, epochs=8, lr=0.1, batch_size=32, device=device)
    return model, hist, reference, ref, dtypes


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
        ),
    ],
)
def test_bf16_autocast_trains_as_well_with_fp32_weights(device):
    model, hist, reference, ref, dtypes = _bf16_run(device)
    assert set(dtypes) == {torch.bfloat16}  # the forward pass really ran in bf16
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights did not
    assert all(math.isfinite(v) for v in hist.step_loss)
    assert hist.test_accuracy[-1] > 0.9
    assert abs(hist.test_accuracy[-1] - ref.test_accuracy[-1]) < 0.03
    # bf16 rounding makes a different (not a worse) run: the weights are not fp32's
    assert (
        max((a - b).abs().max().item() for a, b in zip(model.parameters(), reference.parameters()))
        > 1e-4
    )


def test_fp32_is_the_default_and_uses_no_autocast():
    dtypes = []
    model = _digits_mlp()
    model[0].register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
    x, y = torch.randn(16, 64), torch.randint(0, 10, (16,))
    fit(model, (x, y), epochs=1, batch_size=8, device="cpu")
    assert set(dtypes) == {torch.float32}
    assert isinstance(autocast(torch.device("cpu")), contextlib.nullcontext)


@pytest.mark.parametrize("precision", ["fp16", "float32", None])
def test_unknown_precision_is_refused(precision):
    x, y = torch.randn(8, 64), torch.randint(0, 10, (8,))
    with pytest.raises(ValueError, match=r"precision must be one of 'fp32', 'bf16'"):
        fit(_digits_mlp(), (x, y), epochs=1, device="cpu", precision=precision)


def test_bf16_loss_matches_an_explicit_autocast_forward():
    x, y = torch.randn(32, 64), torch.randint(0, 10, (32,))
    model = _digits_mlp()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = F.cross_entropy(model(x), y).float().item()
    hist = fit(model, (x, y), epochs=1, batch_size=32, lr=0.0, device="cpu", precision="bf16")
    assert hist.step_loss[0] == pytest.approx(expected, rel=1e-6)
