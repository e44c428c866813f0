"""Collect every paired page under docs/ as a test (see nutshell.literate.pytest_plugin)."""

pytest_plugins = ["nutshell.literate.pytest_plugin"]


def pytest_configure(config):
    """With ``NUTSHELL_CUDA_LOG=path``, record which tests allocated CUDA memory (for reports)."""
    import os

    path = os.environ.get("NUTSHELL_CUDA_LOG")
    if path:
        config.pluginmanager.register(_CudaLog(path), "nutshell-cuda-log")


class _CudaLog:
    def __init__(self, path):
        self.path, self.used = path, []

    def pytest_runtest_call(self, item):
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def pytest_runtest_teardown(self, item):
        import torch

        if torch.cuda.is_available() and torch.cuda.max_memory_allocated() > 0:
            self.used.append(item.nodeid)

    def pytest_sessionfinish(self, session):
        import json

        with open(self.path, "w") as f:
            json.dump(self.used, f)
