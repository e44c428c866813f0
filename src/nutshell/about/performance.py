# ---
# jupyter:
#   nutshell:
#     exclusive: true
# ---

# %% [markdown]
# # Performance: the from-scratch code against PyTorch's
#
# *Not a section of the article: how fast the site's own implementations are, measured when the
# site was built.*
#
# Every from-scratch piece on this site is checked against PyTorch for *correctness* in its
# tests. This page checks what it costs to write them in plain PyTorch: each one is timed against
# PyTorch's own implementation **in the same run, on the same machine, interleaved**, so the
# ratios are meaningful even on a busy machine where the absolute times are not. The absolute
# times are shown for context; only ratios are compared, and the bounds asserted are loose,
# because the build machine is shared (the targets the project works to are tighter: 1.2x for the
# optimisers and 1.5x for back-propagation).

# %%
from __future__ import annotations

from nutshell.history.reverse_mode import (
    Counted,
    count_operations,
    forward_gradient,
    random_expression,
    reverse_gradient,
)


def reverse_mode_costs(sizes: list[int], ops_per_input: int = 8) -> list[dict]:
    """Operations of one evaluation and of both gradients, for random programs of n inputs."""
    rows = []
    for n in sizes:
        f = random_expression(n, ops_per_input * n, seed=n)
        xs = [Counted(0.1 * ((7 * k) % 11) - 0.5) for k in range(n)]
        evaluation = count_operations(lambda f=f, xs=xs: f(xs))
        reverse = count_operations(lambda f=f, xs=xs: reverse_gradient(f, xs))
        forward = count_operations(lambda f=f, xs=xs: forward_gradient(f, xs))
        rows.append(
            {
                "n": n,
                "evaluation": evaluation,
                "reverse": reverse / evaluation,
                "forward": forward / evaluation,
            }
        )
    return rows


# %% [markdown]
# ## Optimisers: one step on 10 million parameters
#
# The from-scratch [SGD](../training/sgd.md), [momentum and Nesterov](../training/momentum.md) and
# [RMSprop](../training/rmsprop.md) against `torch.optim`'s default implementation, on the
# parameters of a 2048-2048-2048-1024 perceptron (10.5 million numbers), with fixed gradients.

# %% active="ipynb"
# from nutshell import figures
# from nutshell.bench import backprop as backprop_bench
# from nutshell.bench import optimizers as optimizer_bench
# from nutshell.claims import claim
# from nutshell.device import default_device, describe
#
# device = default_device()
# rows = optimizer_bench.run(device=device, repeats=11)
# print(f"{rows[0]['parameters']:,} parameters on {describe(device)}")
# for r in rows:
#     print(f"{r['case']:30} ours {r['ours_ms']:7.2f} ms   torch {r['torch_ms']:7.2f} ms   "
#           f"ratio {r['ratio']:.2f}   largest difference {r['max_difference']:.1e}")
# worst = max(rows, key=lambda r: r["ratio"])
#
# fig, ax = figures.subplots(
#     title=f"From-scratch optimisers step within {worst['ratio']:.2f}x of torch.optim", width=7
# )
# names = [r["case"] for r in rows]
# ax.barh(names, [r["ratio"] for r in rows], color=figures.color("manual"))
# ax.axvline(1.0, color=figures.color("baseline"), ls=":")
# ax.invert_yaxis()
# ax.set(xlabel="step time, ours / torch.optim (1 = as fast)")
# claim(
#     "every from-scratch optimiser steps about as fast as torch.optim",
#     measured=f"worst {worst['ratio']:.2f}x ({worst['case']}); results "
#     + ("agree" if all(r["same_result"] for r in rows) else "differ: " + ", ".join(
#         f"{r['case']} by {r['max_difference']:.1e}" for r in rows if not r["same_result"])),
#     expected="< 1.5x (target 1.2x), same parameters within 1e-5 relative",
#     holds=worst["ratio"] < 1.5 and all(r["same_result"] for r in rows),
# )

# %% [markdown]
# ## Back-propagation by the article's rules against autograd
#
# Forward and backward through a 784-512-512-10 perceptron, batch 128, with the
# [manual back-propagation](../training/backprop.md) and with autograd.

# %% active="ipynb"
# bp = backprop_bench.run(device, rounds=3, min_run_time=0.3)
# print(f"{bp['device']}: rules {bp['manual_s'] * 1e3:.2f} ms, autograd "
#       f"{bp['autograd_s'] * 1e3:.2f} ms per forward+backward, ratio {bp['ratio']:.2f}")
# claim(
#     "back-propagation by the rules runs about as fast as autograd",
#     measured=f"{bp['ratio']:.2f}x",
#     expected="< 1.5x",
#     holds=bp["ratio"] < 1.5,
# )

# %% [markdown]
# ## Reverse mode: what a gradient costs, in operations
#
# [Reverse-mode differentiation](../history/reverse_mode.md) needs one recorded evaluation and
# one backward sweep, whatever the number of inputs; forward mode needs one pass per input.
# Counting operations (not seconds) makes this exact and machine-independent.

# %% active="ipynb"
# costs = reverse_mode_costs([1, 4, 16, 64])
# for c in costs:
#     print(f"n = {c['n']:3d}: evaluation {c['evaluation']:5,d} ops; reverse gradient "
#           f"{c['reverse']:.2f}x, forward gradient {c['forward']:.1f}x one evaluation")
# claim(
#     "the reverse gradient costs a constant multiple of one evaluation; forward mode grows with n",
#     measured=f"reverse {min(c['reverse'] for c in costs):.1f}-"
#     f"{max(c['reverse'] for c in costs):.1f}x, forward up to {costs[-1]['forward']:.0f}x",
#     expected="reverse < 6x at every n; forward > n/2 at n = 64",
#     holds=max(c["reverse"] for c in costs) < 6 and costs[-1]["forward"] > 32,
# )

# %% [markdown]
# ## How long each page took to build
#
# Wall-clock seconds of each page's last execution (cached pages keep the time of the run that
# produced them), slowest first, and the device it ran on.
#
# <!-- nutshell:timings -->
