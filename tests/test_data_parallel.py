"""The data-parallel page's from-scratch pieces against autograd and a plain sum."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nutshell.data import generator
from nutshell.training.data_parallel import ring_all_reduce, shard_gradients


def _vectors(workers, n, seed=0, dtype=torch.float32, shape=None):
    gen = generator(seed)
    return [torch.randn(shape or (n,), generator=gen, dtype=dtype) for _ in range(workers)]


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("n", [1, 5, 12, 1001])
def test_ring_all_reduce_gives_every_worker_the_sum(workers, n):
    vectors = _vectors(workers, n, seed=workers * 1000 + n)
    before = [v.clone() for v in vectors]
    sums, sent = ring_all_reduce(vectors)
    expected = torch.stack(vectors).sum(0)  # what dist.all_reduce(op=SUM) leaves on each rank
    assert len(sums) == workers
    for s in sums:
        torch.testing.assert_close(s, expected, rtol=1e-6, atol=1e-6)
    for v, b in zip(vectors, before):  # inputs untouched
        assert torch.equal(v, b)
    # each worker sends 2(W-1) chunks of ceil(n/W) or floor(n/W) numbers
    assert 2 * (workers - 1) * (n // workers) <= sent <= 2 * (workers - 1) * -(-n // workers)
    assert sums[0].data_ptr() != vectors[0].data_ptr()


def test_ring_all_reduce_keeps_shape_dtype_and_repeats():
    vectors = _vectors(3, 0, seed=3, dtype=torch.float64, shape=(4, 5))
    first, sent = ring_all_reduce(vectors)
    second, sent_again = ring_all_reduce(vectors)  # a second call: no state carried over
    assert first[0].shape == (4, 5) and first[0].dtype == torch.float64
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    # 20 numbers in chunks of 7, 7, 6; each worker sends 4 chunks, the busiest 7 + 7 + 7 + 6
    assert sent == sent_again == 27
    torch.testing.assert_close(first[1], torch.stack(vectors).sum(0))


def test_traffic_is_bandwidth_optimal_when_the_chunks_are_even():
    for workers in (2, 4, 8):
        _, sent = ring_all_reduce(_vectors(workers, 800))
        assert sent == 2 * (workers - 1) * 800 // workers


@pytest.mark.parametrize(
    ("vectors", "match"),
    [
        ([], "vectors must hold at least one tensor"),
        ([torch.zeros(3), torch.zeros(4)], r"vectors\[1\] has shape \(4,\), vectors\[0\] \(3,\)"),
    ],
)
def test_ring_all_reduce_rejects_bad_input(vectors, match):
    with pytest.raises(ValueError, match=match):
        ring_all_reduce(vectors)


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 7), nn.Tanh(), nn.Linear(7, 3))


@pytest.mark.parametrize("batch", [9, 10, 31])
@pytest.mark.parametrize("workers", [1, 2, 3, 4, 9])
def test_shard_gradients_average_to_autograds_batch_gradient(batch, workers):
    gen = generator(batch)
    x, y = torch.randn(batch, 6, generator=gen), torch.randint(0, 3, (batch,), generator=gen)
    model = _net()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    grads = shard_gradients(model, F.cross_entropy, x, y, workers)
    assert len(grads) == workers
    torch.testing.assert_close(torch.stack(grads).mean(0), expected, rtol=1e-5, atol=1e-6)
    # and through the ring, as a worker would see it
    sums, _ = ring_all_reduce(grads)
    torch.testing.assert_close(sums[-1] / workers, expected, rtol=1e-5, atol=1e-6)
    # the unweighted mean differs when the shards are unequal: the weights matter
    if batch % workers and workers > 1:
        sizes = [len(s) for s in x.tensor_split(workers)]
        unweighted = torch.stack([g * len(x) / (workers * b) for g, b in zip(grads, sizes)]).mean(0)
        assert not torch.allclose(unweighted, expected, rtol=1e-5, atol=1e-6)


def test_shard_gradients_leave_the_parameters_and_their_grads_alone():
    model = _net()
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    first = shard_gradients(model, F.cross_entropy, x, y, 2)
    second = shard_gradients(model, F.cross_entropy, x, y, 2)
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    for p, b in zip(model.parameters(), before):
        assert torch.equal(p, b) and p.grad is None


@pytest.mark.parametrize("workers", [0, 9, 2.0, True, "2"])
def test_shard_gradients_reject_bad_worker_counts(workers):
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    with pytest.raises(ValueError, match=r"workers must be an int in \[1, 8\]"):
        shard_gradients(_net(), F.cross_entropy, x, y, workers)
