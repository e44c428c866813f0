"""The optimizer benchmark runs and compares like with like (timings are not asserted)."""

from __future__ import annotations

import pytest

from nutshell.bench import optimizers


def test_optimizer_benchmark_in_a_tiny_configuration():
    rows = optimizers.run(width=16, repeats=2, warmup=1, device="cpu")
    assert [r["case"] for r in rows] == [case[0] for case in optimizers.CASES]
    for row in rows:
        assert row["parameters"] == 16 * 16 * 2 + 16 * 2 + 8 * 16 + 8
        assert row["same_result"], row["case"]  # both sides took the same steps
        assert row["ours_ms"] > 0 and row["torch_ms"] > 0
        assert row["ratio"] == pytest.approx(row["ours_ms"] / row["torch_ms"])


@pytest.mark.parametrize("kwargs", [{"width": 1}, {"repeats": 0}, {"warmup": -1}])
def test_optimizer_benchmark_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        optimizers.run(device="cpu", **kwargs)
