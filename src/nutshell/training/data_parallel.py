# ---
# jupyter:
#   nutshell:
#     exclusive: true
# ---

# %% [markdown]
# # Data parallelism: one training loop on many workers
#
# *Builds on the article's **Training (训练)** and its history of the GPU (图形处理单元): not a
# glossary entry of the article, but what its "1000 times faster" story became once one processor
# was no longer enough.*
#
# The article's history turns on speed: faster computers and then GPUs made networks about a
# thousand times faster within ten years, and that is what let [Ciresan and colleagues](../history/gpu_era.md)
# and then [AlexNet](../history/alexnet.md) train big networks from random weights. When one
# processor is still too slow, the next step is to use several at once. The simplest way, and the
# one that trains most large networks today, is **data parallelism** (数据并行): every worker holds
# a full copy of the network, each one computes the gradient on its own slice of the minibatch,
# the workers average their gradients, and every copy takes the same step.
#
# This page shows why that is not an approximation but the same computation, builds the
# **all-reduce** that does the averaging from scratch, and runs the site's own training loop,
# [`fit`](loop.md), on several processes with PyTorch's `DistributedDataParallel`, checking that
# the weights come out equal to one process training on the same batches, and measuring what it
# gains in speed on the machine that built this page.
#
# History, briefly. AlexNet (Krizhevsky, Sutskever & Hinton 2012) already trained on two GPUs, but
# by splitting the *network*: half of each layer's feature maps lived on each GPU (model
# parallelism; the [AlexNet page](../history/alexnet.md) writes that split as a grouped
# convolution). Dean et al. 2012 (*Large scale distributed deep networks*, the DistBelief system)
# trained on thousands of CPU cores with *asynchronous* data parallelism: workers sent gradients to
# parameter servers without waiting for each other, so each gradient was computed on slightly old
# weights. Krizhevsky 2014 (*One weird trick for parallelizing convolutional neural networks*)
# used data parallelism for the convolutional layers across GPUs. The synchronous version on this
# page, where every step waits for every worker, became the standard after Goyal et al. 2017
# (*Accurate, large minibatch SGD: training ImageNet in 1 hour*) trained a ResNet-50 on 256 GPUs
# with a global batch of 8,192, and PyTorch's implementation is described by Li et al. 2020
# (*PyTorch Distributed: experiences on accelerating data parallel training*).
#
# ## Why the average of the workers' gradients is the big batch's gradient
#
# The loss of a minibatch $B$ is the mean of its examples' losses. Split $B$ into $W$ disjoint
# shards $S_1, \dots, S_W$ of sizes $b_1, \dots, b_W$, one per worker, and group the sum by shard:
#
# $$
# \nabla L_B = \frac{1}{|B|} \sum_{i \in B} \nabla \ell_i
# = \sum_{r=1}^{W} \frac{b_r}{|B|} \underbrace{\frac{1}{b_r} \sum_{i \in S_r} \nabla \ell_i}_{\nabla L_{S_r}}
# = \frac{1}{W} \sum_{r=1}^{W} \frac{W b_r}{|B|} \nabla L_{S_r} .
# $$
#
# With equal shards the weight $W b_r / |B|$ is 1 and the batch gradient is the plain average of
# the workers' gradients, which is exactly what `DistributedDataParallel` computes. When the batch
# does not divide evenly (the last batch of an epoch, say), `fit` multiplies each worker's loss by
# $W b_r / |B|$ before the backward pass, so the average is still exact. Two consequences follow:
#
# - $W$ workers with $b$ examples each are **one** step with a batch of $Wb$, not $W$ steps with
#   batches of $b$: the learning rate must suit the global batch (Goyal et al.'s "linear scaling
#   rule" raises it in proportion to the batch, after a warm-up);
# - whatever is computed *per example* is unchanged, but what is computed *per batch* on each
#   worker is not: batch normalisation's statistics are per worker unless synchronised, and each
#   worker draws its own dropout masks (`fit` seeds worker $r$ with `seed + r`).
#
# The function below computes each worker's weighted shard gradient, so that their plain average
# can be checked against autograd's gradient of the whole batch.

# %%
from __future__ import annotations

import torch
from torch import nn


