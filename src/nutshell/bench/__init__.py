"""Benchmarks of the from-scratch implementations against PyTorch's, measured in one run.

``python -m nutshell.bench.optimizers`` and ``python -m nutshell.bench.backprop`` print them;
the Performance page (``docs/about/performance.md``) runs them at build time.
"""