def shard_gradients(
    model: nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor, workers: int
) -> list[torch.Tensor]:
    r"""Each worker's gradient on its slice of the batch, as one flat vector per worker.

    Worker $r$ gets the $r$-th of ``workers`` contiguous slices (sizes differ by at most one)
    and returns $\frac{W b_r}{|B|}\nabla L_{S_r}$, so that the mean of the returned vectors
    is the gradient of the whole batch's mean loss.

    Raises:
        ValueError: when ``workers`` is not an int in [1, len(x)].
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= len(x):
        raise ValueError(
            f"workers must be an int in [1, {len(x)}] (the batch size), got {workers!r}"
        )
    params = [p for p in model.parameters() if p.requires_grad]
    grads = []
    for xs, ys in zip(x.tensor_split(workers), y.tensor_split(workers)):
        loss = loss_fn(model(xs), ys) * (workers * len(xs) / len(x))
        grads.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)]))
    return grads


# %% [markdown]
# ## The all-reduce, from scratch
#
# After the backward pass every worker holds one gradient vector of $N$ numbers, and every worker
# needs the sum of all of them: that operation is an **all-reduce**. The obvious way, everybody
# sends everything to everybody, moves $(W-1)N$ numbers out of each worker, which grows with the
# number of workers. The **ring all-reduce** (Patarasuk & Yuan 2009, *Bandwidth optimal all-reduce
# algorithms for clusters of workstations*; brought to deep learning by Baidu in 2017 and by
# Horovod, Sergeev & Del Balso 2018) arranges the workers in a ring and cuts every vector into
# $W$ chunks:
#
# 1. **reduce-scatter**, $W-1$ rounds: in round $s$, worker $r$ sends its running sum of chunk
#    $(r - s) \bmod W$ to worker $r+1$, which adds it to its own copy of that chunk. Afterwards
#    worker $r$ holds the complete sum of chunk $(r+1) \bmod W$;
# 2. **all-gather**, $W-1$ more rounds: the complete chunks travel once around the ring, each
#    worker overwriting its copy, until everyone has every summed chunk.
#
# Each worker sends one chunk of $N/W$ numbers per round, $2(W-1)$ rounds in all: $2\frac{W-1}{W}N$
# numbers, less than twice the gradient however many workers there are. That is why adding workers
# costs little extra communication per worker, and why the bandwidth between neighbours, not the
# number of workers, bounds the step time. PyTorch's gloo and NCCL backends use this algorithm
# among others.
#


# %%
def ring_all_reduce(vectors: list[torch.Tensor]) -> tuple[list[torch.Tensor], int]:
    r"""Sum ``vectors`` (one per worker) with a ring all-reduce.

    Returns every worker's copy of the sum, and how many numbers each worker sent
    ($2\frac{W-1}{W}N$ when $W$ divides $N$). The inputs are not modified.

    Raises:
        ValueError: when ``vectors`` is empty or the vectors differ in shape.
    """
    if not vectors:
        raise ValueError("vectors must hold at least one tensor (one per worker), got none")
    shape = vectors[0].shape
    for r, v in enumerate(vectors):
        if v.shape != shape:
            raise ValueError(f"vectors[{r}] has shape {tuple(v.shape)}, vectors[0] {tuple(shape)}")
    w = len(vectors)
    # each worker's vector, cut into W chunks (views into a private copy)
    chunks = [list(v.detach().clone().reshape(-1).tensor_split(w)) for v in vectors]
    sent = [0] * w
    # reduce-scatter: in round s, worker r adds its chunk (r - s) into worker r + 1's copy
    for s in range(w - 1):
        messages = [(r, (r - s) % w, chunks[r][(r - s) % w].clone()) for r in range(w)]
        for r, c, payload in messages:
            chunks[(r + 1) % w][c] += payload
            sent[r] += payload.numel()
    # all-gather: worker r owns the full sum of chunk (r + 1); pass the sums around the ring
    for s in range(w - 1):
        messages = [(r, (r + 1 - s) % w, chunks[r][(r + 1 - s) % w].clone()) for r in range(w)]
        for r, c, payload in messages:
            chunks[(r + 1) % w][c].copy_(payload)
            sent[r] += payload.numel()
    sums = [torch.cat(cs).reshape(shape) for cs in chunks]
    return sums, max(sent)


# %% [markdown]
# ## Demo 1: the same gradient, however the batch is split
#
# A batch of 100 handwritten digits and a small perceptron: autograd's gradient of the whole batch
# against the ring-averaged shard gradients of 1 to 8 workers. With 3, 6, 7 and 8 workers the
# shards are unequal, so the weighting above is doing real work.

# %% active="ipynb"
# import os
#
# import torch.nn.functional as F
#
# from nutshell import figures
# from nutshell.claims import claim
# from nutshell.data import digits
#
# data = digits(device="cpu")
# torch.manual_seed(0)
# model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
# x, y = data.x_train[:100], data.y_train[:100]
# params = list(model.parameters())
# whole = torch.cat([g.reshape(-1) for g in torch.autograd.grad(F.cross_entropy(model(x), y), params)])
# n = whole.numel()
#
# errors, traffic = {}, {}
# for w in range(1, 9):
#     sums, sent = ring_all_reduce(shard_gradients(model, F.cross_entropy, x, y, w))
#     errors[w] = max((s / w - whole).abs().max().item() for s in sums)
#     traffic[w] = sent
#     print(f"{w} workers: largest difference from the whole batch {errors[w]:.1e}; "
#           f"each sent {sent:,} numbers ({sent / n:.2f} gradients)")
# worst = max(errors.values())
# claim(
#     "the average of the workers' (weighted) gradients is the whole batch's gradient, for 1 to 8 workers",
#     measured=f"largest difference {worst:.1e} (gradient entries up to {whole.abs().max():.2f})",
#     expected="< 1e-6",
#     holds=worst < 1e-6,
# )
# bound = {w: 2 * (w - 1) / w * n for w in traffic}
# claim(
#     "a ring all-reduce sends 2(W-1)/W gradients per worker: under 2, however many workers",
#     measured=", ".join(f"W={w}: {traffic[w] / n:.3f}" for w in traffic),
#     expected="2(W-1)/W, rounded up to whole chunks",
#     holds=all(bound[w] <= traffic[w] <= bound[w] + 2 * (w - 1) and traffic[w] < 2 * n for w in traffic),
# )

# %% [markdown]
# The cost of the naive exchange, everyone sending the whole gradient to everyone, grows with the
# workers; the ring's does not:

# %% active="ipynb"
# fig, ax = figures.subplots(
#     title="A ring all-reduce sends under 2 gradients per worker, however many workers", width=6
# )
# ws = list(traffic)
# ax.plot(ws, [traffic[w] / n for w in ws], "o-", color=figures.color("ours"), label="ring (measured)")
# ax.plot(ws, [w - 1 for w in ws], "s--", color=figures.color("baseline"), label="everyone to everyone")
# ax.axhline(2, color="grey", lw=0.8, ls=":")
# ax.set(xlabel="workers $W$", ylabel="numbers sent per worker / gradient size")
# ax.legend()

# %% [markdown]
# ## Demo 2: `fit` on several processes
#
# `fit` needs no change to run data-parallel. Started under `torchrun`, each process finds its
# rank in the environment; `fit` joins the process group (gloo on the CPU, NCCL on GPUs), wraps the
# model in `DistributedDataParallel`, gives each rank its slice of every global batch, adds up the
# ranks' losses and accuracies so every rank records the same history, and lets only rank 0 write
# checkpoints and print. The job below is an ordinary script around `fit`
# ([`nutshell.bench.data_parallel`](../reference/bench.data_parallel.md)); on a machine with
# four GPUs the same script runs as
#
# ```console
# torchrun --nproc_per_node 4 -m nutshell.bench.data_parallel --device cuda --out run
# ```
#
# Here it runs on CPU processes that talk through gloo on `127.0.0.1`, started with
# [`launch`][nutshell.distributed.launch], once with 1 process and once with 2 (and 4 when the
# machine has 4 cores), each time training a 64-512-512-10 perceptron on 1,280 digits for 10
# epochs at three global batch sizes (the tanh perceptron of the [GPU-era page](../history/gpu_era.md)). The test suite checks more: a checkpoint written by rank 0
# alone, a rank that crashes stopping the whole run with its error, and a resumed run ending where
# an uninterrupted one does (`tests/test_distributed.py`).

# %% active="ipynb"
# import json
# import tempfile
# from pathlib import Path
#
# from nutshell.distributed import launch
#
# cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
# counts = [1, 2, 4] if cores >= 4 else [1, 2]
# batches = [64, 256, 1280]
# job = ["--epochs", "10", "--hidden", "512", "--depth", "2", "--examples", "1280",
#        "--batch-size", *map(str, batches)]
# results, weights = {}, {}
# with tempfile.TemporaryDirectory() as tmp:
#     for p in counts:
#         out = Path(tmp) / f"p{p}"
#         launch("nutshell.bench.data_parallel", [*job, "--out", str(out)], nproc=p, timeout=300)
#         results[p] = {r["batch_size"]: r for r in json.loads((out / "result.json").read_text())["runs"]}
#         weights[p] = {b: torch.load(out / f"params-{b}.pt", weights_only=True) for b in batches}
#
# difference = {
#     (p, b): max((weights[p][b][k] - weights[1][b][k]).abs().max().item() for k in weights[1][b])
#     for p in counts[1:] for b in batches
# }
# for (p, b), d in difference.items():
#     acc = results[p][b]["history"]["test_accuracy"][-1]
#     print(f"{p} processes, batch {b:>4}: weights differ from 1 process by at most {d:.1e}; "
#           f"test accuracy {acc:.1%} (1 process: {results[1][b]['history']['test_accuracy'][-1]:.1%})")
# largest = max(difference.values())
# claim(
#     f"{' and '.join(map(str, counts[1:]))} processes train the same weights as 1 process, at every batch size",
#     measured=f"largest difference {largest:.1e}",
#     expected="< 1e-5 (float32 sums in a different order)",
#     holds=largest < 1e-5,
# )
# same_history = all(
#     abs(a - b) < 1e-5
#     for p in counts[1:] for bs in batches
#     for a, b in zip(results[p][bs]["history"]["step_loss"], results[1][bs]["history"]["step_loss"])
# )
# claim(
#     "every step's loss, added up over the ranks, is the one-process loss",
#     measured="all steps within 1e-5" if same_history else "some steps differ",
#     expected="within 1e-5",
#     holds=same_history,
# )
# speed = {p: {b: results[p][b]["examples_per_second"] for b in batches} for p in counts}
# for p in counts:
#     print(f"{p} process(es): " + ", ".join(f"batch {b}: {speed[p][b]:,.0f} examples/s" for b in batches))
# print(f"cores available: {cores}; load average while building: {os.getloadavg()[0]:.1f}")

# %% [markdown]
# Equal weights, and what they cost in time. The speed-up of $p$ processes is their examples per
# second over one process's, counted after the first epoch (which pays one-off start-up costs):

# %% active="ipynb"
# top = counts[-1]
# gain = {b: speed[top][b] / speed[1][b] for b in batches}
# claim(
#     f"the speed-up of {top} processes grows with the global batch (the exchange per step is fixed)",
#     measured=", ".join(f"batch {b}: {gain[b]:.2f}x" for b in batches),
#     expected=f"batch {batches[-1]} gains more than batch {batches[0]}",
#     holds=gain[batches[-1]] > gain[batches[0]],
# )
# fig, (left, right) = figures.subplots(
#     1, 2,
#     title=f"{top} processes train the same weights (within {largest:.0e}); their speed is "
#           f"{gain[batches[0]]:.1f}x one process's at batch {batches[0]}, {gain[batches[-1]]:.1f}x at {batches[-1]}",
# )
# for b in batches:
#     left.plot(counts, [speed[p][b] / speed[1][b] for p in counts], "o-", label=f"global batch {b}")
# left.plot(counts, counts, ":", color="grey", label="ideal")
# left.set(xlabel="processes", ylabel="speed-up over 1 process", xticks=counts)
# left.legend()
# b = batches[0]
# for p in counts:
#     right.plot(results[p][b]["history"]["step_loss"], lw=2.5 if p == 1 else 1,
#                ls="-" if p == 1 else "--", label=f"{p} process{'es' if p > 1 else ''}")
# right.set(xlabel=f"step (global batch {b})", ylabel="training loss", yscale="log")
# right.legend()

# %% [markdown]
# What the measurement says depends on the machine, and this page only reports it. Each step now
# has a fixed cost that one process did not pay: the gradient, 300,000 numbers here, goes through
# an all-reduce over TCP on every step. The arithmetic per step shrinks with the number of
# processes, the all-reduce does not, so the speed-up grows with the batch: at batch 64 each
# process does too little arithmetic to hide the exchange, at batch 1,280 it does more. On the
# 2-core machines that build this site, the test suite and other pages compete for the same two
# cores while this page runs, so its numbers are a floor. GPUs change the balance in both
# directions: the arithmetic gets much faster, and NCCL moves gradients between GPUs over NVLink
# at hundreds of GB/s. On the 16-core machine of the [Verified on GPU](../about/verified-gpu.md)
# report this page ran with 1, 2 and 4 processes, and its claims held there too; a run on several
# GPUs with NCCL has not been measured for this site.
#
# ## What to take away
#
# - Data parallelism splits every minibatch across workers that hold full copies of the network;
#   averaging their gradients gives exactly the gradient of the whole batch, so $W$ workers take
#   the step one worker would take with a batch $W$ times larger (set the learning rate for that).
# - The averaging is an all-reduce; the ring algorithm sends less than two gradients per worker
#   however many workers there are.
# - `fit` runs unchanged under `torchrun`: one process or several, CPU or GPUs, the weights come out
#   the same; whether it is *faster* depends on how much arithmetic each step gives each worker
#   against the cost of the exchange, and this page measures that instead of assuming it.
